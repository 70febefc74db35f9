"""Play conversation cases against a running Rasa server and check every turn.

Each case gets a fresh random sender id, so cases are independent conversations and
can run concurrently (:class:`ConcurrentRunner`). Messages go through the REST channel
(``POST {rasa_url}/webhooks/rest/webhook``); slots and events are read from the
token-protected tracker API (``GET {rasa_url}/conversations/<id>/tracker?token=``).
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional
from urllib.parse import quote

import requests

from tests.conversations.caseformat import Case, Pattern, Turn, slugify

#: A hand-over happened in a turn when this slot was set to a non-empty value in it ...
HANDOVER_SLOT = "handover_summary"
#: ... or when one of these actions ran in it.
HANDOVER_ACTIONS = frozenset({"action_handover"})

DEFAULT_TIMEOUT = 90.0


class RasaError(RuntimeError):
    """The Rasa server did not answer as expected (HTTP error, timeout, bad JSON)."""


class RasaClient:
    """Minimal client for the REST channel and the tracker API. One instance per thread."""

    def __init__(self, rasa_url: str, token: Optional[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        url = f"{self.rasa_url}/webhooks/rest/webhook"
        try:
            response = self.session.post(url, json={"sender": sender, "message": message}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RasaError(f"POST {url} failed: {exc}") from None
        if response.status_code != 200:
            raise RasaError(f"POST {url} answered {response.status_code}: {response.text[:500]}")
        try:
            data = response.json()
        except ValueError:
            raise RasaError(f"POST {url} did not answer JSON: {response.text[:500]}") from None
        if not isinstance(data, list):
            raise RasaError(f"POST {url} answered {type(data).__name__}, expected a list of messages")
        return data

    def tracker(self, sender: str) -> Dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{quote(sender, safe='')}/tracker"
        params = {"include_events": "ALL"}
        if self.token:
            params["token"] = self.token
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RasaError(f"GET {url} failed: {exc}") from None
        if response.status_code != 200:
            raise RasaError(f"GET {url} answered {response.status_code}: {response.text[:500]}")
        try:
            return response.json()
        except ValueError:
            raise RasaError(f"GET {url} did not answer JSON: {response.text[:500]}") from None

    def close(self) -> None:
        self.session.close()


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
@dataclass
class BotMessage:
    text: str = ""
    buttons: List[Dict[str, str]] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)  # image, custom, attachment, ...

    @classmethod
    def from_rest(cls, raw: Dict[str, Any]) -> "BotMessage":
        buttons = []
        for button in raw.get("buttons") or []:
            if isinstance(button, dict):
                buttons.append({"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))})
        extra = {k: v for k, v in raw.items() if k not in ("recipient_id", "text", "buttons")}
        return cls(text=str(raw.get("text") or ""), buttons=buttons, extra=extra)


@dataclass
class TurnResult:
    turn: Turn
    sent: str = ""  # the text or payload sent to Rasa
    messages: List[BotMessage] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)
    handover: bool = False
    handover_evidence: str = ""
    events: List[Dict[str, Any]] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    error: Optional[str] = None  # the turn could not be played at all
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.messages for b in m.buttons]

    def visible_text(self) -> str:
        """What the customer sees: message texts and button titles."""
        parts = [m.text for m in self.messages if m.text]
        parts += [b["title"] for b in self.buttons]
        return "\n".join(parts)

    def all_output(self) -> str:
        """Everything the bot sent, including payloads and custom data."""
        parts = [self.visible_text()]
        parts += [b["payload"] for b in self.buttons]
        for message in self.messages:
            if message.extra:
                parts.append(json.dumps(message.extra, ensure_ascii=False))
        return "\n".join(parts)


@dataclass
class CaseResult:
    case: Case
    sender_id: str
    turns: List[TurnResult] = field(default_factory=list)
    error: Optional[str] = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and len(self.turns) == len(self.case.turns) and all(t.passed for t in self.turns)

    @property
    def first_failure(self) -> Optional[int]:
        for result in self.turns:
            if not result.passed:
                return result.turn.index
        return None

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def _slot_equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and expected.startswith("re:"):
        return actual not in (None, "", [], {}) and Pattern.parse(expected).search(
            actual if isinstance(actual, str) else json.dumps(actual, ensure_ascii=False))
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (isinstance(actual, str) and str(expected).lower() == actual.lower())
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    return str(expected) == str(actual)


def _titles(buttons: Iterable[Dict[str, str]]) -> str:
    titles = [repr(b["title"]) for b in buttons]
    return ", ".join(titles) if titles else "none"


def check_turn(result: TurnResult) -> List[str]:
    """Compare the bot's answer of one turn with the turn's checks; return failure lines."""
    turn = result.turn
    failures: List[str] = []
    visible = result.visible_text()
    everything = result.all_output()
    for mention in turn.must_mention:
        if not mention.search(visible):
            failures.append(f"must mention {mention}: not found in the answer")
    for pattern in turn.must_not_mention:
        if pattern.search(everything):
            failures.append(f"must not mention {pattern.source!r}: but the answer contains it")
    if turn.buttons is True and not result.buttons:
        failures.append("buttons: expected the bot to offer buttons, it offered none")
    elif turn.buttons is False and result.buttons:
        failures.append(f"buttons: expected no buttons, the bot offered {_titles(result.buttons)}")
    elif isinstance(turn.buttons, list):
        for pattern in turn.buttons:
            if not any(pattern.equals(b["title"]) for b in result.buttons):
                failures.append(
                    f"buttons: expected a button {pattern.source!r}, offered: {_titles(result.buttons)}"
                )
    for name, expected in turn.slots.items():
        if name not in result.slots:
            known = ", ".join(sorted(result.slots)) or "none"
            failures.append(f"slot {name}: this slot does not exist in the bot's domain (slots: {known})")
        elif not _slot_equal(expected, result.slots[name]):
            failures.append(f"slot {name}: expected {expected!r}, got {result.slots[name]!r}")
    if turn.handover is not None and turn.handover != result.handover:
        if turn.handover:
            failures.append(f"handover: expected a hand-over in this turn, none happened "
                            f"(slot {HANDOVER_SLOT} not set, none of {sorted(HANDOVER_ACTIONS)} ran)")
        else:
            failures.append(f"handover: expected no hand-over, but one happened ({result.handover_evidence})")
    return failures


def turn_events(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The events of the latest turn: everything after the last ``user`` event."""
    events = tracker.get("events") or []
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "user":
            return events[i:]
    return list(events)


def detect_handover(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """Evidence of a hand-over among the events of one turn, or None."""
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == HANDOVER_SLOT and event.get("value") not in (None, "", [], {}):
            return f"slot {HANDOVER_SLOT} was set"
        if kind == "action" and event.get("name") in HANDOVER_ACTIONS:
            return f"action {event.get('name')} ran"
    return None


def find_button(pattern: Pattern, buttons: List[Dict[str, str]]) -> Optional[Dict[str, str]]:
    for button in buttons:
        if pattern.equals(button["title"]):
            return button
    return None


# ---------------------------------------------------------------------------
# Playing a case
# ---------------------------------------------------------------------------
def new_sender_id(case: Case) -> str:
    return f"convtest-{slugify(case.name)[:40]}-{secrets.token_hex(6)}"


def play_case(case: Case, client: RasaClient, sender_id: Optional[str] = None) -> CaseResult:
    """Play all turns of ``case`` in a new conversation and check each answer."""
    started = time.monotonic()
    result = CaseResult(case=case, sender_id=sender_id or new_sender_id(case))
    previous: Optional[TurnResult] = None
    try:
        for turn in case.turns:
            turn_started = time.monotonic()
            outcome = TurnResult(turn=turn)
            result.turns.append(outcome)
            if turn.button is not None:
                offered = previous.buttons if previous else []
                button = find_button(turn.button, offered)
                if button is None:
                    outcome.error = (f"cannot click button {turn.button.source!r}: the bot did not offer it "
                                     f"in turn {turn.index - 1} (offered: {_titles(offered)})")
                    break
                outcome.sent = button["payload"] or button["title"]
            else:
                outcome.sent = turn.user or ""
            try:
                raw = client.send(result.sender_id, outcome.sent)
                outcome.messages = [BotMessage.from_rest(m) for m in raw if isinstance(m, dict)]
                tracker = client.tracker(result.sender_id)
            except RasaError as exc:
                outcome.error = str(exc)
                break
            outcome.slots = dict(tracker.get("slots") or {})
            outcome.events = turn_events(tracker)
            evidence = detect_handover(outcome.events)
            outcome.handover = evidence is not None
            outcome.handover_evidence = evidence or ""
            outcome.failures = check_turn(outcome)
            outcome.seconds = time.monotonic() - turn_started
            previous = outcome
    except Exception:  # a bug in the runner must not hide the other cases
        result.error = "runner error:\n" + traceback.format_exc()
    result.seconds = time.monotonic() - started
    return result


class ConcurrentRunner:
    """Plays cases in a small thread pool; each case is its own conversation."""

    def __init__(self, rasa_url: str, token: Optional[str], workers: int = 4,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.rasa_url = rasa_url
        self.token = token
        self.timeout = timeout
        self.executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="conversation")
        self.futures: Dict[str, Future] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    def _client(self) -> RasaClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = RasaClient(self.rasa_url, self.token, self.timeout)
            self._local.client = client
        return client

    def _play(self, case: Case) -> CaseResult:
        return play_case(case, self._client())

    def submit(self, case: Case) -> Future:
        with self._lock:
            if case.test_id not in self.futures:
                self.futures[case.test_id] = self.executor.submit(self._play, case)
            return self.futures[case.test_id]

    def submit_all(self, cases: Iterable[Case]) -> None:
        for case in cases:
            self.submit(case)

    def result(self, case: Case) -> CaseResult:
        return self.submit(case).result()

    def finished(self) -> List[CaseResult]:
        return [f.result() for f in self.futures.values() if f.done() and not f.cancelled()]

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------
# Rendering (pytest failure message, Markdown report)
# ---------------------------------------------------------------------------
def _indent(text: str, prefix: str) -> str:
    lines = text.splitlines() or [""]
    return "\n".join(prefix + line for line in lines)


def render_bot(result: TurnResult) -> str:
    if not result.messages:
        return "(no answer)"
    parts = []
    for message in result.messages:
        if message.text:
            parts.append(message.text)
        if message.buttons:
            parts.append("[Buttons: " + " | ".join(b["title"] for b in message.buttons) + "]")
        if message.extra:
            parts.append("[" + json.dumps(message.extra, ensure_ascii=False)[:300] + "]")
    return "\n".join(parts)


def render_turn(result: TurnResult) -> str:
    turn = result.turn
    mark = "ok" if result.passed else "FAILED"
    lines = [f"Turn {turn.index} ({mark})" + (f"  [line {turn.line}]" if turn.line else "")]
    if turn.button is not None:
        sent = f"[clicks {turn.button.source!r}" + (f" -> {result.sent}]" if result.sent else "]")
        lines.append(f"  Customer: {sent}")
    else:
        lines.append(_indent(turn.user or "", "  Customer: ") if "\n" not in (turn.user or "")
                     else "  Customer:\n" + _indent(turn.user or "", "    | "))
    if result.error:
        lines.append(f"  ERROR: {result.error}")
        return "\n".join(lines)
    lines.append("  Bot:")
    lines.append(_indent(render_bot(result), "    | "))
    if turn.slots:
        shown = {name: result.slots.get(name, "<no such slot>") for name in turn.slots}
        lines.append(f"  Slots after the turn: {shown}")
    if turn.handover is not None:
        lines.append(f"  Hand-over: {'yes (' + result.handover_evidence + ')' if result.handover else 'no'}")
    for failure in result.failures:
        lines.append(f"  ✗ {failure}")
    return "\n".join(lines)


def render_case(result: CaseResult) -> str:
    case = result.case
    if result.passed:
        head = f"Case {case.name!r} ({case.location}) passed"
    else:
        where = f" in turn {result.first_failure} of {len(case.turns)}" if result.first_failure else ""
        head = f"Case {case.name!r} ({case.location}) FAILED{where}"
    lines = [head, f"Conversation id: {result.sender_id}", ""]
    for turn_result in result.turns:
        lines.append(render_turn(turn_result))
        lines.append("")
    skipped = len(case.turns) - len(result.turns)
    if skipped > 0:
        lines.append(f"({skipped} later turn(s) not played)")
    if result.error:
        lines.append(result.error)
    return "\n".join(lines).rstrip() + "\n"
