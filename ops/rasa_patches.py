"""Start Rasa with two measured defects of Rasa 3.6.21 fixed: `python -m ops.rasa_patches run ...`
is `rasa run ...` otherwise.

1. Speed: profiling the Rasa server under load (scripts/bench.py --profile) showed about
   half of its CPU time in `RemoteAction._validate_action_result`: Rasa 3.6 calls
   `jsonschema.validate(result, schema)` for every action-server response, which checks
   the schema itself against the meta-schema and builds a new validator each time
   (~50 ms per call on this machine, ~3 ms with a validator built once). The patch
   validates against the same schema with a validator built once, raising the same
   `ValidationError` (best match, same message suffix).

2. A conversation stuck for ever: Rasa's ticket lock serves ticket N only while
   `now_serving == N`. When the waiter's own ticket expires before its turn (the holder
   crashed and both tickets ran out between two polls, or the event loop was busy for
   longer than the lock lifetime), the lock is left with no tickets, `now_serving` is 0
   and the request waits for ever (tests/unit/test_rasa_patches.py reproduces it with
   Rasa's own lock store). The patch serves a ticket once no unexpired ticket with a
   smaller number is left, which is what the ticket order means; everything else of the
   lock store (issuing, expiry, clean-up, Redis) is unchanged.
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any, Dict, Text


def _install_validator() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match

    from rasa.core.actions import action as action_module

    remote = action_module.RemoteAction
    if getattr(remote._validate_action_result, "_mailhilfe_patched", False):
        return
    schema = remote.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, as jsonschema.validate does every call
    validator = validator_class(schema)

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{action_module.DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result._mailhilfe_patched = True  # type: ignore[attr-defined]
    remote._validate_action_result = _validate_action_result


def _is_my_turn(lock, ticket: int) -> bool:
    """No unexpired ticket before ``ticket`` is left (Rasa: only ``now_serving == ticket``)."""
    lock.remove_expired_tickets()
    return not any(other.number < ticket for other in lock.tickets)


def _install_lock_fix() -> None:
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


def install() -> None:
    """Apply both patches (idempotent)."""
    _install_validator()
    _install_lock_fix()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
