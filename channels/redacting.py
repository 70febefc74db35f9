"""Rasa's REST channel with password redaction, registered in credentials.yml.

`RedactingRestInput` keeps the channel name "rest" (URL `/webhooks/rest/webhook`). It
masks passwords and credentials in the incoming text with `bot.redact.redact` *before*
the message reaches Rasa's processor, the tracker store or a log line, records what kind
of secret was removed in the message metadata (`{"redacted": [...]}`, kinds only, never
the secret) and, when something was removed, first sends the customer a German warning
(`password_removed` in data/web/messages.yml) to change that password in the customer
portal.

The web app redacts before forwarding as well and passes its findings as metadata
`redacted`; the warning is sent when either found something.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.redact import KINDS, PLACEHOLDER, redact

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "data"
MESSAGES_FILE = DATA / "web" / "messages.yml"
CONTACTS_FILE = DATA / "kb" / "contacts.yml"
METADATA_KEY = "redacted"


def _portal_url() -> str:
    """The customer portal's address from the knowledge base (contact_portal)."""
    with open(CONTACTS_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    for entry in data.get("contacts") or []:
        if isinstance(entry, dict) and entry.get("id") == "contact_portal" and entry.get("url"):
            return str(entry["url"])
    raise ValueError(f"{CONTACTS_FILE}: no contact_portal with a url")


@lru_cache(maxsize=1)
def warning_text() -> str:
    """The German warning sent after a password was removed (data/web/messages.yml,
    portal address from data/kb/contacts.yml)."""
    with open(MESSAGES_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    text = data.get("password_removed")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{MESSAGES_FILE}: missing text 'password_removed'")
    return " ".join(text.split()).format(portal=_portal_url())


def _reported_kinds(metadata: Optional[Dict[Text, Any]]) -> List[str]:
    """Kinds the web app reported in metadata; anything else there is ignored."""
    if not isinstance(metadata, dict):
        return []
    reported = metadata.get(METADATA_KEY)
    if not isinstance(reported, list):
        return []
    return [kind for kind in reported if isinstance(kind, str) and kind in KINDS]


class RedactingRestInput(RestInput):
    """REST channel that never lets a password reach the tracker store."""

    def __init__(self) -> None:
        super().__init__()
        warning_text()  # a missing text stops Rasa at start, not at the first password

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        text = super()._extract_message(req)
        if not isinstance(text, str):
            req.ctx.redacted_kinds = []
            return text
        result = redact(text)
        req.ctx.redacted_kinds = list(result.found)
        return result.text

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = super().get_metadata(request)
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        kinds = list(getattr(request.ctx, "redacted_kinds", []))
        for kind in _reported_kinds(metadata):
            if kind not in kinds:
                kinds.append(kind)
        metadata[METADATA_KEY] = kinds
        return metadata

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        async def warn_then_handle(message: UserMessage) -> Any:
            kinds = _reported_kinds(message.metadata)
            if not kinds and isinstance(message.text, str) and PLACEHOLDER in message.text:
                kinds = ["password"]
            if kinds:
                logger.info("removed credentials (%s) from a message of %s",
                            ",".join(kinds), message.sender_id)
                await message.output_channel.send_text_message(message.sender_id, warning_text())
            return await on_new_message(message)

        return super().blueprint(warn_then_handle)
