"""ops.rasa_patches: the action-result check built once (same verdicts as Rasa's), and a
ticket lock that cannot wait for ever."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError

from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from ops import rasa_patches


@pytest.fixture(autouse=True)
def restore_lock_store():
    """install() patches both; every test here starts and ends with plain Rasa."""
    original = LockStore._acquire_lock
    yield
    LockStore._acquire_lock = original


GOOD = {
    "events": [{"event": "slot", "name": "topic", "value": "x", "timestamp": None}],
    "responses": [{"text": "Hallo", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
}
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": "text"},
]


def _action():
    return RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9/webhook"))


def _verdicts(action):
    out = []
    for result in [GOOD] + BAD:
        try:
            out.append(action._validate_action_result(result))
        except ValidationError as error:
            out.append(error.message)
    return out


def test_patched_validation_gives_the_same_verdicts_and_messages():
    original = RemoteAction._validate_action_result
    before = _verdicts(_action())
    try:
        rasa_patches.install()
        assert RemoteAction._validate_action_result is not original
        rasa_patches.install()  # idempotent
        after = _verdicts(_action())
    finally:
        RemoteAction._validate_action_result = original
    assert before[0] is True and all(isinstance(v, str) for v in before[1:])
    assert after == before


@pytest.mark.parametrize("bad", BAD)
def test_patched_validation_rejects_bad_results(bad):
    original = RemoteAction._validate_action_result
    try:
        rasa_patches.install()
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            _action()._validate_action_result(bad)
    finally:
        RemoteAction._validate_action_result = original


def test_the_stack_starts_rasa_with_the_speed_up_and_the_baseline_without(tmp_path):
    from ops.stack import Stack

    ours = Stack(web=False, run_dir=tmp_path / "ours").processes["rasa"].args
    plain = Stack(web=False, run_dir=tmp_path / "plain", plain_rasa=True).processes["rasa"].args
    assert ours[1:4] == ["-m", "ops.rasa_patches", "run"]
    assert plain[0].endswith("/rasa") and plain[1] == "run"
    def options(args):
        return [a for a in args if a.startswith("--") and "=" not in a]
    assert options(ours) == options(plain)  # same options otherwise


# -- the ticket lock ----------------------------------------------------------------------
import asyncio  # noqa: E402
import time  # noqa: E402

from rasa.core.lock_store import InMemoryLockStore  # noqa: E402


async def _both_tickets_expire_before_the_waiter_looks(store: LockStore) -> bool:
    """The holder (a crashed process) and the waiter both outlive their lifetime before the
    waiter's next poll (the event loop was busy). True if the waiter gets the lock."""
    store.issue_ticket("c", 0.3)
    await asyncio.sleep(0.05)
    mine = store.issue_ticket("c", 0.3)
    time.sleep(0.5)  # blocks the loop: both tickets expire
    try:
        await asyncio.wait_for(store._acquire_lock("c", mine, 0.05), 2)
        return True
    except asyncio.TimeoutError:
        return False


async def test_unpatched_rasa_waits_for_ever_when_the_own_ticket_expired():
    # the defect the patch exists for; if Rasa fixes it, this fails and the patch can go
    assert await _both_tickets_expire_before_the_waiter_looks(InMemoryLockStore()) is False


async def test_patched_lock_is_acquired_when_the_own_ticket_expired():
    rasa_patches.install()
    assert await _both_tickets_expire_before_the_waiter_looks(InMemoryLockStore()) is True


async def test_patched_lock_still_serves_tickets_in_order():
    rasa_patches.install()
    store = InMemoryLockStore()
    first = store.issue_ticket("c", 30)
    second = store.issue_ticket("c", 30)
    waiter = asyncio.ensure_future(store._acquire_lock("c", second, 0.02))
    await asyncio.sleep(0.2)
    assert not waiter.done()  # the first ticket is still being served
    assert (await store._acquire_lock("c", first, 0.02)) is not None
    store.cleanup("c", first)
    assert await asyncio.wait_for(waiter, 2) is not None


async def test_patched_lock_skips_an_expired_holder():
    rasa_patches.install()
    store = InMemoryLockStore()
    store.issue_ticket("c", 0.2)  # its process died: never cleaned up
    mine = store.issue_ticket("c", 30)
    started = time.monotonic()
    assert await asyncio.wait_for(store._acquire_lock("c", mine, 0.02), 2) is not None
    assert time.monotonic() - started >= 0.15  # waited for the holder to expire
