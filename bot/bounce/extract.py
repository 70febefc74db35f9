"""Pulling facts out of segments: SMTP phase, remote host, addresses.

These are the wordings of the common MTAs (Postfix "in reply to RCPT TO
command", Exim "SMTP error from remote mail server after RCPT TO", Sendmail
">>> RCPT To:", qmail/Yahoo "[RCPT_TO]", DragonFly "did not like our RCPT TO",
1&1 "for TEXT command", ...). All patterns use bounded repeats only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .decoding import fold

# Written in lower case: they run on fold(text) without IGNORECASE (faster).
_PHASE_ALTERNATIVES = (
    (
        "connect",
        r"\bafter initial connection\b|\brefused to talk to me\b"
        r"|\b(?:in reply to|during|after) (?:the )?(?:initial )?(?:connect(?:ion)?|greeting|banner)\b"
        r"|\[connect\]|\bsmtp greeting\b|\bwhile connecting\b|\bconnection (?:was )?(?:refused|rejected) by\b"
        r"|\bnach (?:dem )?verbindungsaufbau\b|\bbeim verbindungsaufbau\b",
    ),
    (
        "helo",
        r"\b(?:after|in reply to|nach) (?:the |dem )?(?:ehlo|helo|lhlo)\b|\b(?:ehlo|helo) command rejected\b"
        r"|\[(?:ehlo|helo)\]|>>> ?(?:ehlo|helo)\b|\bdid not like our (?:ehlo|helo)\b",
    ),
    (
        "mail_from",
        r"\b(?:after|in reply to|nach) (?:the |dem )?mail from\b|\bmail from (?:command|befehl)\b|\[mail_?from\]"
        r"|>>> ?mail from\b|\bdid not like our mail from\b|\bfollowing mail command\b",
    ),
    (
        "rcpt_to",
        r"\b(?:after|in reply to|nach) (?:the |dem )?rcpt(?: to)?\b|\brcpt(?: to)? (?:command|befehl)\b|\[rcpt_?to\]"
        r"|>>> ?rcpt\b|\bdid not like our rcpt\b|\bsmtp:rcpt\b|\bfollowing rcpt\b",
    ),
    (
        "data",
        r"\b(?:after|in reply to|nach) (?:the |dem )?(?:end of )?data\b|\bend of (?:data|message)\b"
        r"|\bdata (?:command|befehl)\b|\bnach (?:dem )?ende der (?:daten|nachricht)\b"
        r"|\[data\]|>>> ?(?:data\b|\.(?!\S))|\bdid not like our (?:final )?data\b|\bfor text command\b",
    ),
)
_PHASES = re.compile("|".join(f"(?P<{phase}>{pattern})" for phase, pattern in _PHASE_ALTERNATIVES))
_PHASE_WORDS = ("after", "reply", "rcpt", "mail", "data", "helo", "ehlo", "connect", "greeting", "banner",
                "talk to me", ">>>", "[", "command", "nach", "verbindungsaufbau", "end of", "following")


@lru_cache(maxsize=64)
def _phase_hits(text: str) -> tuple[tuple[int, str, str], ...]:
    folded = fold(text)
    if not any(word in folded for word in _PHASE_WORDS):
        return ()
    return tuple(
        (match.start(), match.lastgroup or "unknown", text[match.start() : match.end()])
        for match in _PHASES.finditer(folded)
    )


def phase_hits(text: str) -> list[tuple[int, str, str]]:
    """(position, phase, matched text) of every phase indicator, in order."""
    return list(_phase_hits(text))


def phase_near(text: str, position: int) -> tuple[str, str] | None:
    """The phase of the SMTP command a failure at `position` answered.

    Transcript style (indicator before the error) wins; Postfix puts it after.
    """
    hits = phase_hits(text)
    before = [hit for hit in hits if hit[0] <= position]
    if before:
        return before[-1][1], before[-1][2]
    if hits:
        return hits[0][1], hits[0][2]
    return None


_HOST = r"([A-Za-z0-9][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_-]{1,63}){1,10})"
_IP = r"(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{3,45}\])"
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DIGITS_AND_DOTS = re.compile(r"[\d.]+")
_HOST_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bhost\s{1,3}" + _HOST + r"\s{0,3}\[",
        _HOST + r"\s{0,3}\[[0-9A-Fa-f.:]{3,45}\]:?\s{1,3}(?:said|did not like|refused|responded)\b",
        r"\bhost:\s{0,3}" + _HOST,
        r"\bwhile talking to\s{1,3}" + _HOST,
        r"\bSMTP Server\s{0,3}<" + _HOST + ">",
        r"\bRemote[- ]MTA\s{0,3}:\s{0,3}(?:dns;\s{0,3})?" + _HOST,
        r"\bconnect to\s{1,3}" + _HOST + r"\s{0,3}\[",
        r"\bGiving up on\s{1,3}" + _IP,
        r"\bhost\s{1,3}" + _IP + r"\s{0,3}:",
        r"\bwhile talking to\s{1,3}" + _IP,
        r"(?:server|host)(?:s|es)?:?\s{1,3}\(?<?" + _HOST + r"(?![\w@.-])",
    )
)


def host_hits(text: str) -> list[tuple[int, str]]:
    """(position, host) of every remote host named in `text`, in order."""
    return list(_host_hits(text))


@lru_cache(maxsize=64)
def _host_hits(text: str) -> tuple[tuple[int, str], ...]:
    hits = []
    for pattern in _HOST_PATTERNS:
        for match in pattern.finditer(text):
            host = match.group(1).strip("[]").rstrip(".")
            is_ip = _IPV4.fullmatch(host) is not None
            if host and (is_ip or not _DIGITS_AND_DOTS.fullmatch(host)):  # not a version number
                hits.append((match.start(), host.lower()))
    hits.sort()
    return tuple(hits)


def host_near(text: str, position: int) -> str | None:
    hits = host_hits(text)
    before = [hit for hit in hits if hit[0] <= position]
    if before:
        return before[-1][1]
    return hits[0][1] if hits else None


def remote_mta(value: str) -> str | None:
    """Host from a DSN Remote-MTA field ("dns; mx.example.org")."""
    value = value.split(";", 1)[-1].strip().strip("[]").rstrip(".")
    return value.lower() if value and " " not in value and len(value) <= 255 else None


_ADDRESS = re.compile(r"(?<![\w.+-])([\w.+=-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8})(?![\w-])")
_MAIL_FROM_ADDRESS = re.compile(r"\bMAIL FROM:?\s{0,3}<([^<>\s]{1,254})>", re.IGNORECASE)
_RCPT_ADDRESS = re.compile(r"\bRCPT TO:?\s{0,3}<([^<>\s]{1,254})>", re.IGNORECASE)


def addresses(text: str) -> list[str]:
    found = []
    for match in _ADDRESS.finditer(text):
        address = match.group(1).strip(".")
        if "@" in address and not address.startswith("@"):
            found.append(address)
    return found


def recipient_candidates(text: str) -> tuple[list[str], list[str]]:
    """(addresses given in RCPT TO, addresses given in MAIL FROM)."""
    return (
        [m.group(1) for m in _RCPT_ADDRESS.finditer(text)],
        [m.group(1) for m in _MAIL_FROM_ADDRESS.finditer(text)],
    )


def dsn_address(value: str) -> str | None:
    """Address from a Final-Recipient / Original-Recipient field."""
    value = value.split(";", 1)[-1].strip().strip("<>").strip()
    found = addresses(value)
    return found[0] if found else None


_TYPE_PREFIX = re.compile(r"^\s{0,5}[\w.-]{1,20}\s{0,3};\s{0,5}")


def strip_diagnostic_type(value: str) -> str:
    """'smtp; 550 5.1.1 ...' -> '550 5.1.1 ...'."""
    return _TYPE_PREFIX.sub("", value, count=1)
