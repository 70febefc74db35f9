"""Report text -> short, whitespace-normalised segments that rules look at.

A bounce's human-readable part usually ends with a copy of the returned
message; its subject and body must not be mistaken for the error, so the text
is cut where that copy starts. What remains is split into paragraphs (the
error of one recipient is usually one paragraph), folded SMTP continuation
lines are joined and their repeated reply codes removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .codes import enhanced_codes, failure_codes, reply_codes
from .decoding import fold

MAX_TEXT_CHARS = 32 * 1024  # of one text part that is read
MAX_SEGMENT_CHARS = 2000
SEGMENT_OVERLAP = 200

_HEADER_LINE = re.compile(r"([!-9;-~]{1,76}):[ \t]?(.*)")
_RAW_HEADER_NAMES = {
    "received", "message-id", "return-path", "mime-version", "dkim-signature", "delivered-to",
    "x-mailer", "content-type", "content-transfer-encoding", "x-originating-ip", "user-agent",
    "authentication-results", "arc-seal", "arc-message-signature", "arc-authentication-results",
    "received-spf", "x-received", "list-unsubscribe", "thread-index", "x-google-dkim-signature",
}
# Header lines that never describe the delivery error (they come from the
# returned message or from spam scanners) and would only mislead the rules.
_NOISE_HEADER_NAMES = _RAW_HEADER_NAMES | {
    "x-spam-status", "x-spam-score", "x-spam-flag", "x-spam-level", "x-spam-report",
    "x-spam-checker-version", "x-virus-scanned", "x-virus-status", "content-disposition",
}
_MARKER_WORDS = re.compile(
    r"\b(?:original|returned|undelivered|ursprüngliche\w{0,2}|originalnachricht|copy\s+of|below\s+this\s+line"
    r"|(?=message\s+text\s+follows)|(?=text\s+of\s+the\s+message))\b"
    r".{0,60}\b(?:message|mail|e-?mail|nachricht|headers?|kopfzeilen|text)\b",
    re.IGNORECASE,
)
_MARKER_FRAME = re.compile(r"^(?:[-=_*|#]{2,}|.{0,118}(?::|\b(?:follows?|below|attached|folgt)\b\W{0,20})$)", re.IGNORECASE)


@dataclass
class Segment:
    text: str  # whitespace-collapsed, as written
    clean: str  # SMTP continuation codes folded away; codes/hosts/addresses are read here
    zone: str  # "dsn" | "report" | "attached"
    source: str  # e.g. "diagnostic-code", "text/plain"
    masked: str = ""  # `clean` with e-mail addresses blanked out; what phrase rules read
    lowered: str = ""  # `masked` in lower case (same length), what phrases are matched against

    def __post_init__(self) -> None:
        if not self.masked:
            self.masked = mask_addresses(self.clean)
        if not self.lowered:
            self.lowered = fold(self.masked)

    @cached_property
    def has_failure_code(self) -> bool:
        """Does it carry a 4xx/5xx reply code or a 4.x.x/5.x.x status code?"""
        return bool(reply_codes(self.clean) or failure_codes(enhanced_codes(self.clean)))


_ADDRESS_LIKE = re.compile(r"[\w.+=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}")
_URL_PARAMETERS = re.compile(r"(?<=[^\s?#<>\"'])[?#][^\s<>\"']{0,500}")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"']{1,800}", re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    return "·" * len(match.group(0))


def mask_addresses(text: str) -> str:
    """Blank out e-mail addresses and URL parameters (same length, so
    positions stay valid).

    A local part such as "mailboxfull@..." says nothing about the error, nor
    does "?ip=192.0.2.1" in a link; the host and path of a link ("dnsbl-lookup")
    often do and are kept.
    """
    text = _ADDRESS_LIKE.sub(_blank, text)
    return _URL.sub(lambda m: _URL_PARAMETERS.sub(_blank, m.group(0)), text)


def _is_marker(line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 120:
        return False
    return bool(_MARKER_WORDS.search(stripped) and _MARKER_FRAME.search(stripped))


def _header_name(line: str) -> str | None:
    if not line or line[0] in " \t":
        return None
    match = _HEADER_LINE.fullmatch(line[:2000])
    return match.group(1).lower() if match else None


def _headers_follow(lines: list[str], start: int) -> bool:
    """A marker only cuts when a message (a header line) or nothing follows."""
    seen = 0
    for line in lines[start:]:
        if not line.strip():
            continue
        if _header_name(line) or line[:1] in (" ", "\t"):
            return True
        seen += 1
        if seen >= 6:
            return False
    return True


def cut_returned_message(text: str) -> tuple[str, str]:
    """Split report text into (report, returned copy of the original)."""
    lines = text.split("\n")
    run_start = -1
    run_length = 0
    run_raw = False
    for index, line in enumerate(lines):
        if _is_marker(line) and _headers_follow(lines, index + 1):
            return "\n".join(lines[:index]), "\n".join(lines[index + 1 :])
        name = _header_name(line)
        if name is None:
            if line[:1] in (" ", "\t") and run_length:
                continue  # folded header line
            run_start, run_length, run_raw = -1, 0, False
            continue
        if run_length == 0:
            run_start = index
        run_length += 1
        run_raw = run_raw or name in _RAW_HEADER_NAMES
        if run_length >= 3 and run_raw:
            return "\n".join(lines[:run_start]), "\n".join(lines[run_start:])
    return text, ""


def _drop_noise(text: str) -> str:
    kept = []
    skipping = False
    for line in text.split("\n"):
        if skipping and line[:1] in (" ", "\t"):
            continue
        name = _header_name(line)
        skipping = name in _NOISE_HEADER_NAMES if name else False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


_WHITESPACE = re.compile(r"\s+")
# "550-5.7.1 " at the start of a folded SMTP continuation line
_CONTINUATION = re.compile(r"(?<![\w.\-])([245]\d\d)[-]((?:#?[245]\.\d{1,3}\.\d{1,3})\s)?")
_REPEATED_REPLY = re.compile(r"(?<![\w.\-])([245]\d\d)\s(#?[245]\.\d{1,3}\.\d{1,3})\s")


def clean_reply(text: str) -> str:
    """Join SMTP multi-line replies: keep the first code, drop the repeats."""
    seen: set[str] = set()

    def _continuation(match: re.Match[str]) -> str:
        key = match.group(1) + " " + (match.group(2) or "").strip()
        if key in seen:
            return ""
        seen.add(key)
        return match.group(0)

    text = _CONTINUATION.sub(_continuation, text)

    def _repeat(match: re.Match[str]) -> str:
        key = match.group(1) + " " + match.group(2)
        if key in seen:
            return ""
        seen.add(key)
        return match.group(0)

    return _REPEATED_REPLY.sub(_repeat, text)


def collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def make_segment(text: str, zone: str, source: str) -> Segment:
    flat = collapse(text)
    return Segment(flat, collapse(clean_reply(flat)), zone, source)


_FRAME = re.compile(r"[ \t]{0,20}[-=_*|#]{3}")


def paragraphs(text: str) -> list[str]:
    """Blank lines and frame lines ("|------ Failed addresses follow: ------|",
    "----- Transcript of session follows -----") separate paragraphs; a frame
    line is a paragraph of its own."""
    found: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or _FRAME.match(line):
            if current:
                found.append("\n".join(current))
                current = []
            if line.strip():
                found.append(line)
            continue
        current.append(line)
    if current:
        found.append("\n".join(current))
    return found


def text_segments(text: str, zone: str, source: str, max_chars: int = MAX_TEXT_CHARS) -> list[Segment]:
    """Paragraph segments of one (already cut) text part, about `max_chars` at most."""
    text = _drop_noise(text[:MAX_TEXT_CHARS])
    segments: list[Segment] = []
    used = 0
    for paragraph in paragraphs(text):
        flat = collapse(paragraph)
        if not flat:
            continue
        start = 0
        while start < len(flat) and used < max_chars:
            chunk = flat[start : start + MAX_SEGMENT_CHARS]
            segments.append(Segment(chunk, collapse(clean_reply(chunk)), zone, source))
            used += len(chunk)
            if start + MAX_SEGMENT_CHARS >= len(flat):
                break
            start += MAX_SEGMENT_CHARS - SEGMENT_OVERLAP
        if used >= max_chars:
            break
    return segments
