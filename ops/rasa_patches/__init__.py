"""Start Rasa with measured defects and slow paths of Rasa 3.6.21 fixed:
`python -m ops.rasa_patches run ...` is `rasa run ...` otherwise. Nothing on disk changes;
every patch is one module with its reasons, and tests/unit/test_rasa_patches.py checks
each against plain Rasa.

- action_validator: the action-server response check builds its JSON-schema validators
  once (it was about half of the Rasa server's CPU under load) and recognises valid
  responses without trying all 23 event types for each event.
- ticket_lock: the ticket lock can no longer wait for ever when the waiter's own ticket
  expired.
- ted_cache: TEDPolicy predictions are reused for dialogue states already seen (same
  output, no TensorFlow call).
- sqlite_store: the SQLite tracker store keeps its connection open (no checkpoint and
  fsyncs per message) and knows which events are new without a counting query.
- event_types: event classes are found by type name from a table, not a class-tree walk.
- tf_predict: DIET and TED call their compiled TensorFlow graph directly, without the
  per-call signature matching of `tf.function`.
- tracker_states: a tracker's dialogue states are computed once per version of the
  tracker instead of once per policy.
"""
from __future__ import annotations

import sys

from ops.rasa_patches import (action_validator, event_types, sqlite_store, ted_cache, tf_predict,
                              ticket_lock, tracker_states)


def install() -> None:
    """Apply every patch (idempotent)."""
    for patch in (action_validator, ticket_lock, ted_cache, sqlite_store, event_types, tf_predict,
                  tracker_states):
        patch.install()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()

