"""The service's OpenAPI document, assembled from each domain's fragment files (`<domain>/openapi*.json`)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aiohttp import web

from taxicrm.auth import STAFF_ROLES, allow

DOCUMENTED_PACKAGES = ("taxicrm", "subscribers", "callcenter", "dispatch", "realtime", "feedback", "reports")
OPENAPI = web.AppKey("openapi", dict)


def build_document(packages: tuple[str, ...] = DOCUMENTED_PACKAGES) -> dict[str, Any]:
    """Merge every fragment's paths and components into one OpenAPI 3.1 document."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "taxicrm", "version": "1", "description": "Dispatch CRM for radio-taxi call centers. "
                 "Errors are always {\"error\": {\"code\", \"message\"}}."},
        "paths": {},
        "components": {},
        "security": [{"session": []}, {"bearer": []}],
    }
    for package in packages:
        for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
            if entry.name.startswith("openapi") and entry.name.endswith(".json"):
                fragment = json.loads(entry.read_text(encoding="utf-8"))
                origin = f"{package}/{entry.name}"
                _merge(document["paths"], fragment.get("paths", {}), origin)
                for section, items in fragment.get("components", {}).items():
                    _merge(document["components"].setdefault(section, {}), items, origin)
    return document


def _merge(into: dict[str, Any], items: dict[str, Any], origin: str) -> None:
    for key, value in items.items():
        if key in into and into[key] != value:
            raise ValueError(f"{origin} redefines {key}")
        into[key] = value


def setup(app: web.Application) -> None:
    """Serve the document at /api/openapi.json."""
    app[OPENAPI] = build_document()
    app.router.add_get("/api/openapi.json", openapi_view)


@allow(*STAFF_ROLES)
async def openapi_view(request: web.Request) -> web.Response:
    """Return the OpenAPI document."""
    return web.json_response(request.app[OPENAPI])
