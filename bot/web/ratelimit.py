"""In-memory sliding-window rate limiter, bounded in memory."""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable, Deque


class RateLimiter:
    """At most `limit` events per `window` seconds per key.

    Keeps at most `max_keys` keys (least recently used are dropped), so a flood of new
    keys cannot exhaust memory.
    """

    def __init__(self, limit: int, window: float, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def hit(self, key: str) -> float:
        """Record an event; 0.0 when allowed, else seconds until the next is allowed."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        events = self._events.get(key)
        if events is None:
            events = deque()
            self._events[key] = events
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return max(0.001, events[0] + self.window - now)
        events.append(now)
        return 0.0

    def __len__(self) -> int:
        return len(self._events)
