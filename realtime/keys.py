"""Typed app keys for the realtime domain's resources."""

from __future__ import annotations

from aiohttp import web

from realtime.bus import RedisEventBus
from realtime.hub import Hub

BUS = web.AppKey("realtime_bus", RedisEventBus)
HUB = web.AppKey("realtime_hub", Hub)
