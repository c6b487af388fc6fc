"""The `taxicrm` command: serve, demo, migrate, create-user, settings, import and export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import getpass
import logging
import multiprocessing
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from typing import IO, Any

import asyncpg
from aiohttp import web

from callcenter.model import StaffUser
from subscribers import transfer
from subscribers.importer import Rejection
from subscribers.phones import PhonePlan
from subscribers.transfer import ImportProgress, ImportSummary
from taxicrm.accesslog import AccessLogger, configure_logging
from taxicrm.app import create_app
from taxicrm.auth import STAFF_ROLES
from taxicrm.collector import freeze_survivors, tend_collector
from taxicrm.demo.api import ApiError
from taxicrm.demo.options import DEFAULT_SIZE, SIZES, DemoOptions
from taxicrm.demo.runner import DemoError, run_demo
from taxicrm.embedded import EmbeddedError, EmbeddedServers
from taxicrm.errors import DomainError, InvalidInput
from taxicrm.loop import run_fast
from taxicrm.migrations import MigrationError, migrate
from taxicrm.settings import Settings, SettingsError, load_settings, settings_table
from taxicrm.startup import StartupError, check_postgres, check_redis, create_user, ensure_first_admin

log = logging.getLogger("taxicrm")


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line; every subcommand has its own --help."""
    parser = argparse.ArgumentParser(
        prog="taxicrm",
        description="Dispatch CRM for radio-taxi call centers. Configured by environment variables "
        "(see `taxicrm settings`); with DATABASE_URL and REDIS_URL unset it runs embedded "
        "PostgreSQL and Redis in TAXICRM_DATA.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the HTTP and websocket service",
                                description="Apply migrations, then serve HTTP and websockets until "
                                "Ctrl-C or SIGTERM (which also stop any embedded servers).")
    serve.add_argument("--host", help="address to listen on (default: TAXICRM_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: TAXICRM_PORT or 8080)")
    _add_demo_parser(commands)
    commands.add_parser("migrate", help="apply pending database migrations and exit",
                        description="Apply the numbered files in migrations/ that the database lacks.")
    user = commands.add_parser("create-user", help="create an operator, supervisor or admin account",
                               description="Create a staff account. The password is read from standard "
                               "input with --password-stdin, else asked for twice at the terminal.")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=[role.value for role in STAFF_ROLES])
    user.add_argument("--display-name", default="", help="name shown in the console (default: username)")
    user.add_argument("--extension", help="the operator's phone extension (digits)")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("settings", help="list every environment variable, its default and meaning")
    importer = commands.add_parser(
        "import-subscribers", help="import subscribers from a CSV file",
        description="Import subscribers from a UTF-8 CSV file whose header names the columns name, phones and "
        "(optionally) addresses. phones: numbers separated by ';', each NUMBER or NUMBER|LABEL. addresses: "
        "separated by ';', each LABEL|FULL TEXT|LANDMARK|LAT|LNG (trailing parts optional; one part is the full "
        "text). A row whose phones already belong to a subscriber is not imported again, so re-running a file "
        "is safe. Rows are committed in batches of 50,000.")
    importer.add_argument("file", metavar="FILE", help="the CSV file to import")
    importer.add_argument("--dry-run", action="store_true",
                          help="check every row, against the database too, and change nothing")
    importer.add_argument("--report", metavar="CSV",
                          help="write the rejected rows to this CSV file: line, code, reason and the row itself")
    exporter = commands.add_parser("export-subscribers", help="export every live subscriber to a CSV file",
                                   description="Write every subscriber (merged ones left out) with phones and "
                                   "addresses to a UTF-8 CSV file in the layout import-subscribers reads.")
    exporter.add_argument("file", metavar="FILE", help="the CSV file to write (replaced if it exists)")
    return parser


def _add_demo_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="run the service with a living demo city: Tehran's subscribers, drivers, calls",
        description="Start the service as `taxicrm serve` does (embedded PostgreSQL and Redis unless DATABASE_URL "
        "and REDIS_URL are set), seed a demo city once (staff accounts, subscribers, zones, a tariff, drivers), "
        "print the console's address and the demo logins, then simulate drivers' apps, callers and operators "
        "until Ctrl-C. A later run on the same data finds the city and does not seed it again.")
    demo.add_argument("--size", choices=sorted(SIZES), default=DEFAULT_SIZE,
                      help=f"city preset (default: {DEFAULT_SIZE}): " + "; ".join(
                          f"{name}: {s.subscribers:,} subscribers, {s.drivers} drivers, {s.operators} operators, "
                          f"{s.peak_calls_per_hour:g} calls/hour at peak" for name, s in SIZES.items()))
    demo.add_argument("--subscribers", type=_positive_int, help="subscribers to seed (overrides the preset)")
    demo.add_argument("--drivers", type=_positive_int, help="drivers to seed and simulate (overrides the preset)")
    demo.add_argument("--operators", type=_positive_int, help="operator accounts with extensions 201, 202, ...")
    demo.add_argument("--call-rate", type=_positive_float, metavar="PER_HOUR",
                      help="calls per hour at the busiest hour; the day's curve scales it (default: the preset's)")
    demo.add_argument("--hour", type=_hour, metavar="H",
                      help="shape the call rate as if the center's clock showed this hour, 0-23 (default: its real "
                      "time in TAXICRM_TIMEZONE)")
    demo.add_argument("--pace", type=_positive_float, default=1.0,
                      help="run drives, waits and talk this many times faster than real time (default: 1)")
    demo.add_argument("--hang-up-share", type=_share, default=0.12, metavar="SHARE",
                      help="share of callers who hang up before an answer, 0 to 1 (default: 0.12)")
    demo.add_argument("--seed", type=int, default=1, help="seed of the generated city (default: 1)")
    demo.add_argument("--minutes", type=_positive_float, help="stop by itself after this many minutes")
    demo.add_argument("--host", help="address to listen on (default: TAXICRM_HOST or 127.0.0.1)")
    demo.add_argument("--port", type=int, help="port to listen on (default: TAXICRM_PORT or 8080)")
    # For tests and benchmarks: how often driver apps report, and how often the status line is printed.
    demo.add_argument("--position-interval", type=_positive_float, default=4.0, help=argparse.SUPPRESS)
    demo.add_argument("--status-every", type=_positive_float, default=60.0, help=argparse.SUPPRESS)


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a number above 0")
    return value


def _share(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a share from 0 to 1")
    return value


def _hour(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < 24:
        raise argparse.ArgumentTypeError("must be an hour from 0 to 23")
    return value


def demo_options(args: argparse.Namespace) -> DemoOptions:
    """Turn `taxicrm demo`'s arguments into its options."""
    preset = SIZES[args.size]
    size = dataclasses.replace(
        preset, subscribers=args.subscribers or preset.subscribers, drivers=args.drivers or preset.drivers,
        operators=args.operators or preset.operators, peak_calls_per_hour=args.call_rate or preset.peak_calls_per_hour)
    return DemoOptions(size=size, seed=args.seed, pace=args.pace, hour=args.hour, hang_up_share=args.hang_up_share,
                       position_interval_s=args.position_interval, status_every_s=args.status_every,
                       run_for_s=None if args.minutes is None else args.minutes * 60)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code; errors print one line, not a traceback."""
    args = build_parser().parse_args(argv)
    if args.command == "settings":
        print(settings_table())
        return 0
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "serve":
            settings = dataclasses.replace(settings, host=args.host or settings.host,
                                           port=args.port or settings.port)
            return run_serve(settings)
        if args.command == "demo":
            settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
            return run_demo_service(settings, demo_options(args))
        if args.command == "migrate":
            with servers(settings, redis=False) as resolved:
                applied = asyncio.run(_migrate(resolved.database_url or ""))
            print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
            return 0
        if args.command == "import-subscribers":
            return run_import(settings, args.file, dry_run=args.dry_run, report_path=args.report)
        if args.command == "export-subscribers":
            return run_export(settings, args.file)
        password = _read_password(args.password_stdin)
        with servers(settings, redis=False) as resolved:
            user = asyncio.run(_create_user(resolved.database_url or "", args, password))
        print(f"created {user.role} '{user.username}' (id {user.id})")
        return 0
    except (SettingsError, StartupError, MigrationError, EmbeddedError, DemoError) as err:
        print(f"taxicrm: {err}", file=sys.stderr)
        return 1
    except ApiError as err:
        print(f"taxicrm: demo: the service refused a request: {err}", file=sys.stderr)
        return 1
    except DomainError as err:
        print(f"taxicrm: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


@contextlib.contextmanager
def servers(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Yield settings whose URLs point at running servers, starting embedded ones for unset URLs."""
    embedded = EmbeddedServers(settings.data_dir)
    try:
        if settings.database_url is None:
            settings = dataclasses.replace(settings, database_url=embedded.start_postgres())
        if redis and settings.redis_url is None:
            settings = dataclasses.replace(settings, redis_url=embedded.start_redis())
        yield settings
    finally:
        embedded.stop()


async def _migrate(database_url: str) -> list[str]:
    await check_postgres(database_url)
    return await migrate(database_url)


async def _create_user(database_url: str, args: argparse.Namespace, password: str) -> StaffUser:
    await _migrate(database_url)
    return await create_user(database_url, args.username, args.display_name, args.role, password,
                             args.extension)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise StartupError("no terminal to ask for the password; pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise StartupError("the two passwords differ; nothing was created")
    return first


def run_serve(settings: Settings) -> int:
    """Start embedded servers if needed, migrate, serve until a signal, then stop everything."""
    started = time.monotonic()
    with servers(settings) as resolved:
        run_fast(_prepare(resolved))
        if resolved.workers == 1:
            run_fast(_serve(resolved, started))
        else:
            return _serve_in_workers(resolved, started)
    return 0


async def _prepare(settings: Settings, *, first_admin: bool = True) -> None:
    database_url = settings.database_url or ""  # Set by servers().
    await check_postgres(database_url)
    await check_redis(settings.redis_url or "")
    await migrate(database_url)
    if first_admin:
        await ensure_first_admin(database_url, settings.admin_password)


def run_demo_service(settings: Settings, options: DemoOptions) -> int:
    """Serve as `taxicrm serve` does, in one process, with the demo city living beside the service."""
    started = time.monotonic()
    # The simulated PBX needs the webhook's secret: one is made for this run unless the center set its own.
    # One process: the simulation shares its loop with the service. No access log: the status line says more.
    settings = dataclasses.replace(settings, workers=1, access_log=False,
                                   webhook_secret=settings.webhook_secret or secrets.token_urlsafe(24))
    with servers(settings) as resolved:
        run_fast(_prepare(resolved, first_admin=False))  # The demo makes its own admin.

        async def city(base_url: str, stop: asyncio.Event) -> None:
            await run_demo(resolved, options, base_url, stop)

        run_fast(_serve(resolved, started, beside=city))
    return 0


def _serve_in_workers(settings: Settings, started: float) -> int:
    """Serve from `settings.workers` processes on one port; the kernel spreads connections among them.

    Each worker is a whole instance, as several machines behind a load balancer would be (they share only
    PostgreSQL and Redis), so one Python process per core puts every core to work. A worker that dies takes
    the others down with it, for the supervisor (systemd, Docker) to restart the service whole.
    """
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(settings, started), name=f"taxicrm-worker-{n}", daemon=False)
               for n in range(settings.workers)]
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    for worker in workers:
        worker.start()
    while not stopping.wait(0.5):
        if any(not worker.is_alive() for worker in workers):
            log.error("a worker stopped; stopping the others")
            break
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.join(timeout=30)
    return 0 if stopping.is_set() and all(worker.exitcode == 0 for worker in workers) else 1


def _worker(settings: Settings, started: float) -> None:
    """Run one worker process (a spawned child of `taxicrm serve`)."""
    configure_logging(settings.log_level, settings.log_format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops the workers in turn.
    try:
        run_fast(_serve(settings, started, reuse_port=True))
    except StartupError as err:
        print(f"taxicrm: {err}", file=sys.stderr)
        sys.exit(1)


async def _serve(settings: Settings, started: float, *, reuse_port: bool = False,
                 beside: Callable[[str, asyncio.Event], Coroutine[Any, Any, None]] | None = None) -> None:
    """Serve until a signal.

    `beside` runs alongside (given the service's URL and the stop event); its end, or its failure, stops the
    service too.
    """
    runner = web.AppRunner(create_app(settings), handle_signals=False,
                           access_log_class=AccessLogger,
                           access_log=logging.getLogger("taxicrm.access") if settings.access_log else None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None).start()
        except OSError as err:
            raise StartupError(f"TAXICRM_PORT: cannot listen on {settings.host}:{settings.port}: "
                               f"{err.strerror}") from None
        # Everything built at start lives as long as the process; what connections build later is frozen as
        # they come (see collector.py): the collector never rescans them, which would stall every socket.
        freeze_survivors()
        collector = asyncio.create_task(tend_collector(), name="garbage-collector")
        log.info("taxicrm ready on http://%s:%s in %.1fs", settings.host, settings.port,
                 time.monotonic() - started)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        companion: asyncio.Task[None] | None = None
        if beside is not None:
            host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
            companion = asyncio.create_task(beside(f"http://{host}:{settings.port}", stop), name="beside-service")
            companion.add_done_callback(lambda _: stop.set())
        await stop.wait()
        log.info("stopping")
        if companion is not None:
            await companion  # It watches `stop` and winds down; its failure is the command's.
        collector.cancel()
    finally:
        await runner.cleanup()


def run_import(settings: Settings, path: str, *, dry_run: bool, report_path: str | None) -> int:
    """Import a subscriber CSV file with a progress bar on stderr; print the summary and the rejections."""
    plan = PhonePlan(settings.phone_region, settings.area_code)
    with _open(path, "rb") as source, contextlib.ExitStack() as stack:
        total = transfer.count_rows(source)
        source.seek(0)
        shown: list[Rejection] = []
        report = None
        if report_path is not None:
            report = csv.writer(stack.enter_context(_open(report_path, "w", encoding="utf-8", newline="")))
            report.writerow(transfer.REPORT_COLUMNS)

        def on_rejection(rejection: Rejection) -> None:
            if report is None:
                shown.append(rejection)  # Only the first few are printed; a report file holds any number.
            else:
                report.writerow(transfer.report_row(rejection))

        with servers(settings, redis=False) as resolved:
            summary = asyncio.run(_import(resolved.database_url or "", source, plan, dry_run, on_rejection,
                                          _progress_bar(total)))
    verb = "would import" if dry_run else "imported"
    print(f"{'dry run: ' if dry_run else ''}{verb} {summary.imported} of {summary.rows} row(s); rejected "
          f"{summary.rejected} ({summary.already_imported} already imported)"
          + ("; nothing was changed" if dry_run else ""))
    if summary.ignored_columns:
        print(f"ignored column(s): {', '.join(summary.ignored_columns)}")
    for rejection in shown[:20]:
        print(f"line {rejection.line}: {rejection.code}: {rejection.reason}")
    if len(shown) > 20:
        print(f"... and {len(shown) - 20} more; --report FILE lists them all")
    if report_path is not None and summary.rejected:
        print(f"rejected rows written to {report_path}")
    return 0


async def _import(database_url: str, source: Iterable[bytes], plan: PhonePlan, dry_run: bool,
                  on_rejection: Callable[[Rejection], None], on_progress: Callable[[ImportProgress], None],
                  ) -> ImportSummary:
    await _migrate(database_url)
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        return await transfer.import_subscribers(pool, source, plan, dry_run=dry_run,
                                                 on_rejection=on_rejection, on_progress=on_progress)


def run_export(settings: Settings, path: str) -> int:
    """Export every live subscriber to a CSV file."""
    with _open(path, "w", encoding="utf-8", newline="") as target, servers(settings, redis=False) as resolved:
        count = asyncio.run(_export(resolved.database_url or "", target))
    print(f"exported {count} subscriber(s) to {path}")
    return 0


async def _export(database_url: str, target: IO[str]) -> int:
    await _migrate(database_url)
    count = 0

    def counted(rows: int) -> None:
        nonlocal count
        count = rows

    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool, contextlib.aclosing(
            transfer.export_subscribers(pool, on_progress=counted)) as chunks:
        async for chunk in chunks:
            target.write(chunk)
    return count


def _open(path: str, mode: str, **options: Any) -> IO[Any]:
    try:
        return open(path, mode, **options)  # The caller closes it, in a with statement.
    except OSError as err:
        raise InvalidInput(f"cannot open {path}: {err.strerror}") from None


def _progress_bar(total: int) -> Callable[[ImportProgress], None]:
    """Draw rows done / total and the rate on stderr: a bar on a terminal, a line every 10 s otherwise."""
    started = time.monotonic()
    is_terminal = sys.stderr.isatty()
    last_drawn = started

    def draw(progress: ImportProgress) -> None:
        nonlocal last_drawn
        now = time.monotonic()
        if now - last_drawn < (0.2 if is_terminal else 10.0) and not progress.is_finished:
            return
        last_drawn = now
        rate = progress.rows / max(now - started, 1e-6)
        # The total counts lines; quoted line breaks make it a little more than the rows.
        expected = progress.rows if progress.is_finished else max(total, progress.rows)
        share = progress.rows / expected if expected else 1.0
        text = (f"{progress.rows:,}/{expected:,} rows ({share:.0%}), {rate:,.0f} rows/s, "
                f"{progress.rejected:,} rejected")
        if is_terminal:
            sys.stderr.write(f"\r[{'#' * int(share * 30):<30}] {text}" + ("\n" if progress.is_finished else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    return draw
