"""Rating links: a token naming one ride and an expiry, signed so that nobody can make one for another ride.

The token is `f_` and the URL-safe base64 of the ride id (8 bytes), the expiry (4 bytes, Unix seconds) and the
first 16 bytes of their HMAC-SHA256 under the center's key: short enough for an SMS, and checked without a
database row per link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from datetime import UTC, datetime
from typing import Final

from feedback.errors import RatingLinkExpired, RatingLinkInvalid

PREFIX: Final = "f_"
_BODY = struct.Struct(">QI")
_SIGNATURE_BYTES: Final = 16
_ENCODED_LENGTH: Final = len(PREFIX) + 38  # 28 bytes in unpadded base64


def is_link_token(token: str) -> bool:
    """Tell whether a token has the rating link's prefix (others, like tracking tokens, go elsewhere)."""
    return token.startswith(PREFIX)


def sign_link(key: bytes, ride_id: int, expires_at: datetime) -> str:
    """Return a link token for `ride_id`, valid until `expires_at`."""
    body = _BODY.pack(ride_id, int(expires_at.timestamp()))
    raw = body + _signature(key, body)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_link(key: bytes, token: str, now: datetime) -> tuple[int, datetime]:
    """Return the ride a link token names and when it expires; raise if it is not ours or its time is up."""
    if len(token) != _ENCODED_LENGTH or not is_link_token(token):
        raise RatingLinkInvalid()
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX):] + "==")
    except (binascii.Error, ValueError):
        raise RatingLinkInvalid() from None
    body, signature = raw[:_BODY.size], raw[_BODY.size:]
    if len(signature) != _SIGNATURE_BYTES or not hmac.compare_digest(signature, _signature(key, body)):
        raise RatingLinkInvalid()
    ride_id, expires = _BODY.unpack(body)
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise RatingLinkExpired()
    return ride_id, expires_at


def _signature(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"rating-link:" + body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
