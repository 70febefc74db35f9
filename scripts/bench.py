"""Benchmark of the running bot against the plain default Rasa configuration.

`make bench` (or `python scripts/bench.py --quick`) does, in one run:

1. full training time of our configuration (`rasa train --force` into a temp dir with
   an empty cache), and of the plain default configuration (`rasa init`'s config with
   `language: de`, same domain and data; cached under reports/bench/cache by a
   fingerprint of its inputs unless --retrain-default);
2. for every target (ours, default, optional variants, ours on PostgreSQL+Redis with
   one and with two Rasa processes): starts the stack (ops.stack.Stack), measures the
   time from start to the first answer, replays realistic multi-turn conversations
   (tests/conversations/cases/*.yml, else a built-in set) with 1, 4, 16 and 32
   concurrent simulated customers through the web app's /api/chat (each conversation
   with its own cookie jar) and directly through Rasa's REST channel, and samples the
   RSS (incl. children) and CPU time of every process;
3. optionally profiles the Rasa server, action server and web app with py-spy;
4. writes reports/bench/bench.json, reports/bench/bench.png and a summary table with
   our figures as ratios against the default configuration.

Customers send their next message as soon as the answer arrives (no think time), so
each level is a closed-loop saturation test. Loopback only; every loop is bounded by
a message budget and a time limit.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ops.stack import DEFAULT_MODEL, HOST, VENV_BIN, Stack, quiet_env  # noqa: E402

CASES_DIR = ROOT / "tests" / "conversations" / "cases"
OUT_DIR = ROOT / "reports" / "bench"
TRAIN_DATA = ["data/nlu", "data/rules", "data/stories"]
RASA_INIT_CONFIG = "rasa/cli/initial_project/config.yml"
WEBHOOK = "/webhooks/rest/webhook"
REQUEST_TIMEOUT = 30.0
# The web app's abuse limits would throttle a load test from one address.
BENCH_WEB_ENV = {
    "NEW_SESSIONS_PER_MINUTE": "0",
    "RATE_LIMIT_MESSAGES": "1000000",
    "LOG_LEVEL": "WARNING",
}
TARGETS = {
    "one_customer_web_p95_ms": 60.0,
    "c16_throughput_ratio_vs_default": 2.0,
    "c16_p95_ms": 500.0,
    "c16_errors": 0,
    "train_seconds": 180.0,
    "rasa_rss_mb": 1200.0,
}

# A customer's turn: ("user", text) or ("button", title pattern).
Turn = Tuple[str, str]

FALLBACK_CONVERSATIONS: List[Tuple[str, List[Turn]]] = [
    ("outlook_imap", [("user", "Hallo"), ("user", "Ich möchte mein E-Mail-Konto in Outlook einrichten"),
                      ("user", "IMAP"), ("user", "Ja, hat geklappt"), ("user", "Danke, tschüss")]),
    ("not_receiving", [("user", "Ich bekomme seit gestern keine Mails mehr"), ("user", "Thunderbird"),
                       ("user", "nein"), ("user", "immer noch nicht"), ("user", "danke")]),
    ("ports", [("user", "Welcher Port für SMTP?"), ("user", "Und für IMAP mit SSL?"),
               ("user", "Muss ich beim Postausgangsserver ein Passwort eingeben?"), ("user", "danke")]),
    ("bounce_554", [("user", "Ich bekomme beim Senden den Fehler 554 Relay access denied"),
                    ("user", "Was kann ich tun?"), ("user", "Ok danke")]),
    ("mailbox_full", [("user", "Mein Postfach ist voll"), ("user", "Wie groß darf ein Anhang sein?"),
                      ("user", "Danke!")]),
    ("password", [("user", "Wie ändere ich mein Passwort?"), ("user", "Welche Sonderzeichen sind erlaubt?"),
                  ("user", "Wie lang muss es sein?"), ("user", "tschüss")]),
    ("forwarding", [("user", "Ich möchte eine Weiterleitung einrichten"), ("user", "geht das auch zu Gmail?"),
                    ("user", "danke")]),
    ("handover", [("user", "Apple Mail verschickt nichts mehr"), ("user", "Nein, klappt nicht"),
                  ("user", "ich will mit einem Menschen sprechen")]),
]


# ---------------------------------------------------------------------------
# conversations
# ---------------------------------------------------------------------------
def load_conversations(cases_dir: Path = CASES_DIR) -> Tuple[List[Tuple[str, List[Turn]]], str]:
    """Conversations from the regression cases (user texts and button titles)."""
    import yaml

    conversations: List[Tuple[str, List[Turn]]] = []
    for path in sorted(cases_dir.glob("*.yml")) if cases_dir.is_dir() else []:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        cases = doc.get("cases") if isinstance(doc, dict) else doc
        for case in cases or []:
            if not isinstance(case, dict):
                continue
            turns: List[Turn] = []
            for turn in case.get("turns") or []:
                if isinstance(turn, dict) and isinstance(turn.get("user"), str):
                    turns.append(("user", turn["user"]))
                elif isinstance(turn, dict) and isinstance(turn.get("button"), str):
                    turns.append(("button", turn["button"]))
            if turns:
                conversations.append((f"{path.stem}:{case.get('name', len(conversations))}", turns))
    if conversations:
        return conversations, f"{len(conversations)} cases from {cases_dir.relative_to(ROOT)}"
    return list(FALLBACK_CONVERSATIONS), "built-in fallback set (no regression cases found)"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*`]", "", text or "")).strip().casefold()


def find_button(pattern: str, messages: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The payload of the button whose title matches `pattern` (case format rules)."""
    for message in reversed(list(messages)):
        for button in message.get("buttons") or []:
            title = str(button.get("title", ""))
            if pattern.startswith("re:"):
                flat = re.sub(r"\s+", " ", re.sub(r"[*`]", "", title)).strip()
                try:
                    if re.fullmatch(pattern[3:].strip(), flat, re.IGNORECASE):
                        return str(button.get("payload", ""))
                except re.error:
                    return None
            elif _normalise(title) == _normalise(pattern):
                return str(button.get("payload", ""))
    return None


# ---------------------------------------------------------------------------
# process sampling (RSS incl. children, CPU seconds) from /proc
# ---------------------------------------------------------------------------
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children_map() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry))
    return children


def _tree(pid: int, children: Dict[int, List[int]]) -> List[int]:
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime+stime of `pid` and its live children."""
    total = 0.0
    for member in _tree(pid, _children_map()):
        try:
            with open(f"/proc/{member}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
            fields = stat[stat.rindex(")") + 2:].split()
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except (OSError, ValueError, IndexError):
            continue
    return total


class MemorySampler:
    """Peak RSS (process + children) of named processes, sampled in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.pids: Dict[str, int] = {}
        self.peak_kb: Dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.pids[name] = pid

    def sample(self) -> None:
        children = _children_map()
        with self._lock:
            items = list(self.pids.items())
        for name, pid in items:
            rss = sum(_rss_kb(p) for p in _tree(pid, children))
            if rss > self.peak_kb[name]:
                self.peak_kb[name] = rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> "MemorySampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Dict[str, float]:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sample()
        return {name: round(kb / 1024, 1) for name, kb in self.peak_kb.items()}


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
def default_config_text() -> str:
    """`rasa init`'s config.yml with `language: de` (empty pipeline/policies: Rasa's defaults)."""
    import rasa

    text = (Path(rasa.__file__).parent.parent / RASA_INIT_CONFIG).read_text()
    return re.sub(r"(?m)^language: en\s*$", "language: de", text)


def inputs_fingerprint(config_text: str) -> str:
    import rasa

    digest = hashlib.sha256(config_text.encode())
    digest.update(rasa.__version__.encode())
    for name in ["domain.yml"] + TRAIN_DATA:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def train_model(config: Path, out_dir: Path, name: str, log: Path, timeout: float) -> Dict[str, Any]:
    """`rasa train --force` with an empty cache; wall time and peak RSS of the training tree."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / "cache"
    cmd = [
        str(VENV_BIN / "rasa"), "train", "--force", "--config", str(config), "--domain", "domain.yml",
        "--data", *TRAIN_DATA, "--out", str(out_dir), "--fixed-model-name", name,
    ]
    sampler = MemorySampler(interval=0.5).start()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=quiet_env({"RASA_CACHE_DIRECTORY": str(cache)}),
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        sampler.watch("train", proc.pid)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = -9
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    peak = sampler.stop().get("train", 0.0)
    shutil.rmtree(cache, ignore_errors=True)
    model = out_dir / f"{name}.tar.gz"
    if code != 0 or not model.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        why = f"timed out after {timeout:.0f} s" if code == -9 else f"exit {code}"
        raise RuntimeError(f"training {config} failed ({why}), log {log}:\n{tail}")
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "components_seconds": component_times(log),
            "load_avg_after": [round(x, 2) for x in os.getloadavg()], "peak_rss_mb": peak, "model": str(model),
            "model_mb": round(model.stat().st_size / 2**20, 1)}


_HOOK = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +INFO +rasa\.engine\.training\.hooks +- "
                   r"(Starting to train|Finished training) component '([^']+)'", re.M)


def component_times(log: Path) -> Dict[str, float]:
    """Seconds per trained component, from the timestamps of Rasa's training hooks."""
    started: Dict[str, float] = {}
    out: Dict[str, float] = {}
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace").replace("\r", "\n"))
    for stamp, what, name in _HOOK.findall(text):
        moment = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
        if what.startswith("Starting"):
            started[name] = moment
        elif name in started:
            key = name
            n = 2
            while key in out:
                key = f"{name}#{n}"
                n += 1
            out[key] = moment - started.pop(name)
    return out


# ---------------------------------------------------------------------------
# load generation
# ---------------------------------------------------------------------------
@dataclass
class LevelResult:
    mode: str
    concurrency: int
    messages: int = 0
    errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    latencies_ms: List[float] = field(default_factory=list)
    seconds: float = 0.0
    conversations: int = 0
    button_misses: int = 0
    cpu_seconds: Dict[str, float] = field(default_factory=dict)
    segments: int = 1

    def summary(self) -> Dict[str, Any]:
        lat = sorted(self.latencies_ms)
        out = {
            "mode": self.mode, "concurrency": self.concurrency, "messages": self.messages,
            "errors": self.errors, "error_kinds": dict(self.error_kinds),
            "conversations": self.conversations, "button_misses": self.button_misses,
            "seconds": round(self.seconds, 2), "segments": self.segments,
            "messages_per_s": round(self.messages / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
            "mean_ms": round(sum(lat) / len(lat), 1) if lat else None,
            "max_ms": round(lat[-1], 1) if lat else None,
        }
        if self.cpu_seconds and self.messages:
            out["cpu_ms_per_message"] = {
                name: round(1000 * sec / self.messages, 2) for name, sec in self.cpu_seconds.items()
            }
        return out


def pct(sorted_values: Sequence[float], q: float) -> Optional[float]:
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return round(sorted_values[k], 1)


class Client:
    """Sends one conversation's messages through the web app or a Rasa REST channel."""

    def __init__(self, mode: str, stack: Stack, aiohttp_mod) -> None:
        self.mode = mode
        self.stack = stack
        self.aiohttp = aiohttp_mod

    def new_session(self):
        jar = self.aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        return self.aiohttp.ClientSession(
            cookie_jar=jar, timeout=self.aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            connector=self.aiohttp.TCPConnector(limit=2, force_close=False),
        )

    async def send(self, http, sender: str, kind: str, value: str) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """(bot messages, error kind or None)."""
        if self.mode == "web":
            url = f"{self.stack.web_url}/api/chat"
            body = {"payload": value} if kind == "payload" else {"message": value}
            headers = {"Origin": self.stack.web_url}
        else:
            urls = self.stack.rasa_urls
            # sticky by conversation, as the web app spreads them
            url = urls[int(hashlib.sha1(sender.encode()).hexdigest(), 16) % len(urls)] + WEBHOOK
            body = {"sender": sender, "message": value}
            headers = {}
        try:
            async with http.post(url, json=body, headers=headers) as response:
                raw = await response.read()
                if response.status != 200:
                    return [], f"http_{response.status}"
            data = json.loads(raw)
        except asyncio.TimeoutError:
            return [], "timeout"
        except (self.aiohttp.ClientError, OSError) as exc:
            return [], type(exc).__name__
        except ValueError:
            return [], "bad_json"
        if self.mode == "web":
            if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
                return [], "bad_answer"
            return data["messages"], None
        if not isinstance(data, list):
            return [], "bad_answer"
        return data, None


async def run_level(
    stack: Stack, mode: str, concurrency: int, conversations: List[Tuple[str, List[Turn]]],
    budget: int, max_seconds: float, tag: str, cpu_pids: Dict[str, int],
) -> LevelResult:
    import aiohttp

    client = Client(mode, stack, aiohttp)
    result = LevelResult(mode, concurrency)
    deadline = time.monotonic() + max_seconds
    state = {"sent": 0}
    cpu_before = {name: cpu_seconds(pid) for name, pid in cpu_pids.items()}

    def may_send() -> bool:
        return state["sent"] < budget and time.monotonic() < deadline

    async def customer(index: int) -> None:
        n = 0
        while may_send() and n < 10_000:
            _, turns = conversations[(index + n * concurrency) % len(conversations)]
            n += 1
            sender = f"bench-{tag}-{mode}-c{concurrency}-{index}-{n}-{uuid.uuid4().hex[:6]}"
            async with client.new_session() as http:
                last: List[Dict[str, Any]] = []
                result.conversations += 1
                for kind, value in turns:
                    if not may_send():
                        return
                    if kind == "button":
                        payload = find_button(value, last)
                        if payload is None:
                            result.button_misses += 1
                            kind, value = "user", value[3:] if value.startswith("re:") else value
                        else:
                            kind, value = "payload", payload
                    state["sent"] += 1
                    started = time.perf_counter()
                    messages, error = await client.send(http, sender, kind, value)
                    elapsed = (time.perf_counter() - started) * 1000
                    result.messages += 1
                    if error:
                        result.errors += 1
                        result.error_kinds[error] += 1
                        break  # the customer gives up this conversation
                    result.latencies_ms.append(elapsed)
                    last = messages

    started = time.monotonic()
    await asyncio.gather(*(customer(i) for i in range(concurrency)))
    result.seconds = time.monotonic() - started
    result.cpu_seconds = {
        name: max(0.0, cpu_seconds(pid) - cpu_before[name]) for name, pid in cpu_pids.items()
    }
    return result


async def first_answer(stack: Stack, mode: str, timeout: float = 120.0) -> Tuple[float, Optional[str]]:
    """Latency (ms) of the very first message, retried until answered or timeout."""
    import aiohttp

    client = Client(mode, stack, aiohttp)
    deadline = time.monotonic() + timeout
    error: Optional[str] = "not tried"
    async with client.new_session() as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            _, error = await client.send(http, f"bench-first-{uuid.uuid4().hex[:8]}", "user", "Hallo")
            if error is None:
                return (time.perf_counter() - started) * 1000, None
            await asyncio.sleep(0.5)
    return float("nan"), error


# ---------------------------------------------------------------------------
# profiling with py-spy
# ---------------------------------------------------------------------------
CATEGORIES = [
    ("NLU: DIETClassifier", r"diet_classifier\.py"),
    ("NLU: ResponseSelector", r"response_selector\.py"),
    ("NLU: spaCy", r"[/\\]spacy[/\\]|spacy_(featurizer|tokenizer|utils)"),
    ("NLU: tokenizers+featurizers", r"rasa[/\\]nlu[/\\](featurizers|tokenizers)"),
    ("Core: TEDPolicy", r"ted_policy\.py"),
    ("Core: UnexpecTEDIntentPolicy", r"unexpected_intent_policy\.py"),
    ("Core: RulePolicy+Memoization", r"rule_policy\.py|memoization\.py"),
    ("Core: tracker featurizers", r"rasa[/\\]core[/\\]featurizers"),
    ("TensorFlow (Python side)", r"[/\\]tensorflow[/\\]|[/\\]keras[/\\]"),
    ("Tracker store", r"tracker_store\.py"),
    ("SQLAlchemy", r"[/\\]sqlalchemy[/\\]"),
    ("Lock store", r"lock_store\.py"),
    ("Action server round trip", r"rasa[/\\]core[/\\]actions[/\\]action\.py.*(run|_call)|rasa[/\\]utils[/\\]endpoints\.py"),
    ("Events / tracker (de)serialisation", r"rasa[/\\]shared[/\\]core[/\\](events|trackers)\.py"),
    ("Domain", r"rasa[/\\]shared[/\\]core[/\\]domain\.py"),
    ("Graph runner", r"rasa[/\\]engine[/\\]runner"),
    ("JSON", r"[/\\]json[/\\]|ujson|jsonpickle"),
    ("Sanic / HTTP server", r"[/\\]sanic[/\\]"),
    ("aiohttp", r"[/\\]aiohttp[/\\]"),
    ("logging", r"[/\\]logging[/\\]|structlog"),
    ("rasa_sdk", r"[/\\]rasa_sdk[/\\]"),
    ("actions/", r"[/\\]actions[/\\]"),
    ("bot.kb", r"bot[/\\]kb[/\\]"),
    ("bot.replies", r"bot[/\\]replies[/\\]"),
    ("bot.redact", r"bot[/\\]redact"),
    ("bot.web", r"bot[/\\]web[/\\]"),
    ("YAML", r"[/\\]yaml[/\\]|ruamel"),
]


IDLE_LEAF = re.compile(r"^(serve|run_forever|select|poll|_run_once|wait|_worker) \((\S*[/\\])?(sanic[/\\]server[/\\]runners|asyncio[/\\]base_events|selectors|threading|concurrent[/\\]futures[/\\]thread)\.py")


def summarise_profile(raw_path: Path, top: int = 15) -> Dict[str, Any]:
    """Inclusive share per category, top self-time frames, top inclusive functions."""
    compiled = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]
    total = 0
    idle = 0
    by_category: Counter = Counter()
    self_time: Counter = Counter()
    inclusive: Counter = Counter()
    try:
        lines = raw_path.read_text(errors="replace").splitlines()
    except OSError:
        return {"samples": 0}
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if IDLE_LEAF.search(frames[-1]):
            idle += count  # the event loop waiting for work (uvloop is not seen as idle)
            continue
        total += count
        for name, regex in compiled:
            if any(regex.search(frame) for frame in frames):
                by_category[name] += count
        self_time[_short(frames[-1])] += count
        for frame in set(_short(f) for f in frames):
            inclusive[frame] += count
    share = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "idle_samples": idle,
        "categories_pct": {name: share(c) for name, c in by_category.most_common()},
        "top_self_pct": [[frame, share(c)] for frame, c in self_time.most_common(top)],
        "top_inclusive_pct": [
            [frame, share(c)] for frame, c in inclusive.most_common(top + 25)
            if not re.search(r"asyncio|<module>|run_forever|_run_once|threading|runpy|_run_code|uvloop|\(rasa[/\\]__main__", frame)
        ][:top],
    }


def _short(frame: str) -> str:
    """'func (path/to/site-packages/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    func, path = match.groups()
    path = re.sub(r".*site-packages[/\\]", "", path)
    path = re.sub(rf"^{re.escape(str(ROOT))}[/\\]", "", path)
    return f"{func} ({path})"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def py_spy_available() -> Optional[str]:
    binary = VENV_BIN / "py-spy"
    return str(binary) if binary.exists() else shutil.which("py-spy")


# ---------------------------------------------------------------------------
# one target: start, measure, stop
# ---------------------------------------------------------------------------
class Target:
    """One stack under test (kept running while the others of its group are measured)."""

    def __init__(self, name: str, model: Path, args: argparse.Namespace, has_web: bool,
                 stack_kwargs: Optional[Dict[str, Any]] = None) -> None:
        kwargs = dict(stack_kwargs or {})
        self.name = name
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-", dir=str(ROOT / ".run")))
        web_env = dict(BENCH_WEB_ENV)
        web_env.update(kwargs.pop("web_env", {}))
        rasa_env = dict(args.rasa_env)
        rasa_env.update(kwargs.pop("rasa_env", {}))
        self.stack = Stack(model=model, web=has_web, run_dir=self.run_dir, web_env=web_env,
                           rasa_env=rasa_env, **kwargs)
        self.results: Dict[Tuple[str, int], LevelResult] = {}
        self.info: Dict[str, Any] = {
            "name": name, "model": str(model), "model_mb": round(Path(model).stat().st_size / 2**20, 1),
            "rasa_processes": len(self.stack.rasa_urls), "actions_processes": len(self.stack.actions_urls),
            "rasa_env": rasa_env, "run_dir": str(self.run_dir),
        }

    def cpu_pids(self) -> Dict[str, int]:
        return {n: p.popen.pid for n, p in self.stack.processes.items() if p.popen}

    def start(self, sampler: "MemorySampler", modes: List[str], timeout: float) -> None:
        """Start alone (nothing else loads the machine); time to healthy and to first answer."""
        stack = self.stack
        print(f"\n== {self.name}: starting ({len(stack.rasa_urls)} Rasa process(es)) ...", flush=True)
        started = time.monotonic()
        try:
            for proc_name in stack._order():
                stack.processes[proc_name].start()
                sampler.watch(f"{self.name}/{proc_name}", stack.processes[proc_name].popen.pid)
            for proc_name in stack._order():
                stack.processes[proc_name].wait_healthy(timeout)
            self.info["seconds_to_healthy"] = round(time.monotonic() - started, 1)
            first_mode = "web" if "web" in modes else "rest"
            first_ms, error = asyncio.run(first_answer(stack, first_mode))
            if error:
                raise RuntimeError(f"{self.name}: no first answer: {error}")
        except Exception:
            stack.stop()
            raise
        self.info["seconds_to_first_answer"] = round(time.monotonic() - started, 1)
        self.info["first_answer_ms"] = round(first_ms, 1)
        self.info["first_answer_mode"] = first_mode
        print(f"   healthy after {self.info['seconds_to_healthy']} s, first answer after "
              f"{self.info['seconds_to_first_answer']} s (that message took {first_ms:.0f} ms)", flush=True)

    def add(self, result: LevelResult) -> None:
        key = (result.mode, result.concurrency)
        if key not in self.results:
            self.results[key] = result
            return
        merged = self.results[key]
        merged.messages += result.messages
        merged.errors += result.errors
        merged.error_kinds.update(result.error_kinds)
        merged.latencies_ms.extend(result.latencies_ms)
        merged.seconds += result.seconds
        merged.conversations += result.conversations
        merged.button_misses += result.button_misses
        for name, sec in result.cpu_seconds.items():
            merged.cpu_seconds[name] = merged.cpu_seconds.get(name, 0.0) + sec
        merged.segments += 1

    def report(self, peaks: Dict[str, float]) -> Dict[str, Any]:
        out = dict(self.info)
        out["levels"] = [res.summary() for res in self.results.values()]
        prefix = f"{self.name}/"
        out["peak_rss_mb"] = {k[len(prefix):]: v for k, v in peaks.items() if k.startswith(prefix)}
        out["logs"] = {n: str(p.log_path) for n, p in self.stack.processes.items()}
        return out


def measure_group(targets: List[Target], args: argparse.Namespace, conversations,
                  modes: List[str], profile: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Start every target one after the other, then measure them interleaved.

    Each (mode, level) is split into `--reps` segments per target, run in ABBA order, so
    a change in background load hits every target alike and the ratios stay honest.
    """
    sampler = MemorySampler().start()
    started: List[Target] = []
    out: Dict[str, Dict[str, Any]] = {}
    profiled: Dict[str, Any] = {}
    try:
        for target in targets:
            target.start(sampler, modes, args.start_timeout)
            started.append(target)
        for target in targets:  # warm-up, not counted
            warm = asyncio.run(run_level(target.stack, modes[0], 2, conversations,
                                         max(2 * len(conversations), 20), min(60.0, args.duration),
                                         f"{target.name}-warm", {}))
            target.info["warmup"] = warm.summary()
        for mode in modes:
            for level in args.levels:
                budget = max(args.messages, 3 * level)
                segment = max(level, math.ceil(budget / args.reps))
                for rep in range(args.reps):
                    order = targets if rep % 2 == 0 else list(reversed(targets))
                    for target in order:
                        target.add(asyncio.run(run_level(
                            target.stack, mode, level, conversations, segment, args.duration / args.reps,
                            target.name, target.cpu_pids())))
                for target in targets:
                    s = target.results[(mode, level)].summary()
                    print(f"   {target.name:14s} {mode:4s} c={level:<3d} {s['messages']:4d} msgs "
                          f"{s['messages_per_s']:7.1f}/s  p50 {s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms  "
                          f"errors {s['errors']}  rasa cpu {sum(v for k, v in (s.get('cpu_ms_per_message') or {}).items() if k.startswith('rasa')):.1f} ms/msg",
                          flush=True)
        for target in targets:
            if profile and target.name == profile:
                profiled[target.name] = run_profile(target.stack, modes, conversations, args, target.name,
                                                    target.run_dir)
    finally:
        for target in started:
            target.stack.stop()
        peaks = sampler.stop()
    for target in targets:
        out[target.name] = target.report(peaks)
        if target.name in profiled:
            out[target.name]["profile"] = profiled[target.name]
        print(f"   {target.name}: peak RSS MB {out[target.name]['peak_rss_mb']}", flush=True)
    return out


def run_profile(stack: Stack, modes, conversations, args, name: str, run_dir: Path) -> Dict[str, Any]:
    spy = py_spy_available()
    if not spy:
        return {"error": "py-spy not installed"}
    seconds = max(5, int(args.profile_seconds))
    mode = "web" if "web" in modes else "rest"
    level = args.profile_level
    procs = {}
    for proc_name, proc in stack.processes.items():
        if proc.popen is None:
            continue
        raw = run_dir / f"profile-{proc_name}.txt"
        procs[proc_name] = (subprocess.Popen(
            [spy, "record", "--pid", str(proc.popen.pid), "--duration", str(seconds), "--rate", "100",
             "--format", "raw", "--output", str(raw)],  # blocking: consistent stacks
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        ), raw)
    time.sleep(1.0)  # py-spy attaches
    res = asyncio.run(run_level(stack, mode, level, conversations, 100_000, seconds - 2, f"{name}-prof", {}))
    out: Dict[str, Any] = {"mode": mode, "concurrency": level, "seconds": seconds, "load": res.summary(),
                           "processes": {}}
    for proc_name, (proc, raw) in procs.items():
        try:
            _, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        summary = summarise_profile(raw)
        summary["raw"] = str(raw)
        if proc.returncode not in (0, None) and not summary.get("samples"):
            summary["error"] = (err or b"").decode(errors="replace")[-500:]
        keep = OUT_DIR / f"profile-{name}-{proc_name}.txt"
        if raw.exists():
            shutil.copy(raw, keep)
            summary["raw"] = _rel(keep)
        out["processes"][proc_name] = summary
    return out


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def level_of(target: Dict[str, Any], mode: str, concurrency: int) -> Optional[Dict[str, Any]]:
    for level in target.get("levels", []):
        if level["mode"] == mode and level["concurrency"] == concurrency:
            return level
    return None


def ratio(a: Optional[float], b: Optional[float], digits: int = 2) -> Optional[float]:
    if a is None or b is None or b == 0 or (isinstance(a, float) and math.isnan(a)):
        return None
    return round(a / b, digits)


def rasa_cpu(level: Dict[str, Any]) -> Optional[float]:
    """CPU ms per message of all Rasa processes together (robust against background load)."""
    values = [v for k, v in (level.get("cpu_ms_per_message") or {}).items() if k.startswith("rasa")]
    return round(sum(values), 2) if values else None


def rasa_rss(target: Dict[str, Any]) -> Optional[float]:
    values = [v for k, v in target.get("peak_rss_mb", {}).items() if k.startswith("rasa")]
    return max(values) if values else None


def compare(ours: Dict[str, Any], base: Dict[str, Any], levels: Iterable[int], modes: Iterable[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"levels": []}
    for mode in modes:
        for c in levels:
            a, b = level_of(ours, mode, c), level_of(base, mode, c)
            if not a or not b:
                continue
            out["levels"].append({
                "mode": mode, "concurrency": c,
                "throughput_ratio": ratio(a["messages_per_s"], b["messages_per_s"]),
                "p50_ratio": ratio(a["p50_ms"], b["p50_ms"]),
                "p95_ratio": ratio(a["p95_ms"], b["p95_ms"]),
                "p99_ratio": ratio(a["p99_ms"], b["p99_ms"]),
                "rasa_cpu_per_message_ratio": ratio(rasa_cpu(a), rasa_cpu(b)),
            })
    out["rasa_rss_ratio"] = ratio(rasa_rss(ours), rasa_rss(base))
    out["first_answer_seconds_ratio"] = ratio(ours.get("seconds_to_first_answer"), base.get("seconds_to_first_answer"))
    return out


def evaluate_targets(report: Dict[str, Any]) -> Dict[str, Any]:
    ours = report["targets"].get("ours", {})
    base = report["targets"].get("default", {})
    checks: Dict[str, Any] = {}

    def check(key: str, value, goal, ok_if_le: bool = True):
        passed = None if value is None else (value <= goal if ok_if_le else value >= goal)
        checks[key] = {"value": value, "goal": goal, "met": passed}

    one = level_of(ours, "web", 1)
    check("one_customer_web_p95_ms", one["p95_ms"] if one else None, TARGETS["one_customer_web_p95_ms"])
    c16_mode = "web" if level_of(ours, "web", 16) else "rest"
    a16, b16 = level_of(ours, c16_mode, 16), level_of(base, c16_mode, 16)
    check("c16_throughput_ratio_vs_default",
          ratio(a16["messages_per_s"], b16["messages_per_s"]) if a16 and b16 else None,
          TARGETS["c16_throughput_ratio_vs_default"], ok_if_le=False)
    check("c16_p95_ms", a16["p95_ms"] if a16 else None, TARGETS["c16_p95_ms"])
    check("c16_errors", a16["errors"] if a16 else None, TARGETS["c16_errors"])
    checks["c16_mode"] = c16_mode
    train = report.get("training", {}).get("ours", {})
    check("train_seconds", train.get("seconds"), TARGETS["train_seconds"])
    check("rasa_rss_mb", rasa_rss(ours), TARGETS["rasa_rss_mb"])
    return checks


def plot(report: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = report["targets"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    styles = {"web": "-", "rest": "--"}

    def draw(ax_lat, ax_thr, names: List[str], title: str):
        drawn = False
        for name in names:
            target = targets.get(name)
            if not target:
                continue
            for mode in ("web", "rest"):
                pts = [lv for lv in target["levels"] if lv["mode"] == mode and lv["p95_ms"] is not None]
                if not pts:
                    continue
                xs = [p["concurrency"] for p in pts]
                label = f"{name} ({mode})"
                ax_lat.plot(xs, [p["p95_ms"] for p in pts], styles[mode], marker="o", label=label)
                ax_thr.plot(xs, [p["messages_per_s"] for p in pts], styles[mode], marker="o", label=label)
                drawn = True
        for ax, ylabel in ((ax_lat, "p95 latency per message [ms]"), (ax_thr, "messages / s")):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("concurrent customers")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(True, which="both", alpha=0.3)
            if drawn:
                ax.legend(fontsize=8)
        ax_lat.set_yscale("log")

    main_names = ["ours", "default"] + [n for n in targets if n.startswith("variant:")]
    draw(axes[0][0], axes[0][1], main_names, "ours vs default configuration")
    draw(axes[1][0], axes[1][1], ["pg+redis x1", "pg+redis x2"], "1 vs 2 Rasa processes (PostgreSQL + Redis)")
    if "pg+redis x1" not in targets:
        for ax in axes[1]:
            ax.text(0.5, 0.5, "scale-out not measured (--no-scale)", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"Mailhilfe benchmark {report['started']} ({report['machine']['cpus']} CPUs)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def print_summary(report: Dict[str, Any]) -> None:
    print("\n=== Summary ===")
    print(f"{'target':22s} {'mode':4s} {'c':>3s} {'msg/s':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'err':>4s} {'rasa cpu ms/msg':>15s}")
    for name, target in report["targets"].items():
        for lv in target.get("levels", []):
            print(f"{name:22s} {lv['mode']:4s} {lv['concurrency']:3d} {lv['messages_per_s']:7.1f} "
                  f"{lv['p50_ms'] or 0:7.1f} {lv['p95_ms'] or 0:7.1f} {lv['p99_ms'] or 0:7.1f} {lv['errors']:4d} "
                  f"{rasa_cpu(lv) or 0:15.1f}")
        print(f"{name:22s} start->first answer {target.get('seconds_to_first_answer')} s; "
              f"peak RSS MB {target.get('peak_rss_mb')}")
    for name, train in report.get("training", {}).items():
        print(f"training {name}: {train.get('seconds')} s, peak RSS {train.get('peak_rss_mb')} MB"
              + (" (cached)" if train.get("cached") else ""))
    if report.get("vs_default"):
        print("ours / default:")
        for lv in report["vs_default"]["levels"]:
            print(f"   {lv['mode']:4s} c={lv['concurrency']:<3d} throughput x{lv['throughput_ratio']}  "
                  f"p95 x{lv['p95_ratio']}  Rasa CPU/message x{lv['rasa_cpu_per_message_ratio']}")
        for key in ("rasa_rss_ratio", "first_answer_seconds_ratio", "train_seconds_ratio"):
            print(f"   {key}: {report['vs_default'].get(key)}")
    if report.get("scale_out"):
        print("2 vs 1 Rasa processes:")
        for lv in report["scale_out"]["levels"]:
            print(f"   {lv['mode']:4s} c={lv['concurrency']:<3d} throughput x{lv['throughput_ratio']}  "
                  f"p95 x{lv['p95_ratio']}")
    print("targets:")
    for key, check in report.get("goals", {}).items():
        if isinstance(check, dict):
            print(f"   {key:34s} {check['value']!s:>10s}  goal {check['goal']}  met: {check['met']}")


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="levels 1,4,16, 80 messages per level, no training-time measurement, no scale-out")
    parser.add_argument("--levels", default=None, help="comma-separated concurrency levels (default 1,4,16,32)")
    parser.add_argument("--messages", type=int, default=None, help="messages measured per level and mode (default 240)")
    parser.add_argument("--duration", type=float, default=None, help="max seconds per level (default 60)")
    parser.add_argument("--modes", default="web,rest", help="web,rest (web is skipped when bot/web is missing)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="our trained model")
    parser.add_argument("--no-default", action="store_true", help="do not train/serve the default configuration")
    parser.add_argument("--default-model", default=None, help="use this default-config model instead of training")
    parser.add_argument("--retrain-default", action="store_true", help="ignore the cached default-config model")
    parser.add_argument("--train", dest="train", action="store_true", default=None,
                        help="measure our full training time (default: on, off with --quick)")
    parser.add_argument("--no-train", dest="train", action="store_false")
    parser.add_argument("--scale", dest="scale", action="store_true", default=None,
                        help="measure 1 vs 2 Rasa processes on PostgreSQL+Redis (default: on, off with --quick)")
    parser.add_argument("--no-scale", dest="scale", action="store_false")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=CONFIG",
                        help="also train CONFIG on the same data and measure it (repeatable)")
    parser.add_argument("--env-variant", action="append", default=[], metavar="NAME=KEY=VALUE[,KEY=VALUE]",
                        help="also measure our model with this environment for Rasa, e.g. "
                             "tf1=TF_INTRA_OP_PARALLELISM_THREADS=1,TF_INTER_OP_PARALLELISM_THREADS=1")
    parser.add_argument("--only", default=None,
                        help="comma-separated targets to measure: ours,default,scale,variants (default all)")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of our stack under load")
    parser.add_argument("--profile-level", type=int, default=4)
    parser.add_argument("--profile-seconds", type=float, default=25)
    parser.add_argument("--rasa-env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment for the Rasa processes, e.g. TF_INTRA_OP_PARALLELISM_THREADS=1")
    parser.add_argument("--start-timeout", type=float, default=300)
    parser.add_argument("--train-timeout", type=float, default=5400, help="seconds per training (default 5400)")
    parser.add_argument("--out", default=str(OUT_DIR))
    parser.add_argument("--reps", type=int, default=2,
                        help="segments per level and target, measured in ABBA order (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in (args.levels or ("1,4,16" if args.quick else "1,4,16,32")).split(",") if x.strip()]
    if not args.levels or min(args.levels) < 1 or max(args.levels) > 256:
        parser.error("--levels must be between 1 and 256")
    args.messages = args.messages or (80 if args.quick else 240)
    args.duration = args.duration or (30.0 if args.quick else 60.0)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip() in ("web", "rest")] or ["rest"]
    if args.train is None:
        args.train = not args.quick
    if args.scale is None:
        args.scale = not args.quick
    args.rasa_env = dict(item.split("=", 1) for item in args.rasa_env)
    args.reps = max(1, min(args.reps, 10))
    args.only = set(args.only.split(",")) if args.only else None
    return args


def wanted(args: argparse.Namespace, what: str) -> bool:
    return args.only is None or what in args.only


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    random.seed(args.seed)
    global OUT_DIR
    OUT_DIR = Path(args.out)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (ROOT / ".run").mkdir(exist_ok=True)
    model = Path(args.model)
    if not model.exists():
        print(f"no trained model at {model}: run `make train` first", file=sys.stderr)
        return 2
    has_web = (ROOT / "bot" / "web" / "__main__.py").exists()
    conversations, source = load_conversations()
    import rasa

    report: Dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "rasa": rasa.__version__,
                    "load_avg_at_start": os.getloadavg()},
        "settings": {"levels": args.levels, "messages_per_level": args.messages, "max_seconds_per_level": args.duration,
                     "modes": args.modes, "web": has_web, "web_env": BENCH_WEB_ENV, "rasa_env": args.rasa_env,
                     "quick": args.quick, "think_time_s": 0},
        "conversations": {"source": source, "count": len(conversations),
                          "turns": sum(len(t) for _, t in conversations)},
        "training": {}, "targets": {}, "notes": [],
    }
    if not has_web:
        report["notes"].append("bot/web missing: web mode skipped")
    print(f"Conversations: {source}; levels {args.levels}; modes {args.modes}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="mailhilfe-bench-"))
    try:
        # -- training ---------------------------------------------------
        if args.train and wanted(args, "ours"):
            if (ROOT / "config.yml").exists():
                print("Training our configuration from scratch (rasa train --force, empty cache) ...", flush=True)
                report["training"]["ours"] = train_model(ROOT / "config.yml", tmp / "ours", "ours",
                                                         OUT_DIR / "train-ours.log", args.train_timeout)
                print(f"   {report['training']['ours']}", flush=True)
            else:
                report["notes"].append("config.yml missing: our training time not measured")
        default_model: Optional[Path] = None
        if not args.no_default and wanted(args, "default"):
            default_model, info = obtain_default_model(args, tmp)
            report["training"]["default"] = info
        variants: Dict[str, Path] = {}
        if wanted(args, "variants"):
            for item in args.variant:
                vname, _, config = item.partition("=")
                print(f"Training variant {vname} ({config}) ...", flush=True)
                info = train_model(Path(config).resolve(), tmp / f"variant-{vname}", "variant",
                                   OUT_DIR / f"train-variant-{vname}.log", args.train_timeout)
                info["config"] = config
                report["training"][f"variant:{vname}"] = info
                variants[vname] = Path(info["model"])
        if "ours" in report["training"] and "default" in report["training"]:
            report.setdefault("vs_default", {})
        # -- serving: ours, default and variants interleaved -----------------
        modes = [m for m in args.modes if m != "web" or has_web]
        group: List[Target] = []
        if wanted(args, "ours"):
            group.append(Target("ours", model, args, has_web))
        if default_model is not None:
            # the baseline is plain Rasa: default config, no server speed-up
            group.append(Target("default", default_model, args, has_web, {"plain_rasa": True}))
        for vname, vmodel in variants.items():
            group.append(Target(f"variant:{vname}", vmodel, args, has_web))
        if wanted(args, "variants"):
            for item in args.env_variant:
                vname, _, assignments = item.partition("=")
                env = dict(a.split("=", 1) for a in assignments.split(",") if "=" in a)
                group.append(Target(f"variant:{vname}", model, args, has_web, {"rasa_env": env}))
        if group:
            report["targets"].update(measure_group(group, args, conversations, modes,
                                                   profile="ours" if args.profile else None))
        if args.scale and wanted(args, "scale"):
            measure_scale_out(report, model, args, conversations, has_web, modes)
        # -- comparisons -------------------------------------------------
        if "ours" in report["targets"] and "default" in report["targets"]:
            report["vs_default"] = compare(report["targets"]["ours"], report["targets"]["default"],
                                           args.levels, args.modes)
            report["vs_default"]["train_seconds_ratio"] = ratio(
                report["training"].get("ours", {}).get("seconds"),
                report["training"].get("default", {}).get("seconds"))
        for key, target in report["targets"].items():
            if key.startswith("variant:") and "ours" in report["targets"]:
                target["vs_ours"] = compare(target, report["targets"]["ours"], args.levels, args.modes)
        if "pg+redis x1" in report["targets"] and "pg+redis x2" in report["targets"]:
            report["scale_out"] = compare(report["targets"]["pg+redis x2"], report["targets"]["pg+redis x1"],
                                          args.levels, args.modes)
        report["goals"] = evaluate_targets(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        report["machine"]["load_avg_at_end"] = os.getloadavg()
        (OUT_DIR / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    try:
        plot(report, OUT_DIR / "bench.png")
    except Exception as exc:  # the figures are in bench.json either way
        print(f"plot failed: {exc}", file=sys.stderr)
    print_summary(report)
    print(f"\nWrote {OUT_DIR / 'bench.json'} and {OUT_DIR / 'bench.png'}")
    return 0


def obtain_default_model(args: argparse.Namespace, tmp: Path) -> Tuple[Path, Dict[str, Any]]:
    if args.default_model:
        return Path(args.default_model), {"model": args.default_model, "given": True}
    config_text = default_config_text()
    fp = inputs_fingerprint(config_text)
    cache_dir = OUT_DIR / "cache"
    cached_model = cache_dir / f"default-{fp}.tar.gz"
    cached_info = cache_dir / f"default-{fp}.json"
    if cached_model.exists() and cached_info.exists() and not args.retrain_default:
        info = json.loads(cached_info.read_text())
        info.update({"cached": True, "model": str(cached_model)})
        print(f"Default configuration: cached model {cached_model.name} (trained in {info.get('seconds')} s)")
        return cached_model, info
    config = tmp / "default-config.yml"
    config.write_text(config_text)
    print("Training the default configuration (rasa init's config, language: de) ...", flush=True)
    info = train_model(config, tmp / "default", "default", OUT_DIR / "train-default.log", args.train_timeout)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob("default-*"):
        old.unlink()
    shutil.copy(info["model"], cached_model)
    info.update({"fingerprint": fp, "trained": time.strftime("%Y-%m-%d %H:%M:%S")})
    cached_info.write_text(json.dumps({k: v for k, v in info.items() if k != "model"}, indent=2))
    info.update({"cached": False, "model": str(cached_model)})
    print(f"   {info}", flush=True)
    return cached_model, info


def measure_scale_out(report: Dict[str, Any], model: Path, args, conversations, has_web: bool,
                      modes: List[str]) -> None:
    """Ours on PostgreSQL + Redis with one and with two Rasa processes (+ as many action servers)."""
    from ops.services import PostgresServer, RedisServer, ServiceUnavailable, ensure_installed

    try:
        ensure_installed()
        pg_server = PostgresServer().start()
    except ServiceUnavailable as exc:
        report["notes"].append(f"scale-out not measured: {exc}")
        return
    try:
        with RedisServer() as redis_server:
            group = [
                Target(f"pg+redis x{n}", model, args, has_web, {
                    "rasa_processes": n, "actions_processes": n,
                    "tracker_store": pg_server.tracker_store_yaml(),
                    "lock_store": redis_server.lock_store_yaml(),
                })
                for n in (1, 2)
            ]
            results = measure_group(group, args, conversations, modes)
            for name, target in results.items():
                target["spread"] = spread_check(target)
            report["targets"].update(results)
    finally:
        pg_server.stop()


def spread_check(target: Dict[str, Any]) -> Dict[str, Any]:
    """Share of Rasa CPU time per process per mode (does the web app spread the load?)."""
    out: Dict[str, Any] = {}
    for mode in ("web", "rest"):
        totals: Counter = Counter()
        for lv in target["levels"]:
            if lv["mode"] != mode:
                continue
            for name, ms in (lv.get("cpu_ms_per_message") or {}).items():
                if name.startswith("rasa"):
                    totals[name] += ms * lv["messages"]
        whole = sum(totals.values())
        if whole:
            out[mode] = {name: round(v / whole, 2) for name, v in sorted(totals.items())}
    return out


if __name__ == "__main__":
    sys.exit(main())
