"""Typed keys for what feedback keeps on the app: its SLA policy and the key rating links are signed with."""

from __future__ import annotations

from aiohttp import web

from feedback.sla import SlaPolicy

SLA_POLICY = web.AppKey("feedback.sla_policy", SlaPolicy)
LINK_KEY = web.AppKey("feedback.link_key", bytes)
