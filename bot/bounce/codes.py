"""Finding SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463).

A three-digit number is only taken as a reply code where an SMTP reply can
stand: followed by an enhanced code, a continuation hyphen or an address, or
preceded by a colon, a transcript marker or a word such as "said" / "error".
That keeps sizes, counts and IP fragments out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REPLY = re.compile(r"(?<![\w.\-/=@%$#+])([45][0-5]\d)(?![\w.]|\.\d)(?=[\s\-:,;)\]'\"]|$)")
_ENHANCED = re.compile(r"(?<![\w./=@%$+])#?([245])\.(\d{1,3})\.(\d{1,3})(?!\w|\.\d)")
_AFTER_STRONG = re.compile(r"(?:[\s:]{0,3}#?[245]\.\d{1,3}\.\d{1,3}(?!\w|\.\d)|-(?=\s{0,2}\S)|\s{0,3}[<\[#(]|:\s)")
_BEFORE_STRONG = re.compile(
    r"(?:[:;'\"(\[]|<<<|\b(?:said|error|errors|code|fehler|fehlercode|reply|returned|reason|response|"
    r"failure|status|smtp|responded|antwort|meldung))\W{0,4}$",
    re.IGNORECASE,
)
# Words that make "4.2.1" a version number rather than a status code.
_VERSION_WORDS = re.compile(
    r"\b(?:version|ver|v|exim|postfix|sendmail|qmail|release|build|rev)\W{0,3}$", re.IGNORECASE
)


@dataclass(frozen=True)
class CodeHit:
    code: str
    start: int
    end: int


def reply_codes(text: str) -> list[CodeHit]:
    """Basic SMTP reply codes (4xx/5xx) in reply position."""
    hits = []
    for match in _REPLY.finditer(text):
        after = text[match.end() : match.end() + 20]
        before = text[max(0, match.start() - 14) : match.start()]
        at_start = not text[: match.start()].strip()
        if at_start or _AFTER_STRONG.match(after) or _BEFORE_STRONG.search(before):
            hits.append(CodeHit(match.group(1), match.start(1), match.end(1)))
    return hits


def enhanced_codes(text: str) -> list[CodeHit]:
    """Enhanced status codes x.y.z with class 2, 4 or 5."""
    hits = []
    for match in _ENHANCED.finditer(text):
        subject, detail = int(match.group(2)), int(match.group(3))
        if subject > 7 or detail > 999:
            continue
        if _VERSION_WORDS.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        code = f"{match.group(1)}.{subject}.{detail}"
        hits.append(CodeHit(code, match.start(1), match.end()))
    return hits


def failure_codes(hits: list[CodeHit]) -> list[CodeHit]:
    return [hit for hit in hits if hit.code[0] in "45"]


def code_matches(pattern: str, code: str) -> bool:
    """Match a code against a rule pattern: `?` is one digit, `*` one or more.

    "5.1.1" exact; "?.2.2" either class; "4.*.*" any 4.x.x; "5.7.6??" 5.7.600-699;
    "4??" any 4xx reply.
    """
    return bool(_pattern_regex(pattern).fullmatch(code))


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERN_CACHE.get(pattern)
    if compiled is None:
        parts = []
        for char in pattern:
            if char == "?":
                parts.append(r"\d")
            elif char == "*":
                parts.append(r"\d{1,3}")
            else:
                parts.append(re.escape(char))
        compiled = re.compile("".join(parts))
        _PATTERN_CACHE[pattern] = compiled
    return compiled


def valid_code_pattern(pattern: str, enhanced: bool) -> bool:
    """Is `pattern` a well-formed code pattern of a rule?"""
    if not enhanced:
        return bool(re.fullmatch(r"[45?][0-5?][0-9?]", pattern))
    parts = pattern.split(".")
    return (
        len(parts) == 3
        and re.fullmatch(r"[245?]", parts[0]) is not None
        and all(re.fullmatch(r"\*|[0-9?]{1,3}", part) for part in parts[1:])
    )
