"""Typed app keys for dispatch's shared resources."""

from __future__ import annotations

from aiohttp import web

from dispatch.pricing import Pricer
from dispatch.runtime import DispatchRuntime

PRICER = web.AppKey("dispatch.pricer", Pricer)
RUNTIME = web.AppKey("dispatch.runtime", DispatchRuntime)
