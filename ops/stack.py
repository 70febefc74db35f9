"""Start and stop the whole stack: Rasa server, action server and web app.

Used by `make run` (`python -m ops.stack run`), by the test fixture `live_stack`
and by the benchmarks. Every process listens on 127.0.0.1 only; Rasa's HTTP API is
protected by a token.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_MODEL = ROOT / "models" / "mailhilfe.tar.gz"
RUN_DIR = ROOT / ".run"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def quiet_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": str(ROOT),
            "SANIC_HOST": HOST,
        }
    )
    env.update(extra or {})
    return env


def prepare_sqlite(path: Path) -> None:
    """Create the SQLite tracker file in WAL mode (kept by the file, so Rasa's own
    connections use it too): one fsync per saved tracker instead of several, and readers
    never wait for the writer. Back up the -wal file together with the database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(str(path), timeout=30)) as conn:
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")


@dataclass
class Process:
    name: str
    args: List[str]
    health_url: str
    log_path: Path
    env: Dict[str, str] = field(default_factory=dict)
    popen: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=quiet_env(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
            if http_ok(self.health_url):
                return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f}s; see {self.log_path}:\n{self.tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running():
            self.popen = None
            return
        assert self.popen is not None
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        self.popen = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Stack:
    """The running bot: action server(s), Rasa server(s) and (optionally) the web app.

    Defaults: one action server, one Rasa server with the SQLite tracker store and the
    in-memory lock store, the web app. For scale-out give `rasa_processes=N` (and
    `actions_processes=M`, Rasa server i calls action server i mod M) together with a
    shared `tracker_store` and `lock_store` (YAML blocks, see `ops.services`); the web
    app then gets every Rasa URL in `RASA_URLS` (comma-separated, first = `RASA_URL`).
    """

    def __init__(
        self,
        model: Path = DEFAULT_MODEL,
        web: bool = True,
        rasa_port: Optional[int] = None,
        actions_port: Optional[int] = None,
        web_port: Optional[int] = None,
        tracker_db: Optional[Path] = None,
        run_dir: Optional[Path] = None,
        rasa_token: Optional[str] = None,
        assist_token: Optional[str] = None,
        web_env: Optional[Dict[str, str]] = None,
        endpoints_extra: str = "",
        rasa_processes: int = 1,
        actions_processes: int = 1,
        tracker_store: Optional[str] = None,
        lock_store: Optional[str] = None,
        rasa_env: Optional[Dict[str, str]] = None,
        credentials: Optional[Path] = None,
        plain_rasa: bool = False,
    ) -> None:
        if rasa_processes < 1 or actions_processes < 1:
            raise ValueError("need at least one Rasa server and one action server")
        if rasa_processes > 1 and not lock_store:
            raise ValueError(
                "several Rasa processes need a shared lock store (e.g. ops.services.RedisServer"
                ".lock_store_yaml()); in-memory locks would let two processes write one tracker at once"
            )
        self.model = Path(model)
        self.run_dir = Path(run_dir) if run_dir else RUN_DIR / f"stack-{os.getpid()}-{secrets.token_hex(3)}"
        self.rasa_port = rasa_port or free_port()
        self.actions_port = actions_port or free_port()
        self.rasa_ports = [self.rasa_port] + [free_port() for _ in range(rasa_processes - 1)]
        self.actions_ports = [self.actions_port] + [free_port() for _ in range(actions_processes - 1)]
        self.web_port = (web_port or free_port()) if web else None
        self.tracker_db = Path(tracker_db) if tracker_db else self.run_dir / "tracker.db"
        self.rasa_token = rasa_token or secrets.token_hex(24)
        self.assist_token = assist_token or secrets.token_hex(24)
        self.web_env = web_env or {}
        self.endpoints_extra = endpoints_extra
        self.tracker_store = tracker_store
        self.lock_store = lock_store
        self.rasa_env = rasa_env or {}
        self.credentials = Path(credentials) if credentials else None
        self.plain_rasa = plain_rasa
        self.rasa_urls = [f"http://{HOST}:{port}" for port in self.rasa_ports]
        self.actions_urls = [f"http://{HOST}:{port}" for port in self.actions_ports]
        self.rasa_url = self.rasa_urls[0]
        self.actions_url = self.actions_urls[0]
        self.web_url = f"http://{HOST}:{self.web_port}" if web else None
        self.processes: Dict[str, Process] = {}
        self._build_processes()

    @staticmethod
    def _name(kind: str, index: int) -> str:
        return kind if index == 0 else f"{kind}{index + 1}"

    @property
    def rasa_names(self) -> List[str]:
        return [self._name("rasa", i) for i in range(len(self.rasa_ports))]

    @property
    def actions_names(self) -> List[str]:
        return [self._name("actions", i) for i in range(len(self.actions_ports))]

    # -- configuration -------------------------------------------------
    def endpoints_file(self, index: int = 0) -> Path:
        """Endpoints of Rasa server `index` (its action server, the tracker and lock store)."""
        path = self.run_dir / ("endpoints.yml" if index == 0 else f"endpoints{index + 1}.yml")
        actions_url = self.actions_urls[index % len(self.actions_urls)]
        if self.tracker_store:
            tracker = self.tracker_store.rstrip("\n") + "\n"
        else:
            prepare_sqlite(self.tracker_db)
            tracker = (
                "tracker_store:\n"
                "  type: SQL\n"
                "  dialect: sqlite\n"
                f"  db: \"{self.tracker_db}\"\n"
            )
        lock = self.lock_store.rstrip("\n") + "\n" if self.lock_store else "lock_store:\n  type: in_memory\n"
        path.write_text(
            "action_endpoint:\n"
            f"  url: \"{actions_url}/webhook\"\n" + tracker + lock + self.endpoints_extra
        )
        return path

    def credentials_file(self) -> Path:
        if self.credentials:
            return self.credentials
        path = ROOT / "credentials.yml"
        if path.exists():
            return path
        # no project credentials yet: Rasa's plain REST channel
        fallback = self.run_dir / "credentials.yml"
        fallback.write_text("rest:\n")
        return fallback

    def _build_processes(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        python = str(VENV_BIN / "python")
        for index, port in enumerate(self.actions_ports):
            name = self._name("actions", index)
            self.processes[name] = Process(
                "action server" if index == 0 else f"action server {index + 1}",
                [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
                f"{self.actions_urls[index]}/health",
                self.run_dir / f"{name}.log",
            )
        credentials = self.credentials_file()
        for index, port in enumerate(self.rasa_ports):
            name = self._name("rasa", index)
            self.processes[name] = Process(
                "Rasa server" if index == 0 else f"Rasa server {index + 1}",
                [
                    *self._rasa_command(python), "run",
                    "--model", str(self.model),
                    "--endpoints", str(self.endpoints_file(index)),
                    "--credentials", str(credentials),
                    "--interface", HOST,
                    "--port", str(port),
                    "--enable-api",
                    # "=" form: a token starting with "-" is not taken for an option
                    f"--auth-token={self.rasa_token}",
                ],
                f"{self.rasa_urls[index]}/status?token={self.rasa_token}",
                self.run_dir / f"{name}.log",
                env=dict(self.rasa_env),
            )
        if self.web_port:
            env = {
                "WEB_HOST": HOST,
                "WEB_PORT": str(self.web_port),
                "RASA_URL": self.rasa_url,
                "RASA_TOKEN": self.rasa_token,
                "ASSIST_TOKEN": self.assist_token,
            }
            if len(self.rasa_urls) > 1:
                env["RASA_URLS"] = ",".join(self.rasa_urls)
            env.update(self.web_env)
            self.processes["web"] = Process(
                "web app", [python, "-m", "bot.web"], f"{self.web_url}/",
                self.run_dir / "web.log", env=env,
            )

    def _rasa_command(self, python: str) -> List[str]:
        """`rasa` with our fixes and speed-ups (ops/rasa_patches/); plain Rasa
        (`plain_rasa=True`) for the benchmark's default-configuration baseline."""
        if self.plain_rasa:
            return [str(VENV_BIN / "rasa")]
        return [python, "-m", "ops.rasa_patches"]

    def _order(self) -> List[str]:
        names = self.actions_names + self.rasa_names + ["web"]
        return [n for n in names if n in self.processes]

    # -- life cycle ----------------------------------------------------
    def start(self, timeout: float = 300.0) -> "Stack":
        if not self.model.exists():
            raise RuntimeError(f"no trained model at {self.model}: run `make train` first")
        try:
            for name in self._order():
                self.processes[name].start()
            for name in self._order():
                self.processes[name].wait_healthy(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in reversed(self._order()):
            self.processes[name].stop()

    def stop_rasa(self, index: int = 0) -> None:
        self.processes[self._name("rasa", index)].stop()

    def kill_rasa(self, index: int = 0) -> None:
        """SIGKILL Rasa server `index` (a crash, no clean shutdown)."""
        proc = self.processes[self._name("rasa", index)]
        if proc.running():
            assert proc.popen is not None
            try:
                os.killpg(proc.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.popen.wait(timeout=30)
        proc.popen = None

    def start_rasa(self, timeout: float = 300.0, index: int = 0) -> None:
        proc = self.processes[self._name("rasa", index)]
        proc.start()
        proc.wait_healthy(timeout)

    def stop_actions(self, index: int = 0) -> None:
        self.processes[self._name("actions", index)].stop()

    def start_actions(self, timeout: float = 60.0, index: int = 0) -> None:
        proc = self.processes[self._name("actions", index)]
        proc.start()
        proc.wait_healthy(timeout)

    def pids(self) -> Dict[str, int]:
        return {n: p.popen.pid for n, p in self.processes.items() if p.popen is not None}

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def run_forever(args: argparse.Namespace) -> int:
    assist_token = os.environ.get("ASSIST_TOKEN") or secrets.token_hex(18)
    rasa_token = os.environ.get("RASA_TOKEN") or secrets.token_hex(24)
    var = ROOT / "var"
    stack = Stack(
        web=(ROOT / "bot" / "web" / "__main__.py").exists(),
        rasa_port=5005,
        actions_port=5055,
        web_port=int(os.environ.get("WEB_PORT", "8080")),
        tracker_db=var / "tracker.db",
        run_dir=RUN_DIR / "run",
        rasa_token=rasa_token,
        assist_token=assist_token,
    )
    print("Starting Mailhilfe (this takes about 20 seconds) ...", flush=True)
    stop_requested = False

    def request_stop(*_):
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print("\nMailhilfe is running:")
        if stack.web_url:
            print(f"  Chat widget demo page : {stack.web_url}/")
            print(f"  Agent assist          : {stack.web_url}/assist   (token: {assist_token})")
        print(f"  Rasa server (private) : {stack.rasa_url}")
        print(f"  Action server (private): {stack.actions_url}")
        print(f"  Conversations are kept in {stack.tracker_db}")
        print(f"  Logs: {stack.run_dir}/*.log")
        print("Press Ctrl-C to stop.", flush=True)
        while not stop_requested:
            for proc in stack.processes.values():
                if not proc.running():
                    print(f"{proc.name} stopped unexpectedly:\n{proc.tail()}", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run"])
    args = parser.parse_args(argv)
    return run_forever(args)


if __name__ == "__main__":
    sys.exit(main())
