"""The analyser's result type and the fixed vocabularies of the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CATEGORIES = (
    "dnsbl",
    "relay_denied",
    "nul_characters",
    "sender_auth",
    "recipient_mailbox_full",
    "recipient_unknown",
    "message_too_large",
    "spam_content",
    "temporary",
    "unknown",
)

PHASES = ("connect", "helo", "mail_from", "rcpt_to", "data", "unknown")


def article_id_for(category: str) -> str:
    """Knowledge-base article id of a category (`bounce_<category>`)."""
    return f"bounce_{category if category in CATEGORIES else 'unknown'}"


@dataclass
class BounceResult:
    """What `analyse()` found out about one text or message."""

    category: str = "unknown"
    confidence: float = 0.0
    smtp_code: str | None = None
    enhanced_code: str | None = None
    recipients: list[str] = field(default_factory=list)
    remote_host: str | None = None
    phase: str = "unknown"
    diagnostic: str | None = None
    evidence: str | None = None
    is_bounce: bool = False
    article_id: str = "bounce_unknown"
    variant: str | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": self.category,
            "confidence": round(float(self.confidence), 2),
            "smtp_code": self.smtp_code,
            "enhanced_code": self.enhanced_code,
            "recipients": list(self.recipients),
            "remote_host": self.remote_host,
            "phase": self.phase,
            "diagnostic": self.diagnostic,
            "evidence": self.evidence,
            "is_bounce": self.is_bounce,
            "article_id": self.article_id,
            "variant": self.variant,
            "alternatives": [dict(a) for a in self.alternatives],
        }
        if self.error:
            data["error"] = self.error
        return data
