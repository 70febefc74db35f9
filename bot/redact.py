"""Find and mask passwords and other credentials in a customer's text.

`redact(text)` returns the text with every secret replaced by `PLACEHOLDER` and the
kinds of what it removed (never the secrets themselves, so `found` may be logged or
stored):

- ``password``: a password after a keyword, e.g. "mein Passwort ist Sommer24",
  "Kennwort: x", "pw=x", "passwort lautet x", "PW: x", "password: x", "my password is x",
  "Passwort Geheim123" (no connector, but the word looks like a secret);
- ``credential_line``: a lone secret-looking line next to a user-name line
  ("Benutzername: max@dokom.net" / "Geheim123!");
- ``credential_pair``: an e-mail address with a secret on the same line
  ("max@dokom.net:Geheim123", "Zugangsdaten: max@dokom.net / Geheim123").

Normal talk about passwords is left alone ("Ich habe mein Passwort vergessen",
"Passwort ändern", "Passwort wird nicht akzeptiert", "mein Passwort ist falsch").
Pure Python, linear-time patterns; safe on 100,000 characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Tuple

PLACEHOLDER = "[Passwort entfernt]"

KIND_PASSWORD = "password"
KIND_CREDENTIAL_LINE = "credential_line"
KIND_CREDENTIAL_PAIR = "credential_pair"
KINDS = (KIND_PASSWORD, KIND_CREDENTIAL_LINE, KIND_CREDENTIAL_PAIR)


@dataclass(frozen=True)
class Redaction:
    text: str
    found: List[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.found)


# Words that follow "Passwort ist ..." / "Passwort: ..." in normal talk. Compared in
# lower case without surrounding punctuation.
_STOPWORDS = frozenset(
    """
    falsch richtig korrekt inkorrekt abgelaufen ungültig ungueltig gültig gueltig nicht nie
    niemals kein keine keinen zu sehr wohl eigentlich bestimmt sicher vergessen weg gesperrt
    geändert geaendert neu neues alt altes kaputt das der die den dem dasselbe derselbe
    gleich identisch leer lang kurz länger kürzer okay ok ein eine einen einem mir mich bekannt
    unbekannt nur dann also noch schon jetzt nun auch doch immer ja nein irgendwie anscheinend
    offenbar angeblich wieder definitiv gespeichert hinterlegt eingegeben eingetragen
    fehlerhaft verkehrt abgelehnt unsicher schwach stark ausreichend verloren anders
    unterschiedlich verschieden egal deaktiviert aktiv aktiviert gesetzt vergeben erforderlich
    notwendig nötig pflicht zwingend normal verschlüsselt unverschlüsselt ihr ihre ihres
    mein meine meines dein deine sein seine unser unsere wie was wo welches welche welcher
    in im auf bei für mit von vom seit und oder aber weil da hier dort so zwar vielleicht
    wahrscheinlich trotzdem dennoch leider genau korrekterweise gerade aktuell derzeit
    momentan abgeändert zurückgesetzt zurueckgesetzt vorhanden gefragt verlangt
    erfolgreich fertig klar ungefähr etwa mindestens höchstens maximal minimal zeichen
    stellen es er sie man wird werden wurde worden hat haben habe ist sind war waren
    the a an my your his her our not too same different wrong incorrect correct right
    expired invalid valid missing empty changed saved stored forgotten lost required
    ich du wir irgendwo irgendwann aufgeschrieben notiert folgt folgendes folgende
    unten oben dabei drin drinnen angegeben
    """.split()
)

# Words a customer uses between the connector and the password ("ist jetzt x").
_FILLERS = r"(?:(?:jetzt|nun|aktuell|derzeit|momentan|übrigens|uebrigens|immer\s+noch|noch|einfach|now|still)\s+)*"

_QUOTES_OPEN = "\"'„“”‚‘’»«`"
_QUOTE_CLOSE = {'"': '"', "'": "'", "„": "“”\"", "“": "”“\"", "”": "”\"", "‚": "‘’'",
                "‘": "’‘'", "’": "’'", "»": "«", "«": "»", "`": "`"}

_LONG_KEY = r"(?:passwort|passwortes|passworts|kennwort|kennwortes|kennworts|password|passwd|passphrase)"
_SHORT_KEY = r"(?:pw|pwd|pass|pin)"
# A long keyword may end a compound ("E-Mail-Passwort", "Postfachkennwort").
_KEY = rf"(?:(?<![\w])[\wäöüÄÖÜß]*?[-‐]?{_LONG_KEY}|(?<![\w-]){_SHORT_KEY})(?![\w])"
_STRONG = r"\s*(?:[:=]|->|=>)\s*"
_VERBAL = r"\s+(?:ist|lautet|lautete|war|wäre|waere|heißt|heisst|is|was)(?:\s*[:=])?\s+" + _FILLERS

_KEY_STRONG_RE = re.compile(rf"(?P<key>{_KEY}){_STRONG}", re.IGNORECASE)
_KEY_VERBAL_RE = re.compile(rf"(?P<key>{_KEY}){_VERBAL}", re.IGNORECASE)
_KEY_BARE_RE = re.compile(rf"(?P<key>(?<![\w])[\wäöüÄÖÜß]*?[-‐]?{_LONG_KEY})(?![\w])[ \t]+", re.IGNORECASE)
# A keyword at the start of a line, as a label: the rest of the line is the secret.
_LINE_START_RE = re.compile(
    rf"^[ \t]*(?:[-*•>]+[ \t]*)?(?:(?:mein|meine|das|neues|altes|aktuelles|new|old|my)[ \t]+)?"
    rf"(?:{_KEY}){_STRONG}",
    re.IGNORECASE,
)

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_EMAIL_RE = re.compile(rf"^{_EMAIL}$")
_USER_LINE_RE = re.compile(
    rf"^[ \t]*(?:(?:benutzer(?:name)?|nutzername|user(?:name)?|login|anmeldename|kennung|"
    rf"e-?mail(?:-?adresse)?|account|konto|postfach)[ \t]*[:=][ \t]*\S+|{_EMAIL})[ \t]*$",
    re.IGNORECASE,
)
_PAIR_RE = re.compile(
    rf"(?<![\w.+-])(?P<user>{_EMAIL})(?:(?P<tight>:)|[ \t]*(?P<slash>[/|])[ \t]*|(?P<space>[ \t]+))(?P<secret>\S+)"
)
_TOKEN_RE = re.compile(r"\S+")
_HOSTNAME_RE = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}\.?$", re.IGNORECASE)
_URL_RE = re.compile(r"^(?:https?://|www\.)", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def _core(token: str) -> str:
    return token.strip(_TRAILING + _QUOTES_OPEN + "(").lower()


def _is_stopword(token: str) -> bool:
    core = _core(token)
    return not core or core in _STOPWORDS


_TALK_SUFFIXES = ("iert", "lich", "ig", "bar", "los", "isch")


def _is_talk(token: str) -> bool:
    """A lower-case German word that reads like talk, not a password ("gespeichert")."""
    core = token.rstrip(_TRAILING)
    if not core.isalpha() or not core.islower():
        return False
    if core.startswith("ge") and (core.endswith("t") or core.endswith("en")) and len(core) > 5:
        return True
    return core.endswith(_TALK_SUFFIXES) and len(core) > 5


def looks_secret(token: str) -> bool:
    """A token with the shape of a password: letters mixed with digits or symbols."""
    core = token.rstrip(_TRAILING)
    if len(core) < 6 or len(core) > 128:
        return False
    if _is_stopword(core) or _EMAIL_RE.match(core) or _URL_RE.match(core) or _HOSTNAME_RE.match(core):
        return False
    if core.startswith(PLACEHOLDER[:9]):
        return False
    has_alpha = any(c.isalpha() for c in core)
    has_digit = any(c.isdigit() for c in core)
    has_symbol = any(not c.isalnum() and c not in "-'’" for c in core)
    inner_upper = any(c.isupper() for c in core[1:]) and any(c.islower() for c in core)
    return has_alpha and (has_digit or has_symbol or inner_upper)


def _secret_span(text: str, start: int, line_end: int, min_len: int) -> Optional[Tuple[int, int]]:
    """The span of the password starting at `start`: a quoted string or one token."""
    if start >= line_end:
        return None
    if text.startswith(PLACEHOLDER, start):
        return None
    first = text[start]
    if first in _QUOTES_OPEN:
        closers = _QUOTE_CLOSE.get(first, first)
        limit = min(line_end, start + 130)
        for pos in range(start + 1, limit):
            if text[pos] in closers:
                return (start, pos + 1) if pos > start + 1 else None
    match = _TOKEN_RE.match(text, start)
    if not match or match.end() > line_end:
        return None
    token = match.group()
    if _is_stopword(token) or _is_talk(token) or len(token.rstrip(_TRAILING)) < min_len:
        return None
    return match.span()


def _line_bounds(text: str, pos: int) -> Tuple[int, int]:
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    return line_start, (len(text) if line_end == -1 else line_end)


def _keyword_spans(text: str) -> Iterable[Tuple[int, int, str]]:
    # 1. Label lines: "Passwort: Sommer 2024" masks the rest of the line.
    label_lines = set()
    offset = 0
    for line in text.split("\n"):
        match = _LINE_START_RE.match(line)
        if match:
            rest = line[match.end():].rstrip()
            words = rest.split()
            is_question = rest.endswith("?") and len(words) >= 3
            if words and not is_question and not _is_stopword(words[0]) and not rest.startswith(PLACEHOLDER):
                label_lines.add(offset)
                yield offset + match.end(), offset + match.end() + len(rest), KIND_PASSWORD
        offset += len(line) + 1
    # 2. Keyword + connector anywhere: one token or a quoted string.
    for regex, min_len in ((_KEY_STRONG_RE, 2), (_KEY_VERBAL_RE, 4)):
        for match in regex.finditer(text):
            if _line_bounds(text, match.start())[0] in label_lines:
                continue
            # The value may stand on the line after "Passwort:".
            line_end = _line_bounds(text, match.end())[1]
            span = _secret_span(text, match.end(), line_end, min_len)
            if span:
                yield span[0], span[1], KIND_PASSWORD
    # 3. Keyword without connector, followed by a secret-looking token.
    for match in _KEY_BARE_RE.finditer(text):
        token = _TOKEN_RE.match(text, match.end())
        if token and looks_secret(token.group()):
            yield token.start(), token.end(), KIND_PASSWORD


def _credential_line_spans(text: str) -> Iterable[Tuple[int, int, str]]:
    lines = text.split("\n")
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for index, line in enumerate(lines):
        if not _USER_LINE_RE.match(line):
            continue
        for neighbour in (index - 1, index + 1):
            if not 0 <= neighbour < len(lines):
                continue
            candidate = lines[neighbour].strip()
            if " " in candidate or "\t" in candidate or not looks_secret(candidate):
                continue
            if _USER_LINE_RE.match(lines[neighbour]):
                continue
            begin = starts[neighbour] + lines[neighbour].index(candidate)
            yield begin, begin + len(candidate), KIND_CREDENTIAL_LINE


def _credential_pair_spans(text: str) -> Iterable[Tuple[int, int, str]]:
    for match in _PAIR_RE.finditer(text):
        secret = match.group("secret")
        if _EMAIL_RE.match(secret.rstrip(_TRAILING)) or secret.startswith(PLACEHOLDER[:9]):
            continue
        if match.group("space") is not None:
            # "max@dokom.net Geheim123" only as a whole line of exactly these two tokens.
            line_start, line_end = _line_bounds(text, match.start())
            whole = text[line_start:line_end].strip()
            if whole != match.group(0).strip() or not looks_secret(secret):
                continue
        elif len(secret.rstrip(_TRAILING)) < 4 or _is_stopword(secret):
            continue
        yield match.start("secret"), match.end("secret"), KIND_CREDENTIAL_PAIR


def _merge(spans: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str]]:
    merged: List[Tuple[int, int, str]] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged


def redact(text: str) -> Redaction:
    """Mask passwords and credentials in `text` with `PLACEHOLDER`."""
    if not isinstance(text, str) or not text:
        return Redaction(text if isinstance(text, str) else "", [])
    spans = list(_keyword_spans(text))
    spans += list(_credential_line_spans(text))
    spans += list(_credential_pair_spans(text))
    if not spans:
        return Redaction(text, [])
    merged = _merge(spans)
    parts = []
    cursor = 0
    for start, end, _kind in merged:
        parts.append(text[cursor:start])
        parts.append(PLACEHOLDER)
        cursor = end
    parts.append(text[cursor:])
    found: List[str] = []
    for _start, _end, kind in merged:
        if kind not in found:
            found.append(kind)
    return Redaction("".join(parts), found)
