"""The calendar months PostgreSQL counts customers' cohorts in (report_month) are the months reports/calendar.py
and the console name: every day of forty years, Jalali and Gregorian."""

from datetime import date, timedelta

import asyncpg

from reports.calendar import Calendar, month_start

FIRST, DAYS = date(2000, 1, 1), 40 * 366


async def test_postgresql_and_python_agree_on_every_day_s_month(db: asyncpg.Pool) -> None:
    for calendar in Calendar:
        rows = await db.fetch("SELECT d::date AS day, report_month(d::date, $3) AS start "
                              "FROM generate_series($1::date, $1::date + $2::integer, interval '1 day') d", FIRST, DAYS,
                              calendar.value)
        assert len(rows) == DAYS + 1
        wrong = [(r["day"], r["start"]) for r in rows if r["start"] != month_start(r["day"], calendar)]
        assert wrong == [], (calendar, wrong[:5])
    assert await db.fetchval("SELECT report_month('2026-03-21', 'jalali')") == date(2026, 3, 21)  # Nowruz 1405
    assert await db.fetchval("SELECT report_month('2026-03-20', 'jalali')") == date(2026, 3, 21) - timedelta(days=29)
