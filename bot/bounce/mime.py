"""A small, bounded MIME walker for non-delivery reports.

Python's `email` package parses the whole tree before one can look at it and
has no depth or size limits; bounces are untrusted input, so this walker
keeps the structure it needs (text parts, delivery-status fields, attached
messages) and stops at fixed limits instead.

All structural work happens on a Latin-1 view of the raw bytes (one character
per byte); leaf parts are turned back into bytes and decoded with their own
transfer encoding and charset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .decoding import decode_bytes, decode_header_value, decode_transfer, html_to_text

MAX_DEPTH = 6  # multipart / message nesting levels followed
MAX_PARTS = 120  # parts visited per message
MAX_HEADER_LINES = 400
MAX_LEAF_CHARS = 256 * 1024  # raw characters of one leaf part that are decoded

_HEADER_LINE = re.compile(r"([!-9;-~]{1,76})[ \t]{0,20}:[ \t]*(.*)")
_PARAM = {
    name: re.compile(name + r'\s*=\s*(?:"([^"\n]{0,300})"|([^\s;"]{1,300}))', re.IGNORECASE)
    for name in ("boundary", "charset")
}
_MESSAGE_HEADERS = {
    "from", "to", "subject", "date", "received", "return-path", "message-id", "mime-version",
    "content-type", "x-failed-recipients", "delivered-to", "auto-submitted", "reply-to", "sender",
}
_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status", "text/delivery-status")
_ATTACHED_TYPES = ("message/rfc822", "message/global", "message/partial")
_SKIPPED_TYPES = ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers")


@dataclass
class TextPart:
    text: str
    content_type: str


@dataclass
class DsnGroup:
    """One group of delivery-status fields (lower-case names)."""

    fields: dict[str, str]


@dataclass
class ParsedMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)
    texts: list[TextPart] = field(default_factory=list)
    dsn: list[DsnGroup] = field(default_factory=list)
    attachments: list["ParsedMessage"] = field(default_factory=list)
    content_type: str = "text/plain"
    is_message: bool = False
    truncated: bool = False

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _broken_fold(previous_value: str, line: str) -> bool:
    """A parameter line whose folding whitespace got lost ("boundary=...")."""
    return previous_value.rstrip().endswith(";") and ":" not in line.split("=", 1)[0] and "=" in line


def split_headers(text: str, pos: int = 0) -> tuple[list[tuple[str, str]], int, bool]:
    """Read a header block starting at `pos`.

    Returns (headers, body_start, clean): `clean` is False when a line that is
    neither a header nor a continuation turned up before the blank line.
    """
    headers: list[tuple[str, str]] = []
    length = len(text)
    while pos < length:
        end = text.find("\n", pos)
        if end < 0:
            end = length
        line = text[pos:end]
        if not line.strip():
            return headers, min(end + 1, length), True
        if headers and (line[0] in " \t" or _broken_fold(headers[-1][1], line)):
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
        else:
            match = _HEADER_LINE.fullmatch(line[:2000])
            if not match or len(headers) >= MAX_HEADER_LINES:
                return headers, pos, False
            headers.append((match.group(1).lower(), match.group(2).strip()))
        pos = end + 1
    return headers, length, True


def _param(value: str, name: str) -> str | None:
    match = _PARAM[name].search(value)
    if not match:
        return None
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip()


def _content_type(headers: list[tuple[str, str]], default: str) -> tuple[str, str]:
    for key, value in headers:
        if key == "content-type":
            main = value.split(";", 1)[0].strip().lower()
            return (main if "/" in main else default), value
    return default, ""


def _header(headers: list[tuple[str, str]], name: str) -> str:
    for key, value in headers:
        if key == name:
            return value
    return ""


def _leaf_text(body: str, headers: list[tuple[str, str]], full_type: str) -> str:
    raw = body[:MAX_LEAF_CHARS].encode("latin-1", "replace")
    raw = decode_transfer(raw, _header(headers, "content-transfer-encoding"))
    return decode_bytes(raw, _param(full_type, "charset"))


def parse_dsn_fields(text: str) -> list[DsnGroup]:
    """Split a delivery-status body into field groups (blank-line separated)."""
    groups: list[DsnGroup] = []
    for block in re.split(r"\n[ \t]*\n", normalise_newlines(text)[:MAX_LEAF_CHARS]):
        fields: dict[str, str] = {}
        last: str | None = None
        for line in block.split("\n"):
            if not line.strip():
                continue
            if line[0] in " \t" and last:
                fields[last] += " " + line.strip()
                continue
            match = _HEADER_LINE.fullmatch(line[:2000])
            if not match:
                last = None
                continue
            last = match.group(1).lower()
            if last in fields:  # keep the first, note that more exist
                last = None
                continue
            fields[last] = match.group(2).strip()
        if fields:
            groups.append(DsnGroup(fields))
    return groups


class _Walker:
    def __init__(self) -> None:
        self.parts_left = MAX_PARTS

    def message(self, text: str, depth: int) -> ParsedMessage:
        headers, body_start, _clean = split_headers(text)
        msg = ParsedMessage(
            headers=[(k, decode_header_value(v)) for k, v in headers], is_message=True
        )
        main, full = _content_type(headers, "text/plain")
        msg.content_type = main
        self.entity(msg, headers, text[body_start:], depth, main, full)
        return msg

    def entity(
        self,
        msg: ParsedMessage,
        headers: list[tuple[str, str]],
        body: str,
        depth: int,
        main: str,
        full: str,
    ) -> None:
        if self.parts_left <= 0:
            msg.truncated = True
            return
        self.parts_left -= 1
        if main.startswith("multipart/"):
            self.multipart(msg, body, depth, full, main)
        elif main in _DSN_TYPES:
            msg.dsn.extend(parse_dsn_fields(_leaf_text(body, headers, full)))
        elif main in _ATTACHED_TYPES:
            if depth >= MAX_DEPTH:
                msg.truncated = True
                return
            inner = body
            encoding = _header(headers, "content-transfer-encoding").strip().lower()
            if encoding in ("base64", "quoted-printable"):
                raw = body[:MAX_LEAF_CHARS].encode("latin-1", "replace")
                inner = decode_transfer(raw, encoding).decode("latin-1")
            msg.attachments.append(self.message(normalise_newlines(inner).lstrip("\n"), depth + 1))
        elif main in _SKIPPED_TYPES:
            return
        elif main == "text/html":
            msg.texts.append(TextPart(html_to_text(_leaf_text(body, headers, full)), main))
        elif main.startswith("text/"):
            msg.texts.append(TextPart(_leaf_text(body, headers, full), main))

    def multipart(self, msg: ParsedMessage, body: str, depth: int, full: str, main: str) -> None:
        boundary = _param(full, "boundary")
        if depth >= MAX_DEPTH:
            msg.truncated = True
            return
        if not boundary or ("--" + boundary) not in body:
            boundary = _guess_boundary(body) or boundary
        if not boundary:
            msg.texts.append(TextPart(_leaf_text(body, [], full), "text/plain"))
            return
        delimiter = re.compile(r"^--" + re.escape(boundary) + r"(--)?[ \t]*$", re.MULTILINE)
        pieces: list[str] = []
        previous_end: int | None = None
        closed = False
        preamble = ""
        for match in delimiter.finditer(body):
            if previous_end is None:
                preamble = body[: match.start()]
            else:
                pieces.append(body[previous_end : match.start()])
            previous_end = match.end() + 1
            if match.group(1):
                closed = True
                break
            if len(pieces) >= self.parts_left:
                msg.truncated = True
                break
        if previous_end is None:  # no delimiter at all: treat as text
            msg.texts.append(TextPart(_leaf_text(body, [], full), "text/plain"))
            return
        if not closed and previous_end < len(body):
            pieces.append(body[previous_end:])
        if preamble.strip():
            msg.texts.append(TextPart(preamble[:MAX_LEAF_CHARS], "text/plain"))
        default = "message/rfc822" if main == "multipart/digest" else "text/plain"
        for piece in pieces:
            headers, body_start, clean = split_headers(piece)
            if not clean and not headers:
                body_start = 0
            part_main, part_full = _content_type(headers, default)
            self.entity(msg, headers, piece[body_start:], depth + 1, part_main, part_full)


_DELIMITER_LINE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-]{6,200}?)(--)?[ \t]*$", re.MULTILINE)


def _guess_boundary(body: str) -> str | None:
    """The boundary actually used in `body` when the declared one is absent.

    Copying and anonymising often mangle the header parameter while the
    delimiter lines survive: take the delimiter that occurs most often.
    """
    counts: dict[str, int] = {}
    for match in _DELIMITER_LINE.finditer(body[:MAX_LEAF_CHARS * 4]):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    if not counts:
        return None
    boundary, count = max(counts.items(), key=lambda item: item[1])
    return boundary if count >= 2 else None


def looks_like_message(text: str) -> bool:
    """True when `text` starts with a header block of a mail message."""
    headers, _body_start, clean = split_headers(text)
    if not clean or len(headers) < 2:
        return False
    return sum(1 for name, _ in headers if name in _MESSAGE_HEADERS) >= 2


def parse(raw: bytes) -> ParsedMessage:
    """Parse raw bytes: a MIME message if it looks like one, else plain text."""
    view = normalise_newlines(raw.decode("latin-1"))
    stripped = view.lstrip(" \t\n")
    if stripped.startswith("From ") and "\n" in stripped[:1000]:
        mbox = stripped.split("\n", 1)[1]  # mbox "From " separator line
        if looks_like_message(mbox):
            stripped = mbox
    if looks_like_message(stripped):
        return _Walker().message(stripped, 0)
    text = decode_bytes(raw)
    return ParsedMessage(texts=[TextPart(normalise_newlines(text), "text/plain")])
