"""The status line: drivers online as a level, everything else per minute since the last line."""

from taxicrm.demo.tally import Tally, status_line


def test_the_status_line_gives_rates_per_minute_since_the_last_one():
    before = Tally(calls=10, booked=4, completed=1, drivers_online=50)
    now = before.snapshot()
    now.calls, now.abandoned, now.booked, now.completed, now.drivers_online = 40, 3, 24, 7, 48
    line = status_line(now, before, minutes=2)
    assert line.startswith("drivers online 48 |")
    assert "calls 15.0 (abandoned 1.5), rides booked 10.0" in line and "completed 3.0 |" in line
    assert line.endswith("totals: 40 calls, 24 rides, 7 completed")
    now.errors = 2
    assert status_line(now, before, minutes=2).endswith("7 completed, 2 errors (see the log)")


def test_a_snapshot_does_not_move_with_the_tally():
    tally = Tally()
    snapshot = tally.snapshot()
    tally.calls += 1
    assert snapshot.calls == 0
