"""Spread conversations over several Rasa servers, with fail-over.

The production profile runs N Rasa processes that share one tracker store
(PostgreSQL) and one lock store (Redis), so any of them can answer any conversation.
`RASA_URLS` lists them (comma-separated; falls back to `RASA_URL`), `RASA_BALANCE`
chooses how a conversation is assigned:

- ``sticky`` (default): rendezvous hashing of the conversation id, so a conversation
  stays on one process while it is up (warm caches, no lock contention) and only the
  conversations of a failed process move;
- ``round_robin``: every message goes to the next process.

A process that refuses the connection is skipped for `RASA_RETRY_AFTER` seconds
(default 5) and the message goes to the next one. A process that drops the connection
without answering (it crashed while working on the message) may or may not have stored
the message: before sending it again, the next process's copy of the tracker (the store
is shared) is asked whether the conversation's last user message is this one, sent after
the request started; if so, its stored answers are returned instead (needs the API token
`RASA_TOKEN`). So every message is stored once. A timeout is not retried: Rasa may still
be working on the message.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence
from urllib.parse import quote

import aiohttp

from .rasa_client import UpstreamError, UpstreamTimeout, send_message

STRATEGIES = ("sticky", "round_robin")


def _split(value: Optional[str]) -> List[str]:
    return [item.strip().rstrip("/") for item in (value or "").split(",") if item.strip()]


class Upstreams:
    """The Rasa servers of the web app and which one a message goes to."""

    def __init__(
        self,
        urls: Sequence[str],
        strategy: str = "sticky",
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        token: str = "",
    ) -> None:
        urls = [url.rstrip("/") for url in urls if url]
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        if len(set(urls)) != len(urls):
            raise ValueError("RASA_URLS lists a URL twice")
        if strategy not in STRATEGIES:
            raise ValueError(f"RASA_BALANCE must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        self.urls = list(urls)
        self.strategy = strategy
        self.retry_after = retry_after
        self.token = token
        self._clock = clock
        self._down_until: Dict[str, float] = {}
        self._counter = itertools.count()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, default_url: Optional[str] = None) -> "Upstreams":
        env = os.environ if env is None else env
        urls = _split(env.get("RASA_URLS")) or _split(env.get("RASA_URL")) or _split(default_url) \
            or ["http://127.0.0.1:5005"]
        strategy = (env.get("RASA_BALANCE", "") or "sticky").strip().lower()
        raw = (env.get("RASA_RETRY_AFTER", "") or "5").strip()
        try:
            retry_after = float(raw)
        except ValueError as exc:
            raise ValueError(f"RASA_RETRY_AFTER must be a number, got {raw!r}") from exc
        return cls(urls, strategy, retry_after, token=env.get("RASA_TOKEN", ""))

    def __len__(self) -> int:
        return len(self.urls)

    def _preference(self, conversation_id: str) -> List[str]:
        if len(self.urls) == 1:
            return list(self.urls)
        if self.strategy == "round_robin":
            start = next(self._counter) % len(self.urls)
            return self.urls[start:] + self.urls[:start]

        def weight(url: str) -> bytes:
            return hashlib.sha256(f"{url}|{conversation_id}".encode()).digest()

        return sorted(self.urls, key=weight, reverse=True)

    def candidates(self, conversation_id: str) -> List[str]:
        """Every URL, in the order to try: preferred first, recently failed ones last."""
        now = self._clock()
        order = self._preference(conversation_id)
        up = [url for url in order if self._down_until.get(url, 0.0) <= now]
        down = [url for url in order if self._down_until.get(url, 0.0) > now]
        return up + down

    def mark_failed(self, url: str) -> None:
        self._down_until[url] = self._clock() + self.retry_after

    def mark_ok(self, url: str) -> None:
        self._down_until.pop(url, None)

    def is_down(self, url: str) -> bool:
        return self._down_until.get(url, 0.0) > self._clock()


def _failure(error: UpstreamError) -> Optional[str]:
    """'refused': the message never reached Rasa; 'dropped': Rasa died before answering."""
    cause = error.__cause__
    if isinstance(cause, (aiohttp.ClientConnectorError, ConnectionRefusedError)):
        return "refused"
    if isinstance(cause, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError,
                          ConnectionResetError)):
        return "dropped"
    return None


def rest_items(sender: str, bot_event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """What Rasa's REST channel answers for one stored `bot` event (as its
    CollectingOutputChannel does: plain texts split at blank lines, buttons kept with
    their text, custom/image/attachment/elements as messages of their own)."""
    data = bot_event.get("data") or {}
    text = bot_event.get("text")
    items: List[Dict[str, Any]] = []
    buttons = data.get("buttons") or data.get("quick_replies")
    if buttons:
        items.append({"recipient_id": sender, "text": text, "buttons": buttons})
    elif text:
        items.extend({"recipient_id": sender, "text": part} for part in text.strip().split("\n\n"))
    for key in ("custom", "image", "attachment", "elements"):
        if data.get(key):
            items.append({"recipient_id": sender, key: data[key]})
    return items


async def stored_answer(
    http: aiohttp.ClientSession, url: str, token: str, sender: str, text: str, since: float,
    timeout: float = 5.0,
) -> Optional[List[Dict[str, Any]]]:
    """The bot messages Rasa stored for `text` when it is the conversation's last user
    message, received at or after `since` (epoch seconds); else None."""
    if not token:
        return None
    tracker_url = f"{url}/conversations/{quote(sender, safe='')}/tracker"
    params = {"include_events": "AFTER_RESTART", "token": token}
    try:
        async with http.get(tracker_url, params=params, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status != 200:
                return None
            tracker = await response.json(content_type=None)
    except (aiohttp.ClientError, OSError, ValueError, asyncio.TimeoutError):
        return None
    events = tracker.get("events") if isinstance(tracker, dict) else None
    if not isinstance(events, list):
        return None
    last_user = max((i for i, e in enumerate(events) if isinstance(e, dict) and e.get("event") == "user"),
                    default=None)
    if last_user is None:
        return None
    event = events[last_user]
    if event.get("text") != text or float(event.get("timestamp") or 0) < since:
        return None
    answers: List[Dict[str, Any]] = []
    for event in events[last_user + 1:]:
        if isinstance(event, dict) and event.get("event") == "bot":
            answers.extend(rest_items(sender, event))
    return answers


async def send_balanced(
    http: aiohttp.ClientSession,
    upstreams: Upstreams,
    sender: str,
    text: str,
    metadata: Optional[Dict[str, Any]] = None,
    timeout: float = 10.0,
    prefer: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """`rasa_client.send_message` to the conversation's Rasa server, failing over to the others.

    `prefer` puts one URL first (tests use it to alternate servers).
    """
    candidates = upstreams.candidates(sender)
    if prefer is not None and prefer in candidates:
        candidates.remove(prefer)
        candidates.insert(0, prefer)
    last_error: Optional[UpstreamError] = None
    since = time.time() - 0.25  # Rasa stamps the event after this; slack for clock steps
    maybe_stored = False
    for url in candidates:
        if maybe_stored:
            answer = await stored_answer(http, url, upstreams.token, sender, text, since)
            if answer is not None:
                upstreams.mark_ok(url)
                return answer
        try:
            items = await send_message(http, url, sender, text, metadata=metadata, timeout=timeout)
        except UpstreamTimeout:
            raise
        except UpstreamError as error:
            failure = _failure(error)
            if failure is None:
                raise
            maybe_stored = maybe_stored or failure == "dropped"
            upstreams.mark_failed(url)
            last_error = error
            continue
        upstreams.mark_ok(url)
        return items
    assert last_error is not None
    raise last_error
