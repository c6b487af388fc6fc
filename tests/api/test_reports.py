"""The report endpoints: who may read them, their JSON and CSV forms, and the errors bad input gets."""

import csv
import io
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
REPORTS = ("peak-hours", "complaints", "drivers", "operators", "areas", "customers", "forecast")


@pytest.fixture
async def supervisor(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("supervisor")


async def test_supervisors_and_admins_read_reports_and_nobody_else(
        client: Client, staff_headers: Callable[[str], Awaitable[Headers]],
        make_driver: Callable[..., Awaitable[tuple[Driver, str]]]) -> None:
    _, driver_token = await make_driver("Nosy Driver")
    callers = {"supervisor": await staff_headers("supervisor"), "admin": await staff_headers("admin"),
               "operator": await staff_headers("operator"), "driver": {"Authorization": f"Bearer {driver_token}"},
               "anonymous": {}}
    expected = {"supervisor": 200, "admin": 200, "operator": 403, "driver": 403, "anonymous": 401}
    for name in REPORTS:
        for caller, headers in callers.items():
            response = await client.get(f"/api/reports/{name}", headers=headers)
            assert response.status == expected[caller], (name, caller, await response.text())


async def test_an_empty_center_gets_every_report_in_its_documented_shape(client: Client, supervisor: Headers) -> None:
    tehran = ZoneInfo("Asia/Tehran")
    today = datetime.now(tehran).date()
    for name in REPORTS:
        body = await (await client.get(f"/api/reports/{name}", headers=supervisor)).json()
        assert body["timezone"] == "Asia/Tehran" and body["generated_at"]
        assert "rollup_as_of" in body
        if name != "forecast":
            assert (body["from"], body["to"]) == ((today - timedelta(days=27)).isoformat(), today.isoformat())
    peak = await (await client.get("/api/reports/peak-hours", headers=supervisor)).json()
    assert len(peak["cells"]) == 168 and peak["busiest"] == [] and peak["weeks"] == 4.0
    assert {(c["weekday"], c["hour"]) for c in peak["cells"]} == {(d, h) for d in range(7) for h in range(24)}
    assert all(s["operators_needed"] == 0 for s in peak["staffing"])
    complaints = await (await client.get("/api/reports/complaints?by=period", headers=supervisor)).json()
    assert complaints["rows"] and all(r["complaints"] == 0 for r in complaints["rows"])
    assert [date.fromisoformat(w["week_start"]).weekday() for w in complaints["trend"]] == [5] * len(
        complaints["trend"])  # Weeks start on Saturday.
    assert complaints["resolve_hours"] == {"median": None, "p90": None, "count": 0}
    customers = await (await client.get("/api/reports/customers", headers=supervisor)).json()
    assert [(s["segment"], s["customers"]) for s in customers["rfm"]] == [
        (segment, 0) for segment in ("champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost")]
    assert [t["tier"] for t in customers["loyalty_tiers"]] == ["gold", "silver", "bronze", "none"]
    forecast = await (await client.get("/api/reports/forecast?weeks=4", headers=supervisor)).json()
    hours = [datetime.fromisoformat(h["at"]) for h in forecast["hours"]]
    assert len(hours) == 168 and forecast["weeks"] == 4
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(hours))
    first = hours[0].astimezone(tehran)
    assert first.minute == 0 and first > datetime.now(UTC)
    assert (forecast["hours"][0]["weekday"], forecast["hours"][0]["hour"]) == ((first.weekday() + 2) % 7, first.hour)


@pytest.mark.parametrize(("query", "code"), [
    ("from=2024-03-10&to=2024-03-01", "inverted_range"),
    ("from=2023-01-01&to=2024-03-01", "range_too_long"),
    ("from=2024-02-30", "invalid_date"),
    ("to=yesterday", "invalid_date"),
    ("from=20240101", "invalid_date"),
    ("format=xlsx", "invalid_option"),
])
async def test_a_bad_period_or_format_is_refused_with_its_code(
        client: Client, supervisor: Headers, query: str, code: str) -> None:
    for name in REPORTS[:-1]:
        response = await client.get(f"/api/reports/{name}?{query}", headers=supervisor)
        assert response.status == 400, (name, query)
        assert (await response.json())["error"]["code"] == code


@pytest.mark.parametrize(("name", "query"), [
    ("peak-hours", "sl_seconds=0"), ("peak-hours", "sl_seconds=121"), ("peak-hours", "sl_seconds=2.5"),
    ("peak-hours", "sl_target=1"), ("peak-hours", "sl_target=0"), ("peak-hours", "sl_target=lots"),
    ("complaints", "by=mood"), ("areas", "grid=square"), ("customers", "table=everything"),
    ("forecast", "weeks=0"), ("forecast", "weeks=53"), ("forecast", "sl_target=-0.5"),
])
async def test_an_option_out_of_its_range_is_refused(client: Client, supervisor: Headers, name: str,
                                                     query: str) -> None:
    response = await client.get(f"/api/reports/{name}?{query}", headers=supervisor)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_option" and query.split("=")[0] in error["message"]


def read_csv(text: str) -> list[dict[str, Any]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


async def test_every_report_exports_its_main_table_as_csv(
        client: Client, supervisor: Headers) -> None:
    for name in REPORTS:
        response = await client.get(f"/api/reports/{name}?format=csv", headers=supervisor)
        assert response.status == 200, name
        assert response.content_type == "text/csv" and response.charset == "utf-8"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="') and disposition.endswith('.csv"')
        read_csv(await response.text())
    response = await client.get("/api/reports/peak-hours?format=csv&from=2024-01-01&to=2024-01-31",
                                headers=supervisor)
    assert response.headers["Content-Disposition"] == 'attachment; filename="peak-hours-2024-01-01-2024-01-31.csv"'
    cells = read_csv(await response.text())
    assert len(cells) == 168 and list(cells[0])[:3] == ["weekday", "hour", "calls_offered"]
    segments = read_csv(await (await client.get("/api/reports/customers?format=csv&table=rfm",
                                                headers=supervisor)).text())
    assert [s["segment"] for s in segments][:2] == ["champions", "loyal"] and len(segments) == 7
    hours = read_csv(await (await client.get("/api/reports/forecast?format=csv", headers=supervisor)).text())
    assert len(hours) == 168 and "operators_needed" in hours[0]
