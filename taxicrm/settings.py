"""Settings from environment variables, parsed and validated once at start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(Exception):
    """A setting has a value the service cannot use; the message names the setting."""


def _port(raw: str) -> int:
    value = _whole(raw)
    if not 1 <= value <= 65535:
        raise ValueError(f"must be a port number from 1 to 65535, got {raw!r}")
    return value


def _whole(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"must be a whole number, got {raw!r}") from None


def _positive(raw: str) -> int:
    value = _whole(raw)
    if value < 1:
        raise ValueError(f"must be a whole number of at least 1, got {raw!r}")
    return value


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.strip().lower() not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {raw!r}")
        return raw.strip().lower()

    return parse


def _url(*schemes: str) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        if not raw.strip():
            return None
        parts = urlsplit(raw.strip())
        if parts.scheme not in schemes:
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return raw.strip()

    return parse


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be a time zone name such as Asia/Tehran, got {raw!r}") from None


def _region(raw: str) -> str:
    if not (len(raw.strip()) == 2 and raw.strip().isascii() and raw.strip().isalpha()):
        raise ValueError(f"must be a two-letter country code such as IR, got {raw!r}")
    return raw.strip().upper()


def _digits(raw: str) -> str:
    if not (raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 5):
        raise ValueError(f"must be 1 to 5 digits, got {raw!r}")
    return raw.strip()


def _decimal(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"must be a number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}, got {raw!r}")
        return value

    return parse


def _area(raw: str) -> tuple[float, float, float, float]:
    """Read a box as `south,west,north,east` in degrees."""
    try:
        south, west, north, east = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"must be four numbers south,west,north,east, got {raw!r}") from None
    if not (-85 <= south < north <= 85 and -180 <= west < east <= 180):
        raise ValueError(f"must be a box south,west,north,east with south < north and west < east, got {raw!r}")
    return south, west, north, east


PRIORITIES = ("urgent", "high", "normal", "low")


def _per_priority(raw: str) -> dict[str, int]:
    """Read a whole number for each complaint priority, as `urgent=15,high=60,normal=240,low=1440`."""
    values: dict[str, int] = {}
    for part in raw.split(","):
        name, _, number = part.partition("=")
        name = name.strip().lower()
        if name not in PRIORITIES or name in values:
            raise ValueError(f"must give each of {', '.join(PRIORITIES)} once, as urgent=15,high=60,..., got {raw!r}")
        values[name] = _positive(number)
    if len(values) != len(PRIORITIES):
        raise ValueError(f"must give each of {', '.join(PRIORITIES)}, got {raw!r}")
    return values


def _optional_text(raw: str) -> str | None:
    return raw or None


def _password(raw: str) -> str | None:
    if raw and len(raw) < 10:
        raise ValueError("must be at least 10 characters long")
    return raw or None


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, parser and meaning."""

    env: str
    field: str
    default: str
    parse: Callable[[str], Any]
    meaning: str


# The single list of settings: parsing, validation and the README table all come from it.
SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "database_url", "", _url("postgresql", "postgres"),
            "PostgreSQL URL. Unset: start an embedded PostgreSQL in TAXICRM_DATA."),
    Setting("REDIS_URL", "redis_url", "", _url("redis", "rediss", "unix"),
            "Redis URL. Unset: start an embedded Redis in TAXICRM_DATA."),
    Setting("TAXICRM_DATA", "data_dir", "~/.local/share/taxicrm", lambda raw: Path(raw).expanduser(),
            "Folder for the embedded PostgreSQL and Redis data (used only when their URLs are unset)."),
    Setting("TAXICRM_HOST", "host", "127.0.0.1", str, "Address `taxicrm serve` listens on."),
    Setting("TAXICRM_PORT", "port", "8080", _port, "Port `taxicrm serve` listens on."),
    Setting("TAXICRM_WORKERS", "workers", "1", _positive,
            "Processes `taxicrm serve` runs on its port, each a whole instance: one per core puts every core to work."),
    Setting("TAXICRM_ADMIN_PASSWORD", "admin_password", "", _password,
            "If set and no admin exists yet, the first start creates user `admin` with this password."),
    Setting("TAXICRM_LOG_LEVEL", "log_level", "info", _choice("debug", "info", "warning", "error"),
            "Log level."),
    Setting("TAXICRM_LOG_FORMAT", "log_format", "text", _choice("text", "json"),
            "Log and access-log format: human-readable text or one JSON object per line."),
    Setting("TAXICRM_ACCESS_LOG", "access_log", "true", _flag, "Log every HTTP request."),
    Setting("TAXICRM_DB_POOL_SIZE", "db_pool_size", "10", _positive,
            "Most PostgreSQL connections one instance opens."),
    Setting("TAXICRM_REDIS_POOL_SIZE", "redis_pool_size", "50", _positive,
            "Most Redis connections one instance opens; commands beyond them wait their turn."),
    Setting("TAXICRM_MAX_BODY_KB", "max_body_kb", "1024", _positive,
            "Largest request body accepted, in KiB; larger ones get 413."),
    Setting("TAXICRM_SESSION_HOURS", "session_hours", "12", _positive,
            "How long a console login lasts without activity, in hours."),
    Setting("TAXICRM_COOKIE_SECURE", "cookie_secure", "false", _flag,
            "Mark the session cookie Secure (set true behind HTTPS)."),
    Setting("TAXICRM_BEHIND_PROXY", "behind_proxy", "false", _flag,
            "Trust the last X-Forwarded-For entry as the caller's address (set true behind a load balancer)."),
    Setting("TAXICRM_LOGIN_MAX_FAILURES", "login_max_failures", "5", _positive,
            "Failed logins allowed per user and per address within the window before refusing."),
    Setting("TAXICRM_LOGIN_WINDOW_SECONDS", "login_window_seconds", "300", _positive,
            "The login rate-limit window, in seconds."),
    Setting("TAXICRM_METRICS_TOKEN", "metrics_token", "", _optional_text,
            "Bearer token a Prometheus scraper may use for /metrics (admins may always read it)."),
    Setting("TAXICRM_TIMEZONE", "timezone", "Asia/Tehran", _timezone,
            "The center's time zone: times are shown in it, and reports and address ranking use its hours."),
    Setting("TAXICRM_CALENDAR", "calendar", "jalali", _choice("jalali", "gregorian"),
            "The center's calendar: reports count customers' months (cohorts) in it, jalali or gregorian."),
    Setting("TAXICRM_PHONE_REGION", "phone_region", "IR", _region,
            "Country whose numbering plan applies to numbers typed or received without a country code."),
    Setting("TAXICRM_AREA_CODE", "area_code", "21", _digits,
            "Area code added to local landline numbers the PBX delivers without one (Tehran: 21)."),
    Setting("TAXICRM_WEBHOOK_SECRET", "webhook_secret", "", _optional_text,
            "Shared secret the PBX must send to the call-event webhook; unset: the webhook refuses every call."),
    Setting("TAXICRM_AMI_URL", "ami_url", "", _url("ami"),
            "Asterisk Manager Interface to follow, as ami://user:secret@host:5038; unset: no AMI client."),
    Setting("TAXICRM_WS_HEARTBEAT_SECONDS", "ws_heartbeat_seconds", "20", _positive,
            "Websocket ping interval; a client that misses a pong is disconnected."),
    Setting("TAXICRM_WS_QUEUE_SIZE", "ws_queue_size", "256", _positive,
            "Events buffered per websocket client; a client further behind is cut off with a resync."),
    Setting("TAXICRM_EVENT_RETENTION", "event_retention", "100000", _positive,
            "Events kept in the Redis stream for reconnecting clients to resume from."),
    Setting("TAXICRM_SERVICE_AREA", "service_area", "35.55,51.10,35.85,51.65", _area,
            "The service area as south,west,north,east degrees (default: Tehran); the map shows it."),
    Setting("TAXICRM_SERVICE_AREA_MARGIN_KM", "service_area_margin_km", "50", _positive,
            "Positions and pickups further than this outside the service area are refused as mistakes."),
    Setting("TAXICRM_OFFER_TIMEOUT_SECONDS", "offer_timeout_seconds", "15", _positive,
            "How long a driver has to accept an offer before it goes to the next driver."),
    Setting("TAXICRM_OFFER_MAX_TRIES", "offer_max_tries", "5", _positive,
            "Offers made for one ride before it goes to the console's unassigned list."),
    Setting("TAXICRM_POSITION_FRESHNESS_SECONDS", "position_freshness_seconds", "60", _positive,
            "A driver whose last position is older than this is not offered rides."),
    Setting("TAXICRM_DRIVER_SILENCE_SECONDS", "driver_silence_seconds", "90", _positive,
            "A driver whose app sends nothing for this long is taken out of dispatch and shown as unreachable."),
    Setting("TAXICRM_RECONNECT_GRACE_SECONDS", "reconnect_grace_seconds", "5", _positive,
            "How long a driver who drops off with an offer pending has to reconnect before it goes to the next."),
    Setting("TAXICRM_PREBOOKING_LEAD_MINUTES", "prebooking_lead_minutes", "10", _positive,
            "How long before its pickup time a pre-booked ride is released to dispatch."),
    Setting("TAXICRM_UNASSIGNED_RETRY_SECONDS", "unassigned_retry_seconds", "30", _positive,
            "How often rides on the unassigned list are offered again to drivers who became free."),
    Setting("TAXICRM_UNASSIGNED_GIVE_UP_MINUTES", "unassigned_give_up_minutes", "20", _positive,
            "An unassigned ride nobody took for this long (after its pickup time) is closed as no driver found."),
    Setting("TAXICRM_ROAD_FACTOR", "road_factor", "1.3", _decimal(1.0, 3.0),
            "Quotes estimate the road distance as the straight line times this factor."),
    Setting("TAXICRM_AVERAGE_SPEED_KMH", "average_speed_kmh", "25", _decimal(5.0, 120.0),
            "Quotes estimate the trip's duration at this average speed, traffic included."),
    Setting("TAXICRM_DESTINATION_TOLERANCE_M", "destination_tolerance_m", "500", _positive,
            "A locked phone quote stands if the trip ends within this many metres of the booked destination."),
    Setting("TAXICRM_MAP_TILES_URL", "map_tiles_url", "", _optional_text,
            "Map tiles under the console's map, as https://host/{z}/{x}/{y}.png; unset: a drawn map, no internet."),
    Setting("TAXICRM_CUSTOMER_BOOKINGS_PER_HOUR", "customer_bookings_per_hour", "5", _positive,
            "Bookings the customer page accepts per phone number and per address in an hour."),
    Setting("TAXICRM_COMPLAINT_FIRST_RESPONSE_MINUTES", "complaint_first_response_minutes",
            "urgent=15,high=60,normal=240,low=1440", _per_priority,
            "Minutes, by priority, within which staff must first act on a new complaint (its SLA)."),
    Setting("TAXICRM_COMPLAINT_RESOLUTION_HOURS", "complaint_resolution_hours",
            "urgent=8,high=24,normal=72,low=168", _per_priority,
            "Hours, by priority, within which a complaint must be closed; later cases are flagged overdue."),
    Setting("TAXICRM_RATING_LINK_DAYS", "rating_link_days", "7", _positive,
            "How long a rating link sent after a ride stays valid, in days."),
)


@dataclass(frozen=True)
class Settings:
    """The service's configuration; build it with `load_settings`."""

    database_url: str | None
    redis_url: str | None
    data_dir: Path
    host: str
    port: int
    workers: int
    admin_password: str | None
    log_level: str
    log_format: str
    access_log: bool
    db_pool_size: int
    redis_pool_size: int
    max_body_kb: int
    session_hours: int
    cookie_secure: bool
    behind_proxy: bool
    login_max_failures: int
    login_window_seconds: int
    metrics_token: str | None
    timezone: ZoneInfo
    calendar: str
    phone_region: str
    area_code: str
    webhook_secret: str | None
    ami_url: str | None
    ws_heartbeat_seconds: int
    ws_queue_size: int
    event_retention: int
    service_area: tuple[float, float, float, float]
    service_area_margin_km: int
    offer_timeout_seconds: int
    offer_max_tries: int
    position_freshness_seconds: int
    driver_silence_seconds: int
    reconnect_grace_seconds: int
    prebooking_lead_minutes: int
    unassigned_retry_seconds: int
    unassigned_give_up_minutes: int
    road_factor: float
    average_speed_kmh: float
    destination_tolerance_m: int
    map_tiles_url: str | None
    customer_bookings_per_hour: int
    complaint_first_response_minutes: dict[str, int]
    complaint_resolution_hours: dict[str, int]
    rating_link_days: int


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from `environ` (default: the process environment) or raise SettingsError."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env, setting.default)
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as err:
            raise SettingsError(f"{setting.env}: {err}") from None
    return Settings(**values)


def settings_table() -> str:
    """Return the settings as a Markdown table, for the README and `taxicrm settings`."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        rows.append(f"| `{s.env}` | {f'`{s.default}`' if s.default else '(unset)'} | {s.meaning} |")
    return "\n".join(rows)

