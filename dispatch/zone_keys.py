"""Typed app keys for the zones' resources: the zone map and the rank queues."""

from __future__ import annotations

from aiohttp import web

from dispatch.zone_queue import ZoneQueues
from dispatch.zone_service import ZoneMap

ZONE_MAP = web.AppKey("dispatch_zone_map", ZoneMap)
ZONE_QUEUES = web.AppKey("dispatch_zone_queues", ZoneQueues)
