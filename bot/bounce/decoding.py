"""Turning untrusted bytes into text: transfer encodings, charsets, HTML.

Every function here is total: bad input gives a best-effort string, never an
exception.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import quopri
import re

# Japanese and other legacy mail often mislabels charsets; these are tried in
# order when the declared one fails or is missing.
_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")

_CHARSET_ALIASES = {
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "utf-8",
    "unknown-8bit": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
}


def to_bytes(data: object, limit: int) -> bytes:
    """Any input as at most `limit` bytes (str is encoded as UTF-8)."""
    if data is None:
        return b""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data[:limit])
    if not isinstance(data, str):
        data = str(data)
    # 4 bytes per character at most: slicing first keeps huge strings cheap.
    return data[:limit].encode("utf-8", "surrogatepass")[:limit]


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode `data`, trusting valid UTF-8 over a declared 8-bit charset.

    Mail software often declares ISO-8859-1 for UTF-8 text; valid UTF-8 with
    non-ASCII bytes is almost never anything else, so it wins.
    """
    if not data:
        return ""
    if data.isascii():
        if b"\x1b$" in data and _codec(charset) in (None, "iso2022_jp"):
            try:
                return data.decode("iso2022_jp")
            except UnicodeDecodeError:
                pass
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(charset)
    if codec and codec not in ("utf-8", "ascii"):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            try:
                return data.decode(codec, "replace")
            except LookupError:
                pass
    for name in _FALLBACK_CHARSETS[1:]:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", "replace")  # pragma: no cover - latin-1 always decodes


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=]")


def decode_transfer(body: bytes, encoding: str | None) -> bytes:
    """Undo a Content-Transfer-Encoding; unknown or broken ones pass through."""
    name = (encoding or "").strip().lower()
    try:
        if name == "base64":
            cleaned = _B64_JUNK.sub(b"", body)
            cleaned = cleaned.split(b"=", 1)[0]
            cleaned = cleaned[: len(cleaned) - len(cleaned) % 4]
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
        if name == "quoted-printable":
            return quopri.decodestring(body)
    except (binascii.Error, ValueError):
        return body
    return body


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,40})\?([bBqQ])\?([^?\s]{0,2000})\?=")


def decode_header_value(value: str) -> str:
    """Decode RFC 2047 encoded words ("=?utf-8?B?...?=") leniently."""

    def _one(match: re.Match[str]) -> str:
        charset, kind, payload = match.group(1), match.group(2).lower(), match.group(3)
        raw = payload.encode("ascii", "replace")
        try:
            if kind == "b":
                raw = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
            else:
                raw = quopri.decodestring(raw.replace(b"_", b" "), header=True)
        except (binascii.Error, ValueError):
            return match.group(0)
        return decode_bytes(raw, charset.split("*", 1)[0])

    if "=?" not in value:
        return value
    decoded = _ENCODED_WORD.sub(_one, value)
    # Adjacent encoded words are separated only by folding whitespace.
    return decoded


_BLOCK_OPEN = re.compile(r"<(script|style|head|title)\b", re.IGNORECASE)
_BREAK_TAGS = re.compile(r"<\s{0,5}/?\s{0,5}(?:br|p|div|tr|li|h\d|table|blockquote)\b[^<>]{0,2000}>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,2000}>")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ", "abcdefghijklmnopqrstuvwxyzäöü")


def fold(text: str) -> str:
    """Lower case for matching, without changing the length (positions stay valid)."""
    return text.translate(_FOLD)


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only, so indices stay aligned with the original."""
    return text.translate(_ASCII_LOWER)


def _drop_between(text: str, lower: str, start_pat: re.Pattern[str] | None, opener: str, closer_of) -> str:
    out: list[str] = []
    pos = 0
    while True:
        if start_pat is not None:
            match = start_pat.search(lower, pos)
            if not match:
                break
            start, closer = match.start(), closer_of(match)
        else:
            start = lower.find(opener, pos)
            if start < 0:
                break
            closer = closer_of(None)
        end = lower.find(closer, start + 1)
        out.append(text[pos:start])
        out.append(" ")
        if end < 0:
            pos = len(text)
            break
        pos = end + len(closer)
    out.append(text[pos:])
    return "".join(out)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML part: comments, styles and scripts removed.

    Works in linear time: blocks are skipped with `str.find`, never with a
    backtracking pattern.
    """
    text = _drop_between(markup, ascii_lower(markup), None, "<!--", lambda _m: "-->")
    text = _drop_between(text, ascii_lower(text), _BLOCK_OPEN, "", lambda m: "</" + m.group(1).lower())
    text = _BREAK_TAGS.sub("\n", text)
    text = _TAG.sub(" ", text)
    return html.unescape(text)


_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Latin-1/CP1252 ("EmpfÃ¤nger")."""
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text
