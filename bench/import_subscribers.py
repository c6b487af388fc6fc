"""Import N synthetic subscribers (default 1,000,000) from CSV, then re-import and export them; print the rates.

Run: `.venv/bin/python bench/import_subscribers.py [N]`. The database is BENCH_DATABASE_URL, or else a fresh
`taxicrm_bench_import` created (and dropped first if present) on postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from subscribers import transfer
from subscribers.phones import PhonePlan
from taxicrm.migrations import migrate
from tests.support import with_database

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "taxicrm_bench_import"
FIRST_NAMES = ["علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "زهرا", "فاطمه", "مریم", "سارا", "نرگس", "مینا",
               "نیما", "امید", "کوثر", "پریسا", "سعید", "حمید", "لیلا", "شیرین", "بهرام", "آرش", "یاسمن", "الهام"]
LAST_NAMES = ["رضایی", "محمدی", "حسینی", "احمدی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی", "قاسمی",
              "کاظمی", "نوری", "طاهری", "یزدانی", "تهرانی", "شریفی", "اکبری", "عباسی", "زارعی", "مرادی"]
STREETS = ["خیابان ولیعصر", "خیابان انقلاب", "خیابان آزادی", "بلوار کشاورز", "خیابان شریعتی", "خیابان پاسداران",
           "بزرگراه مدرس", "خیابان جمهوری", "میدان ونک", "خیابان سعدی", "خیابان ستارخان", "خیابان دماوند"]
LABELS = ["خانه", "محل کار", "منزل مادر", "باشگاه", ""]
LANDMARKS = ["روبروی بانک ملت", "کنار داروخانه", "نبش کوچه", "جنب مسجد", ""]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write `rows` subscribers with unique Tehran mobile numbers (0912...) and 1-3 addresses each."""
    rng = random.Random(seed)
    numbers = rng.sample(range(10_000_000), rows)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["name", "phones", "addresses"])
        for number in numbers:
            addresses = []
            for _ in range(rng.randint(1, 3)):
                text = f"{rng.choice(STREETS)}، کوچه {rng.randint(1, 60)}، پلاک {rng.randint(1, 300)}"
                if rng.random() < 0.5:
                    lat, lng = round(35.6 + rng.random() * 0.2, 6), round(51.2 + rng.random() * 0.4, 6)
                    addresses.append(f"{rng.choice(LABELS)}|{text}|{rng.choice(LANDMARKS)}|{lat}|{lng}")
                else:
                    addresses.append(f"{rng.choice(LABELS)}|{text}|{rng.choice(LANDMARKS)}")
            writer.writerow([f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", f"0912{number:07d}",
                             ";".join(addresses)])


async def fresh_database() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        url = os.environ["BENCH_DATABASE_URL"]
    else:
        conn = await asyncpg.connect(SERVER_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        finally:
            await conn.close()
        url = with_database(SERVER_URL, BENCH_DATABASE)
    await migrate(url)
    return url


async def timed_import(pool: asyncpg.Pool, path: Path) -> tuple[transfer.ImportSummary, float]:
    started = time.perf_counter()
    with path.open("rb") as lines:
        summary = await transfer.import_subscribers(pool, lines, PhonePlan())
    return summary, time.perf_counter() - started


async def timed_export(pool: asyncpg.Pool, path: Path) -> float:
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as file:
        async with contextlib.aclosing(transfer.export_subscribers(pool)) as chunks:
            async for chunk in chunks:
                file.write(chunk)
    return time.perf_counter() - started


async def run(rows: int, folder: Path) -> dict[str, object]:
    source, exported = folder / "subscribers.csv", folder / "exported.csv"
    started = time.perf_counter()
    generate(source, rows)
    generated = time.perf_counter() - started
    url = await fresh_database()
    async with asyncpg.create_pool(url, min_size=1, max_size=2) as pool:
        first, first_seconds = await timed_import(pool, source)
        again, again_seconds = await timed_import(pool, source)
        export_seconds = await timed_export(pool, exported)
        counts = await pool.fetchrow("SELECT (SELECT count(*) FROM subscribers) AS subscribers, "
                                     "(SELECT count(*) FROM subscriber_phones) AS phones, "
                                     "(SELECT count(*) FROM subscriber_addresses) AS addresses")
    return {
        "benchmark": "import_subscribers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "rows": rows,
        "file_mb": round(source.stat().st_size / 1e6, 1),
        "generate_seconds": round(generated, 1),
        "import": {"seconds": round(first_seconds, 1), "rows_per_second": round(rows / first_seconds),
                   "imported": first.imported, "rejected": first.rejected},
        "reimport": {"seconds": round(again_seconds, 1), "rows_per_second": round(rows / again_seconds),
                     "imported": again.imported, "already_imported": again.already_imported},
        "export": {"seconds": round(export_seconds, 1), "rows_per_second": round(rows / export_seconds),
                   "file_mb": round(exported.stat().st_size / 1e6, 1)},
        "database": dict(counts),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("ROWS", "1000000"))
    with tempfile.TemporaryDirectory(prefix="taxicrm-bench-") as folder:
        result = asyncio.run(run(rows, Path(folder)))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = Path(__file__).parent / "results" / "import_subscribers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
