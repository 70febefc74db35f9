"""German texts of the web app and the widget, from data/web/messages.yml.

Placeholders: ``{support}`` (the support address, ``contact_support`` in
data/kb/contacts.yml) and ``{portal}`` (the customer portal, ``contact_portal``) are
filled in from the knowledge base in every text; others (``{seconds}``, ``{limit}``) by
the caller. A placeholder nobody fills stays as it is instead of raising.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

MESSAGES_FILE = Path(__file__).resolve().parents[2] / "data" / "web" / "messages.yml"


@lru_cache(maxsize=1)
def load_messages(path: str = str(MESSAGES_FILE)) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    for section in ("errors", "notices", "widget"):
        if not isinstance(data.get(section), dict):
            raise ValueError(f"{path}: missing section {section!r}")
    for key in ("no_answer_apology", "password_removed"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f"{path}: missing text {key!r}")
    return data


class _Values(dict):
    """Format values; an unknown placeholder is left in the text."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@lru_cache(maxsize=1)
def contact_values() -> Dict[str, str]:
    """``support`` and ``portal`` from the knowledge base (loaded once)."""
    from bot.kb import get_kb

    kb = get_kb()
    return {"support": kb.contact.email or "", "portal": kb.portal.url or ""}


def _fill(template: str, values: Optional[Dict[str, Any]] = None) -> str:
    merged = _Values(contact_values())
    merged.update(values or {})
    return template.format_map(merged)


def error_text(code: str, **values: Any) -> str:
    errors = load_messages()["errors"]
    template = errors.get(code) or errors["internal"]
    return _fill(template, values)


def notice_text(code: str, **values: Any) -> str:
    return _fill(load_messages()["notices"][code], values)


def no_answer_apology() -> str:
    """The bot message the app sends when Rasa gave no answer to a customer's message."""
    return _fill(" ".join(load_messages()["no_answer_apology"].split()))


def password_warning() -> str:
    """The warning the Rasa channel sends before its answer when a password was removed
    (the same text as ``channels.redacting.warning_text``)."""
    return _fill(" ".join(load_messages()["password_removed"].split()))


def widget_texts() -> Dict[str, Any]:
    return dict(load_messages()["widget"])
