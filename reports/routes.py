"""HTTP routes of reports (supervisors and admins): each report as JSON, or its main table as CSV; the rollup job."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import partial
from typing import Any, Final, TypeVar

from aiohttp import web

from reports import report_service, service
from reports.errors import InvalidOption
from reports.exports import to_csv
from reports.model import ComplaintsBy, Grid, Period, RollupBasis, ServiceLevel
from reports.periods import parse_period
from taxicrm.auth import Role, allow
from taxicrm.keys import DB, REDIS, SETTINGS
from taxicrm.leadership import run_as_leader

REPORT_BASIS = web.AppKey("report_basis", RollupBasis)
READERS: Final = (Role.SUPERVISOR, Role.ADMIN)
E = TypeVar("E", bound=StrEnum)


class Format(StrEnum):
    """How a report comes back."""

    JSON = "json"
    CSV = "csv"


class CustomerTable(StrEnum):
    """The tables of the customers report, one of which a CSV export holds."""

    COHORTS = "cohorts"
    CHURNED_REGULARS = "churned_regulars"
    RFM = "rfm"
    AT_RISK = "at_risk"
    LOYALTY_TIERS = "loyalty_tiers"


def setup(app: web.Application) -> None:
    """Register the report routes and the job keeping the rollups up to date."""
    app[REPORT_BASIS] = service.basis_of(app[SETTINGS])
    app.cleanup_ctx.append(_rollup_job)
    for name, handler in (("peak-hours", peak_hours), ("complaints", complaints), ("drivers", drivers),
                          ("operators", operators), ("areas", areas), ("customers", customers),
                          ("forecast", demand_forecast)):
        app.router.add_get(f"/api/reports/{name}", handler)


async def _rollup_job(app: web.Application) -> AsyncIterator[None]:
    pool, basis = app[DB], app[REPORT_BASIS]
    # One instance folds facts in at a time; if it dies, another takes over within the lease.
    job = asyncio.create_task(run_as_leader(app[REDIS], "report-rollups", lambda: service.run_rollups(pool, basis)),
                              name="report-rollups")
    try:
        yield
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job


@allow(*READERS)
async def peak_hours(request: web.Request) -> web.StreamResponse:
    """Report calls and rides by weekday and hour, with service level, the busiest hours and operators needed."""
    period, level = _period(request), _service_level(request)
    report = await report_service.peak_hours(request.app[DB], period, level)
    return await _respond(request, "peak-hours", period, asdict(report), report.cells)


@allow(*READERS)
async def complaints(request: web.Request) -> web.StreamResponse:
    """Report complaints and praise by category, driver, operator, area or week, with the trend and open cases."""
    period = _period(request)
    by = _choice(request, "by", ComplaintsBy, ComplaintsBy.CATEGORY)
    report = await report_service.complaints(request.app[DB], period, by, datetime.now(UTC))
    return await _respond(request, f"complaints-by-{by.value}", period, asdict(report), report.rows)


@allow(*READERS)
async def drivers(request: web.Request) -> web.StreamResponse:
    """Report each driver's offers, rides, revenue, rating and complaints, with the best and the worst."""
    period = _period(request)
    report = await report_service.drivers(request.app[DB], period)
    return await _respond(request, "drivers", period, asdict(report), report.rows)


@allow(*READERS)
async def operators(request: web.Request) -> web.StreamResponse:
    """Report each operator's calls, handling time, bookings per call and complaints."""
    period = _period(request)
    rows = await report_service.operators(request.app[DB], period)
    return await _respond(request, "operators", period, {"rows": [asdict(r) for r in rows]}, rows)


@allow(*READERS)
async def areas(request: web.Request) -> web.StreamResponse:
    """Report revenue, rides, unserved demand and complaints per zone or hex cell."""
    period = _period(request)
    grid = _choice(request, "grid", Grid, Grid.ZONES)
    report = await report_service.areas(request.app[DB], period, grid, request.app[REPORT_BASIS])
    return await _respond(request, f"areas-{grid.value}", period, asdict(report), report.rows)


@allow(*READERS)
async def customers(request: web.Request) -> web.StreamResponse:
    """Report cohort retention, churned regulars, RFM segments with the at-risk list, and loyalty tiers."""
    period = _period(request)
    table = _choice(request, "table", CustomerTable, CustomerTable.COHORTS)
    calendar = request.app[REPORT_BASIS].calendar
    report = await report_service.customers(request.app[DB], period, calendar)
    return await _respond(request, f"customers-{table.value.replace('_', '-')}", period,
                          {"calendar": calendar.value, **asdict(report)}, getattr(report, table.value))


@allow(*READERS)
async def demand_forecast(request: web.Request) -> web.StreamResponse:
    """Forecast calls and rides for each hour of the coming week, with the operators and drivers needed."""
    weeks = _whole(request, "weeks", 8, 1, 52)
    level = _service_level(request)
    basis = request.app[REPORT_BASIS]
    hours = await report_service.demand_forecast(request.app[DB], weeks, level, basis, datetime.now(UTC))
    first, last = (hours[0].at.astimezone(basis.timezone).date(), hours[-1].at.astimezone(basis.timezone).date())
    return await _respond(request, "forecast", Period(first, last, basis.timezone),
                          {"weeks": weeks, "hours": [asdict(h) for h in hours]}, hours)


def _period(request: web.Request) -> Period:
    timezone = request.app[SETTINGS].timezone
    return parse_period(request.query.get("from"), request.query.get("to"),
                        datetime.now(timezone).date(), timezone)


def _service_level(request: web.Request) -> ServiceLevel:
    # The answer-time histograms reach two minutes, so a target time must fall within them.
    seconds = _whole(request, "sl_seconds", 20, 1, 120)
    raw = request.query.get("sl_target", "0.8")
    try:
        target = float(raw)
    except ValueError:
        target = -1.0
    if not 0 < target < 1:
        raise InvalidOption(f"'sl_target' must be a share between 0 and 1, such as 0.8, not {raw[:20]!r}.")
    return ServiceLevel(seconds=seconds, target=target)


def _whole(request: web.Request, name: str, default: int, least: int, most: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and least <= int(raw) <= most):
        raise InvalidOption(f"'{name}' must be a whole number from {least} to {most}, not {raw[:20]!r}.")
    return int(raw)


def _choice(request: web.Request, name: str, options: type[E], default: E) -> E:
    raw = request.query.get(name) or default.value
    try:
        return options(raw)
    except ValueError:
        allowed = ", ".join(o.value for o in options)
        raise InvalidOption(f"'{name}' must be one of: {allowed}.") from None


async def _respond(request: web.Request, name: str, period: Period, body: dict[str, Any],
                   table: Sequence[Any]) -> web.StreamResponse:
    """Answer with the report as JSON, or its main table as a CSV download (format=csv)."""
    if _choice(request, "format", Format, Format.JSON) is Format.CSV:
        filename = f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        return web.Response(text=to_csv(table), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    envelope = {"from": period.start.isoformat(), "to": period.end.isoformat(), "timezone": period.timezone.key,
                "generated_at": datetime.now(UTC).isoformat(),
                "rollup_as_of": _iso(await report_service.freshness(request.app[DB])), **body}
    return web.json_response(envelope, dumps=partial(json.dumps, default=_json_value))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in JSON")
