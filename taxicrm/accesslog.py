"""Logging setup, and an access logger that can write one JSON object per request."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from taxicrm.keys import PRINCIPAL


class JsonFormatter(logging.Formatter):
    """Format log records as JSON lines for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as a JSON object."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Send logs to stderr as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pgserver narrates every pg_ctl call at INFO; only its problems matter to an operator.
    logging.getLogger("pgserver").setLevel(max(logging.WARNING, root.level))


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, duration, size and who asked."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the access-log line for one request."""
        principal = request.get(PRINCIPAL) if isinstance(request, web.Request) else None
        fields = {
            "remote": request.remote,
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(time * 1000, 2),
            "bytes": response.body_length,
            "user": f"{principal.role}:{principal.id}" if principal else None,
        }
        self.logger.info(
            "%s %s %s %.1fms", request.method, request.path, response.status, time * 1000,
            extra={"fields": fields},
        )
