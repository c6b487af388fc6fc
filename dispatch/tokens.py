"""Driver app tokens and self-service tracking tokens: random, prefixed by kind, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

DRIVER_TOKEN_PREFIX = "d_"
TRACKING_TOKEN_PREFIX = "r_"


def new_driver_token() -> str:
    """Return a fresh random token for a driver's phone app."""
    return DRIVER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_driver_token(token: str) -> bool:
    """Tell whether a token has the driver prefix (so other kinds skip the database)."""
    return token.startswith(DRIVER_TOKEN_PREFIX)


def new_tracking_token() -> str:
    """Return a fresh random token with which a customer follows (and may cancel) one self-service ride."""
    return TRACKING_TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_tracking_token(token: str) -> bool:
    """Tell whether a token has the tracking prefix (so other kinds skip the database)."""
    return token.startswith(TRACKING_TOKEN_PREFIX)


def token_hash(token: str) -> bytes:
    """Hash a token for storage; sha256 suffices because the token is random, not chosen by a person."""
    return hashlib.sha256(token.encode()).digest()
