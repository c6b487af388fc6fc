"""Typed keys for the shared resources the composition root puts on the app and the request."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from taxicrm.auth import Authenticator, Principal
from taxicrm.events import Publisher
from taxicrm.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", asyncpg.Pool)
REDIS = web.AppKey("redis", aioredis.Redis)
PUBLISHER = web.AppKey("publisher", Publisher)
AUTHENTICATORS = web.AppKey("authenticators", list[Authenticator])
PRINCIPAL = web.RequestKey("principal", Principal)
