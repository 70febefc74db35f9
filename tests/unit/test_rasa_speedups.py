"""ops.rasa_speedups: same verdicts as Rasa's own action-result validation, built once."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError

from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from ops import rasa_speedups

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
        rasa_speedups.install()
        assert RemoteAction._validate_action_result is not original
        rasa_speedups.install()  # idempotent
        after = _verdicts(_action())
    finally:
        RemoteAction._validate_action_result = original
    assert before[0] is True and all(isinstance(v, str) for v in before[1:])
    assert after == before


@pytest.mark.parametrize("bad", BAD)
def test_patched_validation_rejects_bad_results(bad):
    original = RemoteAction._validate_action_result
    try:
        rasa_speedups.install()
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            _action()._validate_action_result(bad)
    finally:
        RemoteAction._validate_action_result = original
