"""bot.web.upstreams: which Rasa server a conversation goes to, and fail-over."""
from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from bot.web.rasa_client import UpstreamError, UpstreamTimeout
from bot.web.upstreams import Upstreams, send_balanced

A, B, C = "http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_single_url_from_env_keeps_rasa_url():
    ups = Upstreams.from_env({"RASA_URL": "http://127.0.0.1:5005/"})
    assert ups.urls == ["http://127.0.0.1:5005"]
    assert ups.candidates("x") == ["http://127.0.0.1:5005"]


def test_rasa_urls_win_over_rasa_url_and_bad_settings_are_refused():
    ups = Upstreams.from_env({"RASA_URL": A, "RASA_URLS": f"{A}, {B},", "RASA_BALANCE": "round_robin"})
    assert ups.urls == [A, B] and ups.strategy == "round_robin"
    with pytest.raises(ValueError):
        Upstreams.from_env({"RASA_URLS": A, "RASA_BALANCE": "random"})
    with pytest.raises(ValueError):
        Upstreams([A, A])
    with pytest.raises(ValueError):
        Upstreams.from_env({"RASA_URLS": A, "RASA_RETRY_AFTER": "soon"})


def test_sticky_is_stable_and_spreads_evenly():
    ups = Upstreams([A, B])
    firsts = Counter(ups.candidates(f"conv-{i}")[0] for i in range(2000))
    assert all(ups.candidates(f"conv-{i}") == ups.candidates(f"conv-{i}") for i in range(50))
    assert 850 < firsts[A] < 1150 and firsts[A] + firsts[B] == 2000


def test_sticky_moves_only_the_conversations_of_a_removed_server():
    three, two = Upstreams([A, B, C]), Upstreams([A, B])
    ids = [f"c{i}" for i in range(600)]
    moved = [i for i in ids if three.candidates(i)[0] != C and three.candidates(i)[0] != two.candidates(i)[0]]
    assert moved == []


def test_round_robin_alternates():
    ups = Upstreams([A, B], strategy="round_robin")
    assert [ups.candidates("same")[0] for _ in range(4)] == [A, B, A, B]


def test_failed_server_goes_last_until_retry_after():
    clock = FakeClock()
    ups = Upstreams([A, B], retry_after=5, clock=clock)
    conv = next(f"c{i}" for i in range(100) if ups.candidates(f"c{i}")[0] == A)
    ups.mark_failed(A)
    assert ups.candidates(conv) == [B, A]
    clock.now += 5.1
    assert ups.candidates(conv) == [A, B]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _fake_rasa(name: str, seen: list, delay: float = 0.0):
    async def webhook(request):
        body = await request.json()
        seen.append((name, body["sender"], body["message"]))
        if delay:
            await asyncio.sleep(delay)
        return web.json_response([{"recipient_id": body["sender"], "text": f"{name}: {body['message']}"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_send_balanced_fails_over_when_a_server_is_gone():
    seen: list = []
    runner, live = await _fake_rasa("live", seen)
    dead = f"http://127.0.0.1:{_free_port()}"  # nothing listens here
    ups = Upstreams([dead, live])
    conv = next(f"c{i}" for i in range(200) if ups.candidates(f"c{i}")[0] == dead)
    try:
        async with aiohttp.ClientSession() as http:
            items = await send_balanced(http, ups, conv, "hallo", timeout=5)
            assert items[0]["text"] == "live: hallo"
            assert ups.is_down(dead)
            await send_balanced(http, ups, conv, "noch da?", timeout=5)
    finally:
        await runner.cleanup()
    assert seen == [("live", conv, "hallo"), ("live", conv, "noch da?")]  # each message exactly once


async def test_send_balanced_raises_when_all_are_gone_and_never_retries_a_timeout():
    ups = Upstreams([f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"])
    async with aiohttp.ClientSession() as http:
        with pytest.raises(UpstreamError):
            await send_balanced(http, ups, "c1", "hallo", timeout=3)
    seen: list = []
    slow_runner, slow = await _fake_rasa("slow", seen, delay=2.0)
    fast_runner, fast = await _fake_rasa("fast", seen)
    ups = Upstreams([slow, fast])
    conv = next(f"c{i}" for i in range(200) if ups.candidates(f"c{i}")[0] == slow)
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(UpstreamTimeout):
                await send_balanced(http, ups, conv, "hallo", timeout=0.5)
    finally:
        await slow_runner.cleanup()
        await fast_runner.cleanup()
    assert [s[0] for s in seen] == ["slow"]


async def _crashing_pair(store_before_crash: bool):
    """Server A stores the message (or not) and drops the connection; B shares A's store."""
    store: list = []
    calls: list = []

    def remember(sender, text):
        store.append({"event": "user", "text": text, "timestamp": time.time()})
        store.append({"event": "bot", "text": f"Antwort auf {text}", "timestamp": time.time(),
                      "data": {"buttons": [{"title": "Ja", "payload": "/affirm"}]}})

    async def crashing(request):
        body = await request.json()
        calls.append(("A", body["message"]))
        if store_before_crash:
            remember(body["sender"], body["message"])
        request.transport.close()
        await asyncio.sleep(1)
        return web.json_response([])

    async def healthy(request):
        body = await request.json()
        calls.append(("B", body["message"]))
        remember(body["sender"], body["message"])
        return web.json_response([{"recipient_id": body["sender"], "text": f"Antwort auf {body['message']}"}])

    async def tracker(request):
        if request.query.get("token") != "secret":
            return web.json_response({}, status=401)
        return web.json_response({"events": store})

    runners, urls = [], []
    for handler in (crashing, healthy):
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", handler)
        app.router.add_get("/conversations/{sender}/tracker", tracker)
        runner = web.AppRunner(app)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{port}")
    return runners, urls, calls


@pytest.mark.parametrize("stored", [True, False])
async def test_crash_mid_message_stores_the_message_once(stored):
    runners, (a, b), calls = await _crashing_pair(store_before_crash=stored)
    ups = Upstreams([a, b], token="secret")
    try:
        async with aiohttp.ClientSession() as http:
            items = await send_balanced(http, ups, "conv-1", "Hilfe", timeout=5, prefer=a)
    finally:
        for runner in runners:
            await runner.cleanup()
    assert items[0]["text"] == "Antwort auf Hilfe"
    if stored:  # A stored it before dying: B must not get it again
        assert calls == [("A", "Hilfe")]
        assert items[0]["buttons"] == [{"title": "Ja", "payload": "/affirm"}]
    else:
        assert calls == [("A", "Hilfe"), ("B", "Hilfe")]
