"""bot.web.admission: at most N messages at Rasa; the rest wait or get 503 upstream_busy."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.web.admission import AdmissionGate, UpstreamBusy
from bot.web.messages import error_text
from bot.web.settings import Settings

from web_support import Running, assert_json_error, make_settings


async def test_no_more_than_the_limit_at_once_and_the_rest_in_order():
    gate = AdmissionGate(2)
    running, peak, order = 0, 0, []

    async def message(i):
        nonlocal running, peak
        async with gate.admit(5.0):
            running += 1
            peak = max(peak, running)
            order.append(i)
            await asyncio.sleep(0.05)
            running -= 1

    await asyncio.gather(*(message(i) for i in range(6)))
    assert peak == 2 and sorted(order) == list(range(6))
    assert order[:2] == [0, 1] and gate.in_flight == 0 and gate.waiting == 0


async def test_a_message_that_cannot_start_in_time_is_refused_and_frees_nothing():
    gate = AdmissionGate(1)
    entered = []

    async def holder():
        async with gate.admit(10.0):
            await asyncio.sleep(0.5)

    task = asyncio.ensure_future(holder())
    await asyncio.sleep(0.01)
    with pytest.raises(UpstreamBusy) as info:
        async with gate.admit(0.5):  # may wait 0.3 s, the holder needs 0.5 s
            entered.append(True)
    assert not entered and info.value.code == "upstream_busy"
    await task
    async with gate.admit(1.0) as left:  # the place is free again
        assert 0.9 <= left <= 1.0


async def test_the_time_left_for_rasa_shrinks_by_the_wait():
    gate = AdmissionGate(1)

    async def holder():
        async with gate.admit(10.0):
            await asyncio.sleep(0.3)

    task = asyncio.ensure_future(holder())
    await asyncio.sleep(0.01)
    async with gate.admit(10.0) as left:
        assert 9.0 < left < 9.8
    await task


async def test_no_limit_means_no_waiting():
    gate = AdmissionGate(0)
    async with gate.admit(3.0) as left:
        assert left == 3.0


def test_negative_limit_is_refused():
    with pytest.raises(ValueError):
        AdmissionGate(-1)
    assert Settings.from_env({"RASA_MAX_IN_FLIGHT": "2"}).rasa_max_in_flight == 2
    assert Settings().rasa_max_in_flight == 4


def test_busy_text_is_german_and_names_the_support_address():
    text = error_text("upstream_busy")
    assert text.startswith("Entschuldigung") and "support@dokom21.de" in text and "{" not in text


def test_overload_answers_503_busy_and_the_refused_message_never_reaches_rasa():
    with Running(make_settings(rasa_max_in_flight=1, upstream_timeout=1.0)) as running:
        running.rasa.delay = 0.8
        results = {}

        def send(name):
            results[name] = running.client().chat({"message": name})

        first = threading.Thread(target=send, args=("erste",))
        first.start()
        time.sleep(0.15)
        second = threading.Thread(target=send, args=("zweite",))
        second.start()
        first.join(10)
        second.join(10)
        assert results["erste"].status == 200
        data = assert_json_error(results["zweite"], 503, "upstream_busy")
        assert results["zweite"].headers.get("retry-after")
        assert "noch einmal" in data["error"]
        assert [body["message"] for body in running.rasa.received] == ["erste"]
