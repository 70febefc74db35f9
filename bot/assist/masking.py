"""Mask passwords and credentials in pasted customer text.

The real work is done by ``bot.redact.redact`` (shared with the chat path). This module
only adapts its result and guarantees that masking never fails: if the redactor cannot
be imported or raises, every line that mentions a password keyword is replaced as a
whole, so nothing password-like ever reaches the NLU, the logs or the page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

PLACEHOLDER = "[Passwort entfernt]"

# Fallback only: lines that name a credential are dropped completely.
_CREDENTIAL_LINE = re.compile(
    r"^.*\b(passwort|passwords?|kennwort|pass|pw|pwd|passwd|zugangsdaten|credentials?)\b.*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Masked:
    """The masked text and how many secrets were removed (never the secrets themselves)."""

    text: str
    count: int
    fallback: bool = False


Redactor = Callable[[str], object]


def _default_redactor() -> Optional[Redactor]:
    try:
        from bot.redact import redact  # owned by the web app; imported lazily
    except Exception:  # noqa: BLE001 - any import problem means: use the fallback
        return None
    return redact


def fallback_mask(text: str) -> Masked:
    """Replace every line that mentions a credential keyword."""
    masked, count = _CREDENTIAL_LINE.subn(PLACEHOLDER, text)
    return Masked(masked, count, fallback=True)


def mask(text: str, redactor: Optional[Redactor] = None) -> Masked:
    """Mask ``text`` with ``redactor`` (default: ``bot.redact.redact``)."""
    redactor = redactor or _default_redactor()
    if redactor is None:
        return fallback_mask(text)
    try:
        result = redactor(text)
        masked = getattr(result, "text")
        found = getattr(result, "found", None) or []
        if not isinstance(masked, str):
            raise TypeError("redactor returned no text")
    except Exception:  # noqa: BLE001 - masking must never fail open
        return fallback_mask(text)
    added = masked.count(PLACEHOLDER) - text.count(PLACEHOLDER)
    return Masked(masked, max(added, len(found) if found else 0, 0))
