"""PostgreSQL and Redis servers on loopback for the production profile and the tests.

`PostgresServer` runs a cluster of its own (initdb into a temp dir, or into a given
folder that is kept), listening on 127.0.0.1 and a free port only, trust auth for
one user. `RedisServer` runs a redis-server on 127.0.0.1 and a free port without
persistence (it only holds Rasa's conversation locks). Both come from Debian's
packages, installed by `ops/install_services.sh`.

    from ops.services import PostgresServer, RedisServer
    with PostgresServer() as pg, RedisServer() as redis:
        pg.tracker_store_yaml(), redis.lock_store_yaml()
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
INSTALL_SCRIPT = ROOT / "ops" / "install_services.sh"


class ServiceUnavailable(RuntimeError):
    """PostgreSQL or Redis cannot be installed or started on this machine."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _postgres_bindir() -> Optional[Path]:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("postgres")
    return Path(found).resolve().parent if found else None


def ensure_installed() -> None:
    """Run ops/install_services.sh when PostgreSQL or Redis is missing."""
    if _postgres_bindir() and shutil.which("redis-server"):
        return
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
    )
    if result.returncode != 0 or not (_postgres_bindir() and shutil.which("redis-server")):
        raise ServiceUnavailable(
            "PostgreSQL/Redis could not be installed from Debian's packages "
            f"(ops/install_services.sh exit {result.returncode}):\n{result.stdout[-2000:]}"
        )


def _wait_port(port: int, proc: subprocess.Popen, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"{what} exited with {proc.returncode}; log {log}:\n{_tail(log)}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise ServiceUnavailable(f"{what} not listening on {HOST}:{port} after {timeout:.0f}s; log {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: Optional[subprocess.Popen], sig: int, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class PostgresServer:
    """A PostgreSQL cluster of its own on 127.0.0.1 (trust auth, one user, one database)."""

    def __init__(
        self,
        data_dir: Optional[Path] = None,
        port: Optional[int] = None,
        user: str = "mailhilfe",
        database: str = "mailhilfe",
        durable: bool = True,
        max_connections: int = 200,
    ) -> None:
        self.keep = data_dir is not None
        self._tmp: Optional[str] = None
        self.data_dir = Path(data_dir) if data_dir else None
        self.port = port or free_port()
        self.user = user
        self.database = database
        self.durable = durable
        self.max_connections = max_connections
        self.proc: Optional[subprocess.Popen] = None
        self.log_path: Optional[Path] = None

    # Debian's PostgreSQL refuses to run as root: run it as the `postgres` system user then.
    @staticmethod
    def _run_as() -> dict:
        if os.geteuid() != 0:
            return {}
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServiceUnavailable("running as root and there is no `postgres` system user") from exc
        return {"user": "postgres", "group": "postgres", "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{HOST}:{self.port}/{self.database}"

    def tracker_store_yaml(self) -> str:
        """The `tracker_store:` block of Rasa's endpoints file (SQLTrackerStore, dialect postgresql)."""
        return (
            "tracker_store:\n"
            "  type: SQL\n"
            "  dialect: postgresql\n"
            f"  url: {HOST}\n"
            f"  port: {self.port}\n"
            f"  username: {self.user}\n"
            "  password: \"\"\n"
            f"  db: {self.database}\n"
        )

    def start(self, timeout: float = 60.0) -> "PostgresServer":
        bindir = _postgres_bindir()
        if bindir is None:
            raise ServiceUnavailable("PostgreSQL is not installed (run ops/install_services.sh)")
        if self.data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="mailhilfe-pg-")
            self.data_dir = Path(self._tmp) / "data"
        run_as = self._run_as()
        base = self.data_dir.parent
        base.mkdir(parents=True, exist_ok=True)
        if self._tmp:
            os.chmod(self._tmp, 0o755)
        self.log_path = base / ("postgres.log" if self.keep else f"postgres-{self.port}.log")
        self.log_path.touch()
        self._chown(self.log_path)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.data_dir, 0o700)
            self._chown(self.data_dir)
            result = subprocess.run(
                [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user, "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, **run_as,
            )
            if result.returncode != 0:
                raise ServiceUnavailable(f"initdb failed:\n{result.stdout[-2000:]}")
        args = [
            str(bindir / "postgres"), "-D", str(self.data_dir),
            "-c", f"listen_addresses={HOST}", "-p", str(self.port),
            "-c", f"unix_socket_directories={self.data_dir}",
            "-c", f"max_connections={self.max_connections}",
            "-c", "shared_buffers=64MB",
        ]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **run_as,
        )
        log.close()
        try:
            _wait_port(self.port, self.proc, timeout, "PostgreSQL", self.log_path)
            self._create_database(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _create_database(self, timeout: float) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = psycopg2.connect(host=HOST, port=self.port, user=self.user, dbname="postgres")
                break
            except psycopg2.OperationalError:
                # "the database system is starting up"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # "fast" shutdown
        self.proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self.data_dir = None

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, no persistence."""

    def __init__(self, port: Optional[int] = None, db: int = 1, key_prefix: str = "mailhilfe") -> None:
        self.port = port or free_port()
        self.db = db
        self.key_prefix = key_prefix
        self.proc: Optional[subprocess.Popen] = None
        self._tmp: Optional[str] = None
        self.log_path: Optional[Path] = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/{self.db}"

    def lock_store_yaml(self) -> str:
        """The `lock_store:` block of Rasa's endpoints file (RedisLockStore)."""
        return (
            "lock_store:\n"
            "  type: redis\n"
            f"  url: {HOST}\n"
            f"  port: {self.port}\n"
            f"  db: {self.db}\n"
            f"  key_prefix: {self.key_prefix}\n"
        )

    def start(self, timeout: float = 30.0) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server is not installed (run ops/install_services.sh)")
        self._tmp = tempfile.mkdtemp(prefix="mailhilfe-redis-")
        self.log_path = Path(self._tmp) / "redis.log"
        args = [
            binary, "--bind", HOST, "--port", str(self.port), "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--dir", self._tmp, "--daemonize", "no",
            "--databases", "16",
        ]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        try:
            _wait_port(self.port, self.proc, timeout, "redis-server", self.log_path)
            self._wait_ping(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_ping(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise ServiceUnavailable("redis-server does not answer PING")

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)
        self.proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m ops.services`: start both, print their addresses, stop on Ctrl-C."""
    ensure_installed()
    with PostgresServer() as pg, RedisServer() as redis:
        print(f"PostgreSQL: {pg.url}\nRedis:      {redis.url}\nPress Ctrl-C to stop.", flush=True)
        try:
            while pg.proc and pg.proc.poll() is None and redis.proc and redis.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
