"""The `taxicrm` command: serve, migrate, create-user, settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import getpass
import logging
import signal
import sys
import time
from collections.abc import Iterator, Sequence

from aiohttp import web

from callcenter.model import StaffUser
from taxicrm.accesslog import AccessLogger, configure_logging
from taxicrm.app import create_app
from taxicrm.auth import STAFF_ROLES
from taxicrm.embedded import EmbeddedError, EmbeddedServers
from taxicrm.errors import DomainError
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
    return parser


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
        if args.command == "migrate":
            with servers(settings, redis=False) as resolved:
                applied = asyncio.run(_migrate(resolved.database_url or ""))
            print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
            return 0
        password = _read_password(args.password_stdin)
        with servers(settings, redis=False) as resolved:
            user = asyncio.run(_create_user(resolved.database_url or "", args, password))
        print(f"created {user.role} '{user.username}' (id {user.id})")
        return 0
    except (SettingsError, StartupError, MigrationError, EmbeddedError) as err:
        print(f"taxicrm: {err}", file=sys.stderr)
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
        asyncio.run(_serve(resolved, started))
    return 0


async def _serve(settings: Settings, started: float) -> None:
    database_url, redis_url = settings.database_url or "", settings.redis_url or ""  # Set by servers().
    await check_postgres(database_url)
    await check_redis(redis_url)
    await migrate(database_url)
    await ensure_first_admin(database_url, settings.admin_password)
    runner = web.AppRunner(create_app(settings), handle_signals=False,
                           access_log_class=AccessLogger,
                           access_log=logging.getLogger("taxicrm.access") if settings.access_log else None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except OSError as err:
            raise StartupError(f"TAXICRM_PORT: cannot listen on {settings.host}:{settings.port}: "
                               f"{err.strerror}") from None
        log.info("taxicrm ready on http://%s:%s in %.1fs", settings.host, settings.port,
                 time.monotonic() - started)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
