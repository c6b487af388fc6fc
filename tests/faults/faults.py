"""The faults, injected on a schedule while traffic runs, each counted and timed until the service recovers."""

from __future__ import annotations

import asyncio
import random
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.faults.drivers import SimulatedDriver
from tests.faults.servers import PrivatePostgres, PrivateRedis
from tests.support import ServiceProcess

RECOVERY_TIMEOUT = 60.0
INSTANCE_DOWN_SECONDS = 3.0
SERVER_DOWN_SECONDS = 2.0
CUT_SHARE = 0.25  # of the connected drivers, per cut


@dataclass
class Instances:
    """The service instances under test, restartable, with a watch for exits nobody asked for."""

    processes: list[ServiceProcess]
    log_dir: Path
    starts: int = 0
    killed: set[int] = field(default_factory=set)  # indexes we are killing right now
    unexpected_exits: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.processes]

    def start(self, index: int) -> None:
        """Start instance `index` (again) on its port, with a log of this start's own."""
        self.starts += 1
        folder = self.log_dir / f"instance{index}-start{self.starts}"
        folder.mkdir(parents=True, exist_ok=True)
        self.processes[index].start(folder)

    def kill(self, index: int) -> None:
        self.killed.add(index)
        self.processes[index].stop(signal.SIGKILL)

    def watch(self) -> None:
        """Note any instance that died without being killed by us (a crash)."""
        for index, process in enumerate(self.processes):
            popen = process.process
            if index not in self.killed and popen is not None and popen.poll() is not None:
                self.unexpected_exits.append(f"instance {index} exited with {popen.returncode}")
                self.killed.add(index)  # Reported once; it stays down, which the checks will show.

    def all_ready(self) -> bool:
        return all(_ready(url) for url in self.urls)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class FaultInjector:
    """Injects one fault after another and records what each did and how long recovery took."""

    instances: Instances
    postgres: PrivatePostgres
    redis: PrivateRedis
    drivers: list[SimulatedDriver]
    counts: Counter[str] = field(default_factory=Counter)
    log: list[dict[str, Any]] = field(default_factory=list)
    connections_cut: int = 0
    only: frozenset[str] = frozenset()  # inject only these kinds (all when empty)
    _next_instance: int = 0

    def schedule(self) -> list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]]:
        """The faults in the order they are injected; the suite goes round it as long as the load lasts."""
        return [
            ("instance_sigkill", self.kill_instance),
            ("drivers_cut", self.cut_drivers),
            ("redis_restart", lambda: self.restart_redis(crash=False)),
            ("postgres_restart", lambda: self.restart_postgres(crash=True)),
            ("instance_sigkill", self.kill_instance),
            ("drivers_cut", self.cut_drivers),
            ("redis_restart", lambda: self.restart_redis(crash=True)),
            ("postgres_restart", lambda: self.restart_postgres(crash=False)),
            ("redis_data_lost", lambda: self.restart_redis(crash=True, lose_data=True)),
        ]

    async def run(self, seconds: float, every: float, warmup: float) -> None:
        """Inject faults every `every` seconds (after `warmup`) for `seconds` in all."""
        deadline = time.monotonic() + seconds
        await asyncio.sleep(warmup)
        plan = [(name, fault) for name, fault in self.schedule() if not self.only or name in self.only]
        turn = 0
        while time.monotonic() + every / 2 < deadline:
            name, fault = plan[turn % len(plan)]
            turn += 1
            began = time.monotonic()
            details = await fault()
            recovered = await self._recovered()
            self.counts[name] += 1
            self.log.append({"fault": name, "at_s": round(began - (deadline - seconds), 1),
                             "recovery_s": None if recovered is None else round(recovered - began, 1), **details})
            await asyncio.sleep(max(0.0, every - (time.monotonic() - began)))

    async def kill_instance(self) -> dict[str, Any]:
        """SIGKILL one instance (in turn), leave it down a moment, then start it again."""
        index = self._next_instance % len(self.instances.processes)
        self._next_instance += 1
        await asyncio.to_thread(self.instances.kill, index)
        await asyncio.sleep(INSTANCE_DOWN_SECONDS)
        await asyncio.to_thread(self.instances.start, index)
        self.instances.killed.discard(index)
        return {"instance": index}

    async def cut_drivers(self) -> dict[str, Any]:
        """Drop a batch of the connected drivers' connections abruptly."""
        connected = [d for d in self.drivers if d.ws is not None and not d.ws.closed]
        batch = random.sample(connected, k=int(len(connected) * CUT_SHARE))
        cut = sum(1 for driver in batch if driver.cut())
        self.connections_cut += cut
        return {"connections_cut": cut}

    async def restart_redis(self, *, crash: bool, lose_data: bool = False) -> dict[str, Any]:
        await asyncio.to_thread(self.redis.restart, crash=crash, down_seconds=SERVER_DOWN_SECONDS, lose_data=lose_data)
        return {"how": ("SIGKILL" if crash else "SIGTERM") + (", data folder emptied" if lose_data else "")}

    async def restart_postgres(self, *, crash: bool) -> dict[str, Any]:
        await asyncio.to_thread(self.postgres.restart, crash=crash, down_seconds=SERVER_DOWN_SECONDS)
        return {"how": "immediate (crash recovery)" if crash else "fast"}

    async def _recovered(self) -> float | None:
        """Wait until every instance answers ready again; return when, or None if it never did."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self.instances.all_ready):
                return time.monotonic()
            await asyncio.sleep(0.5)
        self.counts["recovery_timeouts"] += 1
        return None
