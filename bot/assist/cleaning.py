"""Strip what is not the customer's new message: quoted history, greeting and signature.

Pure text processing, no knowledge base. Recognised:

* quoted lines (``> ...``) anywhere,
* reply headers that start the quoted history: ``Am ... schrieb ...:``, ``On ... wrote:``,
  ``-----Original Message-----`` / ``-----Ursprüngliche Nachricht-----`` / forwarded-message
  separators, and mail header blocks such as ``Von: ... Gesendet: ... An: ... Betreff: ...``,
* signatures: the ``-- `` separator, "Gesendet von meinem iPhone" and kin, and a closing
  formula ("Mit freundlichen Grüßen", "Viele Grüße", "MfG", ...) with the name block below it,
* a greeting line at the top ("Hallo,", "Sehr geehrte Damen und Herren,"),
* the header block of a pasted raw message ("Received: ...", "From: ...").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_QUOTED_LINE = re.compile(r"^[ \t]*>")

# Reply headers, checked line by line (no pattern spans lines, so no backtracking blow-up).
_AM_START = re.compile(r"^[ \t]*Am\b")                 # "Am 04.03.2024 um 10:12 schrieb X:"
_WROTE_DE = re.compile(r"\b(?:schrieb|geschrieben)\b")
_ON_START = re.compile(r"^[ \t]*On\b")                 # "On Mon, 4 Mar 2024, X wrote:"
_WROTE_EN = re.compile(r"\bwrote:[ \t]*$")
_HEADER_LINE_MAX = 300
_SEPARATORS = [
    re.compile(
        r"^[ \t]*-{2,}[ \t]*(?:original message|ursprüngliche nachricht|originalnachricht|"
        r"weitergeleitete nachricht|forwarded message|nachricht im original|"
        r"beginn der weitergeleiteten nachricht)[ \t]*:?[ \t]*-*[ \t]*$",
        re.IGNORECASE,
    ),
    re.compile(r"^[ \t]*(?:Beginn der weitergeleiteten Nachricht|Begin forwarded message):[ \t]*$",
               re.IGNORECASE),
]

_HEADER_FIELD = re.compile(
    r"^[ \t]*\*{0,2}(von|from|gesendet|sent|datum|date|an|to|cc|betreff|subject)\*{0,2}[ \t]*:",
    re.IGNORECASE,
)
_HEADER_SENDER = {"von", "from"}
_HEADER_TIME = {"gesendet", "sent", "datum", "date"}

_SIG_DASHES = re.compile(r"^--[ \t]?$")
_MOBILE_SIGNATURE = re.compile(
    r"^[ \t]*(?:(?:gesendet|versendet|verschickt)[ \t]+(?:von|mit|über)[ \t]+mein(?:em|er|)\b.*"
    r"|von[ \t]+mein(?:em|er)[ \t]+.*(?:gesendet|versendet)\.?"
    r"|sent[ \t]+from[ \t]+my\b.*"
    r"|gesendet[ \t]+von[ \t]+outlook\b.*"
    r"|get[ \t]+outlook[ \t]+for\b.*)$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^[ \t]*(?:(?:vielen[ \t]+)?dank(?:e)?(?:[ \t]+im[ \t]+voraus)?[ \t]+und[ \t]+)?"
    r"(?:mit[ \t]+)?"
    r"(?:(?:freundliche[nmr]?|viele[n]?|beste[n]?|liebe[n]?|herzliche[n]?|schöne[n]?|"
    r"sonnige[n]?|nette[n]?)[ \t]+)?"
    r"(?:gr(?:ü|ue)(?:ß|ss)(?:e|en)?|gru(?:ß|ss))\b"
    r"|^[ \t]*(?:mfg|lg|vg|bg|ciao|tschüss|best[ \t]+regards|kind[ \t]+regards|regards|cheers)\b",
    re.IGNORECASE,
)
_CLOSING_MAX_LEN = 60
_GREETING = re.compile(
    r"^[ \t]*(?:hallo|guten[ \t]+(?:tag|morgen|abend)|sehr[ \t]+geehrte[rs]?|liebe[rs]?|hi|hey|"
    r"moin|servus|grüß[ \t]+gott|grüezi|dear|hello)\b[^\n]*$",
    re.IGNORECASE,
)
_GREETING_MAX_LEN = 70
_NAME = re.compile(r"^[A-ZÄÖÜ][\wÄÖÜäöüß.'-]*(?:[ \t]+[A-ZÄÖÜ][\wÄÖÜäöüß.'-]*){0,3}$")
_NOT_NAMES = {"ihr", "ihre", "team", "dokom", "dokom21", "support", "kundenservice"}


@dataclass(frozen=True)
class Cleaned:
    """The customer's new text and what was removed around it."""

    body: str
    sender_name: Optional[str] = None
    history_removed: bool = False
    signature_removed: bool = False
    greeting_removed: bool = False


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _cut_history(text: str) -> tuple[str, bool]:
    lines = text.split("\n")
    starts = [_reply_header_line(lines), _header_block_line(lines)]
    found = [index for index in starts if index is not None]
    if not found:
        return text, False
    cut = min(found)
    return "\n".join(lines[:cut]), True


def _reply_header_line(lines: list[str]) -> Optional[int]:
    """Index of the first line that starts a reply header or a forward separator."""
    for index, line in enumerate(lines):
        if not line or len(line) > _HEADER_LINE_MAX:
            continue
        if any(pattern.match(line) for pattern in _SEPARATORS):
            return index
        following = lines[index:index + 2]  # the header may wrap once
        if _AM_START.match(line) and any(ch.isdigit() for ch in line):
            for end in range(len(following)):
                if following[end].rstrip().endswith(":") and _WROTE_DE.search(" ".join(following[:end + 1])):
                    return index
        if _ON_START.match(line) and any(_WROTE_EN.search(f) for f in following):
            return index
    return None


def _header_block_line(lines: list[str]) -> Optional[int]:
    """Index of the first block of 2+ header lines with a sender and a date field."""
    for index, line in enumerate(lines):
        if not _HEADER_FIELD.match(line):
            continue
        fields = []
        for follow in lines[index:index + 6]:
            match = _HEADER_FIELD.match(follow)
            if not match:
                break
            fields.append(match.group(1).lower())
        if (
            len(fields) >= 2
            and _HEADER_SENDER.intersection(fields)
            and _HEADER_TIME.intersection(fields)
        ):
            # an Outlook separator line right above belongs to the history too
            if index > 0 and re.fullmatch(r"[ \t]*_{5,}[ \t]*", lines[index - 1]):
                return index - 1
            return index
    return None


_RAW_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]")
_RAW_HEADER_MIN_LINES = 3


def _drop_leading_headers(text: str) -> str:
    """A pasted raw message starts with its header block ("Received: ...", "From: ..."):
    the part the customer or the mail system wrote comes after the first blank line."""
    lines = text.split("\n")
    if not lines or not _RAW_HEADER.match(lines[0]):
        return text
    headers = 0
    for index, line in enumerate(lines):
        if not line.strip():
            return "\n".join(lines[index + 1:]) if headers >= _RAW_HEADER_MIN_LINES else text
        if _RAW_HEADER.match(line):
            headers += 1
        elif line[:1] not in (" ", "\t"):
            return text  # not a header block after all
    return text


def _drop_quoted_lines(text: str) -> tuple[str, bool]:
    lines = text.split("\n")
    kept = [line for line in lines if not _QUOTED_LINE.match(line)]
    return "\n".join(kept), len(kept) != len(lines)


def _looks_like_name(line: str) -> bool:
    line = line.strip().rstrip(",.")
    if not line or len(line) > 40 or any(ch.isdigit() for ch in line) or "@" in line:
        return False
    if not _NAME.match(line):
        return False
    return line.split()[0].lower() not in _NOT_NAMES


def _cut_signature(text: str) -> tuple[str, bool, Optional[str]]:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _SIG_DASHES.match(line) or _MOBILE_SIGNATURE.match(line):
            return "\n".join(lines[:index]), True, None
        stripped = line.strip()
        if index > 0 and len(stripped) <= _CLOSING_MAX_LEN and _CLOSING.match(stripped):
            return "\n".join(lines[:index]), True, _name_after_closing(stripped, lines[index + 1:])
    return text, False, None


def _name_after_closing(closing_line: str, below: list[str]) -> Optional[str]:
    match = _CLOSING.match(closing_line)
    rest = closing_line[match.end():].strip(" \t,.!-") if match else ""
    if rest and _looks_like_name(rest):
        return rest
    for line in below:
        if not line.strip():
            continue
        if _SIG_DASHES.match(line) or _MOBILE_SIGNATURE.match(line):
            return None
        return line.strip().rstrip(",.") if _looks_like_name(line) else None
    return None


def _drop_greeting(text: str) -> tuple[str, bool]:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if len(line.strip()) <= _GREETING_MAX_LEN and _GREETING.match(line):
            # "Hallo, ich habe ein Problem ..." keeps the part after the greeting words
            rest = _text_after_greeting(line)
            return "\n".join(lines[:index] + ([rest] if rest else []) + lines[index + 1:]), True
        return text, False
    return text, False


def _text_after_greeting(line: str) -> str:
    head, sep, tail = line.partition(",")
    if sep and len(tail.strip()) > 15:
        return tail.strip()
    return ""


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def clean_message(text: str) -> Cleaned:
    """Remove quoted history, quoted lines, signature and greeting from ``text``."""
    text = re.sub(r"\n{3,}", "\n\n", normalise_newlines(text))
    text = _drop_leading_headers(text)
    text, history = _cut_history(text)
    text, quoted = _drop_quoted_lines(text)
    text, signature, name = _cut_signature(text)
    text, greeting = _drop_greeting(text)
    return Cleaned(
        body=_tidy(text),
        sender_name=name,
        history_removed=history or quoted,
        signature_removed=signature,
        greeting_removed=greeting,
    )
