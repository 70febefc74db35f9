"""Parse and clean the body of POST /api/chat; every problem is an `InputError` (-> 400)."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

# C0/C1 control characters except tab and newline, lone surrogates, and Unicode
# non-characters. Carriage returns become newlines first.
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class InputError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ChatInput:
    text: str            # what is forwarded to Rasa (cleaned, possibly cut)
    is_payload: bool     # True: a button payload, False: typed text
    truncated: bool      # True: the typed text was cut to the limit
    original_chars: int  # length of the cleaned text before cutting


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNWANTED.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def parse_chat_body(raw: bytes, max_message_chars: int, max_payload_chars: int) -> ChatInput:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("invalid_encoding") from None
    try:
        body = json.loads(decoded)
    except (ValueError, RecursionError):
        raise InputError("bad_json") from None
    if not isinstance(body, dict):
        raise InputError("bad_body")
    has_message = body.get("message") is not None
    has_payload = body.get("payload") is not None
    if has_message and has_payload:
        raise InputError("both_fields")
    if not has_message and not has_payload:
        raise InputError("missing_field")
    value = body["payload"] if has_payload else body["message"]
    if not isinstance(value, str):
        raise InputError("wrong_type")
    if has_payload and len(value) > max_payload_chars:
        raise InputError("payload_too_long")
    text = clean_text(value)
    if not text:
        raise InputError("empty_message")
    original = len(text)
    truncated = False
    if not has_payload and original > max_message_chars:
        text = text[:max_message_chars].rstrip()
        truncated = True
    return ChatInput(text=text, is_payload=has_payload, truncated=truncated, original_chars=original)
