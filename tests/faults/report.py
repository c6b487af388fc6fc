"""The fault suite's report: the faults injected, the invariants checked, the traffic and the timings."""

from __future__ import annotations

import json
import platform
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.faults.drivers import FleetLedger
from tests.faults.faults import FaultInjector
from tests.faults.invariants import Check
from tests.faults.traffic import TrafficLedger


@dataclass
class Report:
    """Everything one run of the suite measured."""

    drivers: int
    load_seconds: float
    fault_every_seconds: float
    bookings_per_second: float
    drivers_online: int = 0
    quote_total_rials: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    fleet: FleetLedger = field(default_factory=FleetLedger)
    traffic: TrafficLedger = field(default_factory=TrafficLedger)
    injector: FaultInjector | None = None
    checks: list[Check] = field(default_factory=list)
    tallies: dict[str, dict[str, int]] = field(default_factory=dict)
    unexpected_exits: list[str] = field(default_factory=list)
    standings: Counter[str] = field(default_factory=Counter)
    undispatchable: list[str] = field(default_factory=list)  # connected, free, yet not available in Redis
    logged_errors: dict[str, int] = field(default_factory=dict)

    def client_violations(self) -> list[str]:
        """What the drivers' apps saw that the protocol forbids: a gap in a connection's message numbers."""
        return self.fleet.sequence_gaps[:20]

    def as_json(self) -> dict[str, Any]:
        injector = self.injector
        faults: Counter[str] = injector.counts if injector is not None else Counter()
        traffic = self.traffic
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": _cpus(), "python": platform.python_version()},
            "setup": {"instances": 2, "drivers": self.drivers, "drivers_online": self.drivers_online,
                      "load_seconds": self.load_seconds, "fault_every_seconds": self.fault_every_seconds,
                      "bookings_per_second": self.bookings_per_second,
                      "tariff": f"seeded by the migrations; a 3.3 km quote: {self.quote_total_rials} rials"},
            "durations_s": {k: round(v, 1) for k, v in self.phases.items()},
            "faults_injected": dict(faults),
            "driver_connections_cut": injector.connections_cut if injector is not None else 0,
            "fault_log": injector.log if injector is not None else [],
            "acknowledged": {"bookings": len(traffic.bookings),
                             "bookings_retried_to_200": sum(1 for b in traffic.bookings if b.status == 200),
                             "calls": len(traffic.calls), "ratings": len(traffic.ratings),
                             "complaints": len(traffic.complaints)},
            "invariants": [c.as_json() for c in self.checks],
            "client_side": {"driver_message_sequence_gaps": len(self.fleet.sequence_gaps),
                            "examples": self.fleet.sequence_gaps[:20],
                            "instances_exited_unexpectedly": self.unexpected_exits,
                            "drivers_at_the_end": dict(sorted(self.standings.items())),
                            "free_drivers_not_available_in_redis": self.undispatchable[:20]},
            "instances_logged": self.logged_errors,
            "database": self.tallies,
            "traffic_counts": dict(sorted(traffic.counts.items())),
            "fleet_counts": dict(sorted(self.fleet.counts.items())),
        }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def write_report(report: Report, path: Path) -> str:
    """Write the report as JSON and return a short human summary."""
    data = report.as_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    lines = ["", "fault suite:", f"  durations: {data['durations_s']}",
             f"  faults: {data['faults_injected']}, driver connections cut: {data['driver_connections_cut']}",
             f"  acknowledged: {data['acknowledged']}"]
    for check in data["invariants"]:
        lines.append(f"  {check['name']}: {check['rows_checked']} rows checked, {check['violations']} violations")
    lines.append(f"  client side: {data['client_side']['driver_message_sequence_gaps']} sequence gaps, "
                 f"unexpected exits {data['client_side']['instances_exited_unexpectedly']}")
    lines.append(f"  drivers at the end: {data['client_side']['drivers_at_the_end']}, free but not available in "
                 f"Redis: {len(report.undispatchable)}")
    lines.append(f"  rides by status: {data['database'].get('rides')}")
    lines.append(f"  written to {path}")
    return "\n".join(lines)
