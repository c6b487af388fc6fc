"""Who is calling and what their role allows: principals, route permissions and the auth middleware."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from aiohttp import web

from taxicrm.errors import Forbidden, NotAuthenticated


class Role(StrEnum):
    """Every kind of caller the service knows."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    DRIVER = "driver"
    # A Prometheus scraper holding TAXICRM_METRICS_TOKEN; it may read /metrics and nothing else.
    METRICS = "metrics"
    # The center's PBX holding TAXICRM_WEBHOOK_SECRET; it may post call events and look up callers.
    PBX = "pbx"
    # A customer holding a self-service ride's tracking token (the principal's id is the ride's): they may
    # follow that one ride's news and nothing else.
    RIDER = "rider"


STAFF_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a staff user (by user id), a driver (by driver id) or a rider (by ride id)."""

    role: Role
    id: int
    name: str


class Authenticator(Protocol):
    """Finds the principal behind a request (cookie, bearer token...), or returns None."""

    async def __call__(self, request: web.Request) -> Principal | None:
        """Return the caller, or None if this authenticator does not recognise them."""


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])
_ROLES_ATTR = "__taxicrm_roles__"
PUBLIC = frozenset[Role]()


def allow(*roles: Role) -> Callable[[Handler], Handler]:
    """Let only these roles call the decorated handler."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _ROLES_ATTR, frozenset(roles))
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """Let anyone call the decorated handler (health checks, login)."""
    setattr(handler, _ROLES_ATTR, PUBLIC)
    return handler


def allowed_roles(handler: object) -> frozenset[Role] | None:
    """Return the roles a handler allows, PUBLIC for anyone, or None when it never said."""
    return getattr(handler, _ROLES_ATTR, None)


def authorize(principal: Principal | None, roles: frozenset[Role] | None) -> None:
    """Raise unless the principal may call a handler that allows `roles`.

    A handler that declares nothing is refused to everyone: forgetting a declaration must fail closed.
    """
    if roles is PUBLIC or roles == PUBLIC:
        return
    if principal is None:
        raise NotAuthenticated("Please log in first.")
    if roles is None or principal.role not in roles:
        raise Forbidden("Your role may not do this.")


def bearer_token(request: web.Request) -> str | None:
    """Return the token of an `Authorization: Bearer ...` header, if there is one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def shared_secret_authenticator(secret: str | None, role: Role, *, header: str | None = None) -> Authenticator:
    """Accept a machine (a scraper, the PBX) presenting `secret` as a bearer token or in `header`.

    With no secret configured, nothing is accepted: an unset secret must never mean "open".
    """

    async def authenticate(request: web.Request) -> Principal | None:
        offered = bearer_token(request) or (request.headers.get(header) if header else None)
        if secret and offered and hmac.compare_digest(offered.encode(), secret.encode()):
            return Principal(role=role, id=0, name=role.value)
        return None

    return authenticate
