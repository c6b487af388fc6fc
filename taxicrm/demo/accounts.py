"""The demo's staff accounts: who they are, and their passwords, generated once and kept in the data folder."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from taxicrm.demo.places import STAFF_NAMES

ADMIN = "demo-admin"
SUPERVISOR = "demo-supervisor"  # Created last: its existence says the city was seeded whole.
FIRST_EXTENSION = 201
RECORD_FILE = "demo-city.json"
PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # No 0/O, 1/l/I look-alikes.
PASSWORD_LENGTH = 14


@dataclass(frozen=True)
class Account:
    """A staff account of the demo: an admin, a supervisor, or an operator with an extension."""

    username: str
    role: str
    display_name: str
    password: str
    extension: str | None = None


def new_password() -> str:
    """Return a password for a demo account, made when the city is seeded (never one written in the code)."""
    # Letters and digits only: easy to read off the terminal and type into the sign-in form.
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def plan_accounts(operators: int) -> list[Account]:
    """Return the accounts a city with this many operators needs, each with a fresh password."""
    accounts = [Account(ADMIN, "admin", "مدیر سامانه", new_password()),
                Account(SUPERVISOR, "supervisor", "سرپرست شیفت", new_password())]
    accounts += [Account(f"operator{n + 1}", "operator", STAFF_NAMES[n % len(STAFF_NAMES)], new_password(),
                         str(FIRST_EXTENSION + n)) for n in range(operators)]
    return accounts


def operators(accounts: list[Account]) -> list[Account]:
    """Return the operators, who answer the phones."""
    return [a for a in accounts if a.role == "operator"]


def by_name(accounts: list[Account], username: str) -> Account:
    """Return the account with this username."""
    return next(a for a in accounts if a.username == username)


def record_path(data_dir: Path) -> Path:
    """Return where the demo keeps its record, beside the embedded servers' data."""
    return data_dir / RECORD_FILE


@dataclass(frozen=True)
class DemoRecord:
    """What the first run decided, kept so later runs simulate the city that was seeded: its seed and size."""

    seed: int
    subscribers: int
    drivers: int
    accounts: list[Account]


def load_record(path: Path) -> DemoRecord | None:
    """Return what an earlier run kept, or None if there is nothing."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return DemoRecord(seed=int(raw["seed"]), subscribers=int(raw["subscribers"]), drivers=int(raw["drivers"]),
                      accounts=[Account(**item) for item in raw["accounts"]])


def save_record(path: Path, record: DemoRecord) -> None:
    """Keep the record, readable by this user alone: it holds passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(record), out, ensure_ascii=False, indent=1)
    temporary.replace(path)
