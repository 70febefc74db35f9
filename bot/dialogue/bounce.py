"""Bounce classification for the dialogue: the bounce analyser, with a fallback.

``bot.bounce.analyse`` is the real analyser. While it is missing (or broken) a small
fallback looks for the error codes and phrases the knowledge base lists for each
category, so the dialogue keeps working.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Optional

logger = logging.getLogger(__name__)

try:  # the analyser is built in parallel; the dialogue must not depend on it being there
    from bot.bounce import analyse as _analyse
except Exception:  # pragma: no cover - depends on the state of bot.bounce
    _analyse = None

UNKNOWN = "unknown"

_SMTP_STATUS = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_NDR_WORDS = re.compile(
    r"mail delivery|delivery status|undeliver|unzustellbar|returning message|"
    r"could not be delivered|nicht zugestellt|failed recipient|smtp error|"
    r"remote mail server|diagnostic-code|final-recipient|mailer-daemon|postmaster",
    re.IGNORECASE,
)

#: a pasted report is longer than a short question like "Fehler 554"
PASTE_MIN_LENGTH = 120
#: enhanced codes that several categories share (not decisive on their own)
_AMBIGUOUS_ENHANCED = ("5.7.1", "5.0.0", "4.0.0")


@dataclass(frozen=True)
class BounceInfo:
    category: str = UNKNOWN
    is_bounce: bool = False
    confidence: float = 0.0
    smtp_code: Optional[str] = None
    enhanced_code: Optional[str] = None
    codes: tuple[str, ...] = field(default_factory=tuple)
    evidence: str = ""  # what decided the category (internal: never shown to the customer)

    @property
    def known(self) -> bool:
        return self.category != UNKNOWN

    @property
    def decided_by_wording(self) -> bool:
        """The category rests on more than a bare basic code like "554" (which many share)."""
        if not self.known:
            return False
        if self.enhanced_code and self.enhanced_code not in _AMBIGUOUS_ENHANCED:
            return True
        return bool(re.search(r"[A-Za-z]", self.evidence or ""))


def classify(text: str, kb=None) -> BounceInfo:
    """Classify a bounce text; never raises."""
    text = text if isinstance(text, str) else ""
    if _analyse is not None:
        try:
            return _from_result(_analyse(text).to_dict())
        except Exception:  # the analyser promises not to raise; be safe anyway
            logger.exception("bounce analyser failed, using the fallback")
    return _fallback(text, kb)


def is_pasted_bounce(text: str, info: BounceInfo) -> bool:
    """Whether ``text`` is (part of) a non-delivery report rather than a question about one."""
    if not isinstance(text, str) or not info.is_bounce:
        return False
    return info.decided_by_wording or len(text) >= PASTE_MIN_LENGTH


_STATUS_CODE = re.compile(r"[245]\d\d|[245]\.\d{1,3}\.\d{1,3}")


def status_code(value) -> Optional[str]:
    """``value`` if it is an SMTP status code ("554", "5.7.26"), else None."""
    if isinstance(value, (list, tuple)):
        return next((c for c in map(status_code, value) if c), None)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _STATUS_CODE.fullmatch(value.strip()):
        return value.strip()
    return None


def looks_like_bounce(text: str) -> bool:
    """Cheap check before running the analyser: status codes or typical NDR wording."""
    if not isinstance(text, str) or not text.strip():
        return False
    return bool(_ENHANCED_STATUS.search(text) or _NDR_WORDS.search(text)
                or (_SMTP_STATUS.search(text) and len(text) >= PASTE_MIN_LENGTH))


def _from_result(data: dict) -> BounceInfo:
    codes = tuple(c for c in (data.get("smtp_code"), data.get("enhanced_code")) if c)
    return BounceInfo(
        category=data.get("category") or UNKNOWN,
        is_bounce=bool(data.get("is_bounce")),
        confidence=float(data.get("confidence") or 0.0),
        smtp_code=data.get("smtp_code"),
        enhanced_code=data.get("enhanced_code"),
        codes=codes,
        evidence=str(data.get("evidence") or ""),
    )


def _fallback(text: str, kb) -> BounceInfo:
    smtp = _SMTP_STATUS.search(text)
    enhanced = _ENHANCED_STATUS.search(text)
    codes = tuple(m.group(1) for m in (smtp, enhanced) if m)
    category, evidence = _category_from_kb(text, kb) if kb is not None else (UNKNOWN, "")
    is_bounce = bool(category != UNKNOWN or enhanced or _NDR_WORDS.search(text)
                     or (smtp and len(text) >= PASTE_MIN_LENGTH))
    return BounceInfo(category=category, is_bounce=is_bounce,
                      confidence=0.6 if category != UNKNOWN else 0.0,
                      smtp_code=smtp.group(1) if smtp else None,
                      enhanced_code=enhanced.group(1) if enhanced else None, codes=codes,
                      evidence=evidence)


def _category_from_kb(text: str, kb) -> tuple[str, str]:
    """Category and matched phrase from the wording the KB lists (phrases before codes)."""
    lowered = text.lower()
    try:
        problem = kb.problem("problem_bounce_554")
        for variant in problem.variants:
            for phrase in variant.evidence:
                if variant.bounce_category and re.search(r"[a-z]", phrase.lower()) \
                        and phrase.lower() in lowered:
                    return variant.bounce_category, phrase
    except Exception:
        pass
    from bot.kb import schema  # local import: only the fallback needs the category list
    for category in schema.BOUNCE_CATEGORIES:
        if category == UNKNOWN:
            continue
        try:
            article = kb.bounce_article(category)
        except Exception:
            continue
        for code in article.error_codes:
            if code.count(".") == 2 and code not in _AMBIGUOUS_ENHANCED \
                    and re.search(rf"(?<![\d.]){re.escape(code)}(?![\d.])", text):
                return category, code
    return UNKNOWN, ""
