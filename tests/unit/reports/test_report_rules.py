"""Small rules of reports: histograms, rankings, peak cells, churn's last event, CSV exports."""

from datetime import UTC, date, datetime

from reports import rankings
from reports.churn import last_event
from reports.exports import to_csv
from reports.histograms import add_counts, quantile
from reports.model import ChurnedRegular, CohortRow, DriverFigures, LastEvent, PeakCell, ServiceLevel, SlotTotals
from reports.peaks import peak_hours


def test_quantiles_interpolate_inside_their_bucket_and_the_open_bucket_gives_its_edge():
    assert quantile([0, 10, 10], 10, 0.5) == 20.0
    assert quantile([0, 10, 10], 10, 0.25) == 15.0
    assert quantile([0, 0, 4], 10, 0.5) == 20.0
    assert quantile([], 10, 0.5) is None and quantile([0, 0], 10, 0.5) is None


def test_histograms_add_bucket_by_bucket_whatever_their_length():
    assert add_counts([[1, 2, 3], [1], []]) == [2, 2, 3]
    assert add_counts([]) == []


def figures(driver_id, completed, accepted=20, offered=20, rating_sum=0, ratings=0, complaints=0):
    return DriverFigures(driver_id, completed, offered, accepted, rating_sum, ratings, complaints)


def test_the_best_rate_and_accept_well_and_the_worst_collect_complaints():
    drivers = [figures(1, 50, rating_sum=245, ratings=50), figures(2, 50, rating_sum=150, ratings=50),
               figures(3, 50, accepted=5, complaints=5), figures(4, 50, rating_sum=200, ratings=50),
               figures(5, 3, rating_sum=15, ratings=3)]  # Too few rides to rank.
    best, worst = rankings.best_and_worst(drivers, shown=2)
    assert best == [1, 4] and worst == [3, 2]
    assert 5 not in best + worst


def test_a_handful_of_fives_counts_for_less_than_many():
    few, many = figures(1, 10, rating_sum=15, ratings=3), figures(2, 10, rating_sum=490, ratings=100)
    assert rankings.score(few) < rankings.score(many)


def test_peak_cells_cover_every_hour_with_service_level_staffing_and_the_busiest_first():
    totals = [SlotTotals(0, 8, 90, 10, 72, 90 * 100, 40, 35, 3, 2, 0, (0, 10, 10)),
              SlotTotals(3, 18, 45, 5, 45, 45 * 60, 60, 55, 0, 5, 0)]
    report = peak_hours(totals, [4] * 7, ServiceLevel(20, 0.8))
    assert len(report.cells) == 168 and report.weeks == 4.0
    morning = next(c for c in report.cells if (c.weekday, c.hour) == (0, 8))
    assert morning == PeakCell(0, 8, 100, 90, 10, 72, 0.72, 100.0, 40, 35, 3, 2, 30.0)  # 15 s buckets
    assert [(b.weekday, b.hour) for b in report.busiest] == [(0, 8), (3, 18)]
    staffing = next(s for s in report.staffing if (s.weekday, s.hour) == (0, 8))
    assert (staffing.calls_per_hour, staffing.avg_handle_s) == (25.0, 100.0) and staffing.operators_needed >= 1
    quiet = next(c for c in report.cells if (c.weekday, c.hour) == (6, 3))
    assert (quiet.service_level, quiet.avg_handle_s, quiet.median_assign_s) == (None, None, None)


AT = datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_the_last_thing_that_happened_is_the_latest_and_a_complaint_says_most_at_the_same_time():
    assert last_event(AT, None, None) == LastEvent("ride", AT, None)
    later = AT.replace(hour=12)
    assert last_event(AT, ("no_driver", later), None) == LastEvent("no_driver", later, "no_driver")
    assert last_event(AT, ("cancelled_waiting", later), ("rude_driver", AT)).kind == "cancelled"
    assert last_event(AT, ("no_driver", AT), ("rude_driver", AT)) == LastEvent("complaint", AT, "rude_driver")


def test_csv_exports_have_a_bom_a_header_flattened_records_and_numbered_lists():
    rows = [LastEvent("complaint", AT, "رفتار راننده"), LastEvent("ride", AT, None)]
    text = to_csv(rows)
    assert text.startswith("\ufeff")
    assert text[1:].splitlines() == ["kind,at,detail", f"complaint,{AT.isoformat()},رفتار راننده",
                                     f"ride,{AT.isoformat()},"]
    header = to_csv([CohortRow("2024-01", date(2024, 1, 1), 3, [3, 1])]).splitlines()[0]
    assert header == "\ufeffcohort,first_day,size,active_0,active_1"
    header = to_csv([ChurnedRegular(1, "Ali", 9, AT, LastEvent("ride", AT, None))]).splitlines()[0]
    assert header.endswith("last_event_kind,last_event_at,last_event_detail")
    assert to_csv([]) == "\ufeff\r\n"
