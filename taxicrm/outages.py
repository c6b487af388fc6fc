"""What counts as PostgreSQL or Redis being away: an outage to answer as "try again shortly", not a bug."""

from __future__ import annotations

import asyncpg
import redis.exceptions

UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, redis.exceptions.ConnectionError,
               redis.exceptions.TimeoutError,
               # PostgreSQL shutting down, restarting or recovering from a crash refuses and ends sessions with these.
               asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.AdminShutdownError,
               asyncpg.exceptions.CrashShutdownError)
UNAVAILABLE_MESSAGE = "A server we depend on is unreachable; please try again shortly."
