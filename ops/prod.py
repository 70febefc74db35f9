"""Production profile: `make run-prod` (`python -m ops.prod`).

- tracker store: PostgreSQL through Rasa's own SQLTrackerStore (dialect postgresql);
  by default a cluster of its own under var/postgres (kept across restarts, listening
  on 127.0.0.1 only), or an existing server given by PG_HOST/PG_PORT/PG_USER/PG_DB
  (password from PG_PASSWORD, which Rasa reads from the environment, never written to
  disk);
- lock store: Redis through Rasa's own RedisLockStore; by default a redis-server of its
  own on 127.0.0.1 without persistence (locks only), or REDIS_HOST/REDIS_PORT/REDIS_DB
  (REDIS_PASSWORD from the environment);
- N Rasa servers and N action servers (`--processes N` or RASA_PROCESSES, default 2;
  Rasa server i calls action server i), all on 127.0.0.1;
- the web app with RASA_URLS listing every Rasa server (bot/web/upstreams.py spreads
  conversations sticky by conversation and fails over), SESSION_SECRET kept in
  var/session_secret so customers keep their conversation across restarts.

A Rasa or action server that dies is restarted (at most 5 times in 10 minutes);
meanwhile the web app sends its conversations to the other Rasa servers.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Deque, Dict, List, Optional

from ops.services import PostgresServer, RedisServer, ServiceUnavailable, ensure_installed
from ops.stack import DEFAULT_MODEL, ROOT, RUN_DIR, Stack

VAR = ROOT / "var"
MAX_RESTARTS = 5
RESTART_WINDOW = 600.0


def external_tracker_store(env: Dict[str, str]) -> Optional[str]:
    if not env.get("PG_HOST"):
        return None
    lines = [
        "tracker_store:", "  type: SQL", "  dialect: postgresql",
        f"  url: {env['PG_HOST']}", f"  port: {int(env.get('PG_PORT', '5432'))}",
        f"  username: {env.get('PG_USER', 'mailhilfe')}", f"  db: {env.get('PG_DB', 'mailhilfe')}",
    ]
    if env.get("PG_PASSWORD"):
        lines.append("  password: ${PG_PASSWORD}")
    return "\n".join(lines) + "\n"


def external_lock_store(env: Dict[str, str]) -> Optional[str]:
    if not env.get("REDIS_HOST"):
        return None
    lines = [
        "lock_store:", "  type: redis", f"  url: {env['REDIS_HOST']}",
        f"  port: {int(env.get('REDIS_PORT', '6379'))}", f"  db: {int(env.get('REDIS_DB', '1'))}",
        "  key_prefix: mailhilfe",
    ]
    if env.get("REDIS_PASSWORD"):
        lines.append("  password: ${REDIS_PASSWORD}")
    return "\n".join(lines) + "\n"


def session_secret(path: Path = VAR / "session_secret") -> str:
    if os.environ.get("SESSION_SECRET"):
        return os.environ["SESSION_SECRET"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    processes = args.processes
    tracker_store = external_tracker_store(env)
    lock_store = external_lock_store(env)
    pg: Optional[PostgresServer] = None
    redis: Optional[RedisServer] = None
    def request_stop(*_):
        raise KeyboardInterrupt  # stop like Ctrl-C, also while waiting for a restart

    signal.signal(signal.SIGTERM, request_stop)
    stack: Optional[Stack] = None
    try:
        if tracker_store is None or lock_store is None:
            ensure_installed()
        if tracker_store is None:
            pg = PostgresServer(data_dir=Path(args.pg_data), port=args.pg_port).start()
            tracker_store = pg.tracker_store_yaml()
        if lock_store is None:
            redis = RedisServer(port=args.redis_port).start()
            lock_store = redis.lock_store_yaml()
        stack = Stack(
            model=Path(args.model),
            web=(ROOT / "bot" / "web" / "__main__.py").exists(),
            rasa_port=args.rasa_port,
            actions_port=args.actions_port,
            web_port=int(env.get("WEB_PORT", "8080")),
            run_dir=RUN_DIR / "prod",
            rasa_token=env.get("RASA_TOKEN") or secrets.token_urlsafe(24),
            assist_token=env.get("ASSIST_TOKEN") or secrets.token_urlsafe(18),
            web_env={"SESSION_SECRET": session_secret()},
            rasa_processes=processes,
            actions_processes=processes,
            tracker_store=tracker_store,
            lock_store=lock_store,
            # a lock left by a crashed process blocks its conversation this long (Rasa: 60 s)
            rasa_env={"TICKET_LOCK_LIFETIME": env.get("TICKET_LOCK_LIFETIME", "10")},
        )
        print(f"Starting Mailhilfe (production profile, {processes} Rasa servers) ...", flush=True)
        stack.start(timeout=args.start_timeout)
        print("\nMailhilfe is running (production profile):")
        if stack.web_url:
            print(f"  Chat widget demo page : {stack.web_url}/")
            print(f"  Agent assist          : {stack.web_url}/assist   (token: {stack.assist_token})")
        for url in stack.rasa_urls:
            print(f"  Rasa server (private) : {url}")
        for url in stack.actions_urls:
            print(f"  Action server (private): {url}")
        print(f"  Tracker store         : {'PostgreSQL ' + pg.url if pg else 'PostgreSQL at ' + env['PG_HOST']}")
        print(f"  Lock store            : {'Redis ' + redis.url if redis else 'Redis at ' + env['REDIS_HOST']}")
        print(f"  Logs: {stack.run_dir}/*.log")
        print("Press Ctrl-C to stop.", flush=True)
        return supervise(stack, pg, redis, args.start_timeout)
    except KeyboardInterrupt:
        return 0
    except ServiceUnavailable as exc:
        print(f"cannot start PostgreSQL/Redis: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # a process did not come up; its log tail is in the message
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        print("\nStopping ...", flush=True)
        if stack is not None:
            stack.stop()
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()


def supervise(stack: Stack, pg, redis, start_timeout: float) -> int:
    """Watch the processes until one fails for good; SIGTERM/Ctrl-C end it from outside."""
    restarts: Dict[str, Deque[float]] = {}
    while True:
        for service, name in ((pg, "PostgreSQL"), (redis, "Redis")):
            if service is not None and service.proc is not None and service.proc.poll() is not None:
                print(f"{name} stopped unexpectedly; see {service.log_path}", file=sys.stderr)
                return 1
        for name, proc in stack.processes.items():
            if proc.running():
                continue
            if name == "web":
                print(f"web app stopped unexpectedly:\n{proc.tail()}", file=sys.stderr)
                return 1
            history = restarts.setdefault(name, deque())
            now = time.monotonic()
            while history and history[0] < now - RESTART_WINDOW:
                history.popleft()
            if len(history) >= MAX_RESTARTS:
                print(f"{proc.name} keeps failing:\n{proc.tail()}", file=sys.stderr)
                return 1
            history.append(now)
            print(f"{proc.name} stopped unexpectedly; restarting ...", file=sys.stderr, flush=True)
            proc.start()
            try:
                proc.wait_healthy(start_timeout)
            except RuntimeError as exc:
                print(str(exc), file=sys.stderr)
        time.sleep(1)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=int(os.environ.get("RASA_PROCESSES", "2")),
                        help="Rasa servers and action servers (default RASA_PROCESSES or 2)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--rasa-port", type=int, default=5005, help="port of the first Rasa server")
    parser.add_argument("--actions-port", type=int, default=5055, help="port of the first action server")
    parser.add_argument("--pg-data", default=str(VAR / "postgres"), help="data folder of the own PostgreSQL")
    parser.add_argument("--pg-port", type=int, default=None, help="port of the own PostgreSQL (default: free)")
    parser.add_argument("--redis-port", type=int, default=None, help="port of the own Redis (default: free)")
    parser.add_argument("--start-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if not 1 <= args.processes <= 16:
        parser.error("--processes must be between 1 and 16")
    if not Path(args.model).exists():
        print(f"no trained model at {args.model}: run `make train` first", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
