"""The action-server response check with a JSON-schema validator built once.

Rasa 3.6 calls `jsonschema.validate(result, schema)` for every action-server response,
which checks the schema against the meta-schema and builds a new validator each time
(~50 ms per call on this machine, ~3 ms with a validator built once). Same schema, same
`ValidationError` (best match, same message suffix).
"""
from __future__ import annotations

from typing import Any, Dict


def install() -> None:
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
