"""A small client of the service's own HTTP API, as the console and the PBX use it."""

from __future__ import annotations

from typing import Any

import aiohttp

Json = dict[str, Any]


class ApiError(Exception):
    """The service refused a request; `code` is the stable error code it sent."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Api:
    """Requests to one service as one principal (a staff token, or the PBX's shared secret)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, token: str | None = None,
                 pbx_secret: str | None = None) -> None:
        self.session, self.base_url = session, base_url.rstrip("/")
        self.headers: dict[str, str] = {}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"
        if pbx_secret is not None:
            self.headers["X-Taxicrm-Secret"] = pbx_secret

    async def call(self, method: str, path: str, body: Json | None = None, *,
                   params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Json:
        """Send one request and return its JSON body; raise ApiError on a 4xx or 5xx answer."""
        async with self.session.request(method, self.base_url + path, json=body, params=params,
                                        headers={**self.headers, **(headers or {})}) as response:
            payload: Json = await response.json(content_type=None) if response.content_length != 0 else {}
            if response.status >= 400:
                error = payload.get("error", {}) if isinstance(payload, dict) else {}
                raise ApiError(response.status, str(error.get("code", "http_error")),
                               str(error.get("message", response.reason)))
            return payload

    async def get(self, path: str, **params: str) -> Json:
        """GET a resource."""
        return await self.call("GET", path, params=params or None)

    async def post(self, path: str, body: Json | None = None, headers: dict[str, str] | None = None) -> Json:
        """POST to a resource."""
        return await self.call("POST", path, body, headers=headers)


async def log_in(session: aiohttp.ClientSession, base_url: str, username: str, password: str) -> Api:
    """Sign in as a staff account and return a client acting as it."""
    anonymous = Api(session, base_url)
    answer = await anonymous.post("/api/auth/login", {"username": username, "password": password})
    return Api(session, base_url, token=str(answer["token"]))
