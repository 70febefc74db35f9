"""Rasa's ticket lock, serving a ticket once no older unexpired ticket is left.

Rasa serves ticket N only while `now_serving == N`. When the waiter's own ticket expires
before its turn (the holder crashed and both tickets ran out between two polls, or the
event loop was busy for longer than the lock lifetime), the lock is left with no tickets,
`now_serving` is 0 and the request waits for ever. Issuing, expiry, clean-up and the
Redis store are unchanged.
"""
from __future__ import annotations

import asyncio
from typing import Text


def _is_my_turn(lock, ticket: int) -> bool:
    """No unexpired ticket before ``ticket`` is left (Rasa: only ``now_serving == ticket``)."""
    lock.remove_expired_tickets()
    return not any(other.number < ticket for other in lock.tickets)


def install() -> None:
    from rasa.core import lock_store as lock_store_module

    store = lock_store_module.LockStore
    if getattr(store._acquire_lock, "_mailhilfe_patched", False):
        return

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float):
        while True:
            # fetched in every round: another process may have changed it
            lock = self.get_lock(conversation_id)
            if not lock:
                break  # as in Rasa: the lock is gone
            if _is_my_turn(lock, ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
        raise lock_store_module.LockError(
            f"Could not acquire lock for conversation_id '{conversation_id}'.")

    _acquire_lock._mailhilfe_patched = True  # type: ignore[attr-defined]
    store._acquire_lock = _acquire_lock
