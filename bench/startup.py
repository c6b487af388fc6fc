"""Time from `taxicrm serve` to a ready service with the embedded default (first start and restart)."""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import ServiceProcess

RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def timed_start(env: dict[str, str], log_dir: Path) -> float:
    started = time.monotonic()
    service = ServiceProcess(env).start(log_dir)
    elapsed = time.monotonic() - started
    service.stop(signal.SIGTERM)
    return elapsed


def main() -> None:
    first, restart = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as folder:
            env = {"DATABASE_URL": "", "REDIS_URL": "", "TAXICRM_DATA": f"{folder}/data",
                   "TAXICRM_ADMIN_PASSWORD": "bench admin pw"}
            first.append(timed_start(env, Path(folder)))
            restart.append(timed_start(env, Path(folder)))
    result = {
        "benchmark": "startup",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "runs": RUNS,
        "first_start_seconds": {"median": round(statistics.median(first), 2), "all": [round(x, 2) for x in first]},
        "restart_seconds": {"median": round(statistics.median(restart), 2), "all": [round(x, 2) for x in restart]},
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
