"""How many chat messages are at the Rasa servers at once.

Rasa works on every message it receives, also on one whose customer the web app has
already answered 503 after `UPSTREAM_TIMEOUT`. Under overload that wasted work takes the
CPU the next messages need, more of them time out, and throughput collapses (the soak
test, scripts/soak.py, saw 2,171 of 5,000 messages answered 503 that way on a busy
machine). The gate lets at most `limit` messages be at Rasa at once; the others wait in
arrival order. A message that could not start while enough of its time limit was left
is answered 503 `upstream_busy` without ever reaching Rasa: nothing is stored, so when
the customer sends it again it is not a duplicate.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

from .rasa_client import UpstreamError

#: share of the time limit a message must still have when it gets to Rasa
MIN_BUDGET_SHARE = 0.4


class UpstreamBusy(UpstreamError):
    """Too many messages ahead of this one: it was not sent (-> 503, nothing stored)."""

    code = "upstream_busy"


class AdmissionGate:
    """At most ``limit`` messages at Rasa at once (``limit`` 0: no limit)."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("RASA_MAX_IN_FLIGHT (the in-flight limit) cannot be negative")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit) if limit else None
        self.in_flight = 0
        self.waiting = 0

    @asynccontextmanager
    async def admit(self, timeout: float) -> AsyncIterator[float]:
        """Wait for a place; yields the seconds of ``timeout`` that are left for Rasa."""
        if self._semaphore is None:
            yield timeout
            return
        started = time.monotonic()
        may_wait = timeout * (1 - MIN_BUDGET_SHARE)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), may_wait)
        except asyncio.TimeoutError:
            raise UpstreamBusy(f"{self.limit} messages at Rasa, waited {may_wait:.1f} s") from None
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield max(0.0, timeout - (time.monotonic() - started))
        finally:
            self.in_flight -= 1
            self._semaphore.release()
