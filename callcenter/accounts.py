"""Rules for staff accounts: usernames, roles, passwords, extensions, session tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from callcenter.errors import InvalidAccount
from taxicrm.auth import STAFF_ROLES

STAFF_ROLE_NAMES = tuple(role.value for role in STAFF_ROLES)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
SESSION_TOKEN_PREFIX = "s_"
_USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
_EXTENSION = re.compile(r"^[0-9]{1,10}$")


def normalize_username(raw: str) -> str:
    """Usernames compare case-insensitively and ignore surrounding spaces."""
    return raw.strip().lower()


def check_new_account(username: str, role: str, password: str, extension: str | None) -> None:
    """Raise InvalidAccount naming the first rule a new account breaks."""
    if not _USERNAME.match(username):
        raise InvalidAccount("A username is 2 to 64 letters, digits, dots, dashes or underscores.")
    if role not in STAFF_ROLE_NAMES:
        raise InvalidAccount(f"The role must be one of: {', '.join(STAFF_ROLE_NAMES)}.")
    check_password(password)
    check_extension(extension)


def check_extension(extension: str | None) -> None:
    """Raise InvalidAccount unless the extension is 1 to 10 digits (or none)."""
    if extension is not None and not _EXTENSION.match(extension):
        raise InvalidAccount("An extension is 1 to 10 digits.")


def check_password(password: str) -> None:
    """Raise InvalidAccount if a new password is too short or too long."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidAccount(
            f"A password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long."
        )


def new_session_token() -> str:
    """Return a fresh random session token, prefixed so authenticators can tell token kinds apart."""
    return SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """Hash a high-entropy token for storage; sha256 suffices because the token is random, not chosen."""
    return hashlib.sha256(token.encode()).digest()
