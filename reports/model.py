"""Records of reports: what the rollups were built with, the periods asked for, and the rows each report returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from reports.calendar import Calendar


class Feed(StrEnum):
    """A stream of facts the rollups fold in, each read from the domain that owns it."""

    RIDES = "rides"
    CALLS = "calls"
    OFFERS = "offers"
    COMPLAINTS = "complaints"
    RATINGS = "ratings"


class Grid(StrEnum):
    """How the areas report divides the city."""

    ZONES = "zones"
    HEX = "hex"


class ComplaintsBy(StrEnum):
    """What the complaints report groups by; `period` is by week."""

    CATEGORY = "category"
    DRIVER = "driver"
    OPERATOR = "operator"
    AREA = "area"
    PERIOD = "period"


class Segment(StrEnum):
    """A named RFM segment of customers (reports/rfm.py says who falls in which)."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL = "potential"
    NEW = "new"
    AT_RISK = "at_risk"
    HIBERNATING = "hibernating"
    LOST = "lost"


@dataclass(frozen=True)
class RollupBasis:
    """What the rollups' hours, months and areas mean: the center's time zone and calendar, and the hex grid's.

    Rollups built on another basis are rebuilt, since every hour and cell in them would mean something else.
    """

    timezone: ZoneInfo
    hex_size_m: float
    hex_lat0: float
    calendar: Calendar = Calendar.JALALI  # the months customers' cohorts count in


@dataclass(frozen=True)
class Period:
    """Local days from `start` to `end`, both included, in the center's time zone."""

    start: date
    end: date
    timezone: ZoneInfo

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """The instant the period starts: local midnight of its first day."""
        return datetime.combine(self.start, datetime.min.time(), self.timezone)

    @property
    def until(self) -> datetime:
        """The instant the period ends: local midnight after its last day."""
        return datetime.combine(date.fromordinal(self.end.toordinal() + 1), datetime.min.time(), self.timezone)


@dataclass(frozen=True)
class ServiceLevel:
    """A telephony service-level target: `target` of calls answered within `seconds`."""

    seconds: int
    target: float


@dataclass(frozen=True)
class SlotTotals:
    """What the rollups hold for one weekday-hour (weekday 0 = Saturday) over a stretch of time."""

    weekday: int
    hour: int
    calls_answered: int
    calls_abandoned: int
    answered_within_sl: int
    handle_seconds: int
    rides_booked: int
    rides_completed: int
    rides_cancelled: int
    rides_no_driver: int
    busy_seconds: int
    assign_waits: Sequence[int] = ()  # histogram: reports/histograms.py

    @property
    def calls_offered(self) -> int:
        """Every call that rang and ended, answered or not."""
        return self.calls_answered + self.calls_abandoned


@dataclass(frozen=True)
class PeakCell:
    """One weekday-hour of the heatmap: totals over the period."""

    weekday: int
    hour: int
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    answered_within_sl: int
    service_level: float | None
    avg_handle_s: float | None
    rides_booked: int
    rides_completed: int
    rides_cancelled: int
    rides_no_driver: int
    median_assign_s: float | None


@dataclass(frozen=True)
class BusyHour:
    """A weekday-hour among the busiest."""

    weekday: int
    hour: int
    calls_offered: int
    rides_booked: int


@dataclass(frozen=True)
class Staffing:
    """The operators a weekday-hour needs, from its average week."""

    weekday: int
    hour: int
    calls_per_hour: float
    avg_handle_s: float | None
    operators_needed: int


@dataclass(frozen=True)
class PeakHours:
    """The peak-hours report."""

    cells: list[PeakCell]
    weeks: float
    busiest: list[BusyHour]
    staffing: list[Staffing]


@dataclass(frozen=True)
class ComplaintRow:
    """Complaints and praise about one category, driver, operator, area or week."""

    key: str
    label: str
    complaints: int
    praise: int
    completed_rides: int
    rate_per_1000: float | None


@dataclass(frozen=True)
class TrendWeek:
    """One week of the complaints trend."""

    week_start: date
    complaints: int
    completed_rides: int
    rate_per_1000: float | None


@dataclass(frozen=True)
class ResolveHours:
    """How long resolved complaints took, from opening to resolution."""

    median: float | None
    p90: float | None
    count: int


@dataclass(frozen=True)
class ComplaintsReport:
    """The complaints report."""

    rows: list[ComplaintRow]
    trend: list[TrendWeek]
    open: int
    overdue: int
    resolve_hours: ResolveHours


@dataclass(frozen=True)
class DriverRow:
    """One driver's work over the period."""

    driver_id: int
    name: str
    offered: int
    accepted: int
    declined: int
    ignored: int
    completed: int
    acceptance_rate: float | None
    revenue_rials: int
    commission_rials: int
    avg_rating: float | None
    ratings: int
    complaints: int
    complaint_rate_per_1000: float | None


@dataclass(frozen=True)
class DriversReport:
    """The drivers report, with the best and the worst by reports/rankings.py."""

    rows: list[DriverRow]
    best: list[int]
    worst: list[int]


@dataclass(frozen=True)
class OperatorRow:
    """One operator's work over the period."""

    operator_id: int
    name: str
    calls_handled: int
    avg_handle_s: float | None
    bookings: int
    bookings_per_call: float | None
    complaints: int


@dataclass(frozen=True)
class AreaRow:
    """One zone or hex cell over the period."""

    area: int
    label: str
    lat: float | None
    lng: float | None
    polygon: list[tuple[float, float]] | None
    revenue_rials: int
    rides: int
    completed: int
    unserved: int
    complaints: int


@dataclass(frozen=True)
class AreasReport:
    """The areas report."""

    grid: Grid
    rows: list[AreaRow]


@dataclass(frozen=True)
class LastEvent:
    """The last thing that happened to a customer: a complaint, a ride nobody took or cancelled, or a ride."""

    kind: str  # complaint | no_driver | cancelled | ride
    at: datetime
    detail: str | None


@dataclass(frozen=True)
class ChurnedRegular:
    """A customer who used to ride often and stopped."""

    subscriber_id: int
    name: str
    rides: int
    last_ride_at: datetime
    last_event: LastEvent


@dataclass(frozen=True)
class SegmentRow:
    """One RFM segment: its customers, their revenue so far, and an estimate of their next year."""

    segment: Segment
    customers: int
    revenue_rials: int
    value_rials: int


@dataclass(frozen=True)
class AtRiskCustomer:
    """A regular customer slipping away."""

    subscriber_id: int
    name: str
    recency_days: int
    rides: int
    revenue_rials: int


@dataclass(frozen=True)
class TierRow:
    """One loyalty tier: its customers and their completed rides and revenue."""

    tier: str
    customers: int
    rides: int
    revenue_rials: int


@dataclass(frozen=True)
class CohortRow:
    """Customers by the month of their first ride, and how many rode in it and in each month after."""

    cohort: str  # YYYY-MM in the center's calendar ("1405-01" for Farvardin 1405)
    first_day: date  # the Gregorian date the month starts on
    size: int
    active: list[int]  # month 0 (the first) first


@dataclass(frozen=True)
class CustomersReport:
    """The customers report."""

    cohorts: list[CohortRow]
    churned_regulars: list[ChurnedRegular]
    rfm: list[SegmentRow]
    at_risk: list[AtRiskCustomer]
    loyalty_tiers: list[TierRow]


@dataclass(frozen=True)
class DriverFigures:
    """What ranking a driver looks at."""

    driver_id: int
    completed: int
    offered: int
    accepted: int
    rating_sum: int
    ratings: int
    complaints: int
