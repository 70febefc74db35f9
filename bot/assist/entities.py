"""Entities of the contract (client, protocol, encryption, error_code): canonical values.

Rasa's entities come first; this module normalises their values to the contract's
canonical values and fills in what Rasa missed (or everything when Rasa is unreachable)
with a small keyword detector. Client names and aliases come from the knowledge base.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

CLIENTS = ("outlook", "thunderbird", "apple_mail", "windows_mail", "other")
PROTOCOLS = ("imap", "pop3", "smtp")
ENCRYPTIONS = ("ssl_tls", "starttls", "none")
CONTRACT_ENTITIES = ("client", "protocol", "encryption", "error_code")

_PROTOCOL_PATTERNS = [
    ("imap", re.compile(r"\bimap4?\b", re.IGNORECASE)),
    ("pop3", re.compile(r"\bpop3?\b", re.IGNORECASE)),
    ("smtp", re.compile(r"\bsmtp\b", re.IGNORECASE)),
]
_ENCRYPTION_PATTERNS = [
    ("starttls", re.compile(r"\bstart[ -]?tls\b", re.IGNORECASE)),
    ("ssl_tls", re.compile(r"\bssl(?:\s*/\s*tls)?\b|(?<!start)(?<!start-)(?<!start )\btls\b", re.IGNORECASE)),
    ("none", re.compile(
        r"\bunverschlüsselt\b|\bohne\s+verschlüsselung\b|\bkeine\s+verschlüsselung\b",
        re.IGNORECASE,
    )),
]
_ENHANCED_CODE = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])")
_SMTP_CODES = {"421", "450", "451", "452", "454", "455", "521", "530", "535", "550", "551",
               "552", "553", "554", "556"}
_BASIC_CODE = re.compile(r"(?<![\d.:/-])([245]\d\d)(?![\d.:/])")
_PORT_BEFORE = re.compile(r"ports?\s*[:=]?\s*$", re.IGNORECASE)


def _entity(entity: str, value: str, text: str, source: str) -> dict[str, Any]:
    return {"entity": entity, "value": value, "text": text, "source": source}


_CLIENT_MATCHERS: dict[int, tuple[Any, Optional[re.Pattern], dict[str, str]]] = {}
DETECT_MAX_CHARS = 5000  # entities are named early; long pastes are not scanned to the end


def _client_matcher(kb: Any) -> tuple[Optional[re.Pattern], dict[str, str]]:
    """One regex over every client name and alias of ``kb`` (built once per KB)."""
    cached = _CLIENT_MATCHERS.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1], cached[2]
    names: dict[str, str] = {}
    try:
        clients = list(kb.clients())
    except Exception:  # noqa: BLE001 - no KB, no client detection
        clients = []
    for client in clients:
        client_id = getattr(client, "id", None)
        if client_id not in CLIENTS:
            continue
        for name in [getattr(client, "name", "")] + list(getattr(client, "aliases", []) or []):
            if name and len(name) >= 3:
                names.setdefault(name.lower(), client_id)
    pattern = None
    if names:
        # longer aliases first so "windows mail" wins over a shorter alias inside it
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    _CLIENT_MATCHERS[id(kb)] = (kb, pattern, names)
    return pattern, names


def _find_client(text: str, kb: Any) -> Optional[tuple[int, str, str]]:
    """(position, client id, surface) of the first client named in ``text``."""
    pattern, names = _client_matcher(kb)
    if pattern is None:
        return None
    match = pattern.search(text)
    if not match:
        return None
    return match.start(), names[match.group(0).lower()], match.group(0)


def normalise_client(value: str, kb: Any) -> Optional[str]:
    value = (value or "").strip()
    if not value:
        return None
    if value.lower() in CLIENTS:
        return value.lower()
    try:
        resolved = kb.resolve_client(value)
    except Exception:  # noqa: BLE001
        resolved = None
    if resolved in CLIENTS:
        return resolved
    found = _find_client(value, kb)
    return found[1] if found else "other"


def normalise_protocol(value: str) -> Optional[str]:
    value = (value or "").strip()
    if value.lower() in PROTOCOLS:
        return value.lower()
    for protocol, pattern in _PROTOCOL_PATTERNS:
        if pattern.search(value):
            return protocol
    return None


def normalise_encryption(value: str) -> Optional[str]:
    value = (value or "").strip()
    if value.lower() in ENCRYPTIONS:
        return value.lower()
    for encryption, pattern in _ENCRYPTION_PATTERNS:
        if pattern.search(value):
            return encryption
    return None


_ERROR_CODE = re.compile(r"^(?:[245]\d\d|[245]\.\d{1,3}\.\d{1,3})$")


def normalise_error_code(value: str) -> Optional[str]:
    """An SMTP reply code (554) or enhanced status code (5.7.26) as written; else None."""
    value = (value or "").strip()
    return value if _ERROR_CODE.match(value) else None


def normalise(entity: dict[str, Any], kb: Any) -> Optional[dict[str, Any]]:
    """A Rasa entity with a canonical value, or None when it cannot be mapped."""
    name = entity.get("entity")
    raw = str(entity.get("value", ""))
    text = str(entity.get("text") or raw)
    if name == "client":
        value = normalise_client(raw, kb) or normalise_client(text, kb)
    elif name == "protocol":
        value = normalise_protocol(raw) or normalise_protocol(text)
    elif name == "encryption":
        value = normalise_encryption(raw) or normalise_encryption(text)
    elif name == "error_code":
        value = normalise_error_code(raw) or normalise_error_code(text)
    else:
        value = raw
    if not value:
        return None
    return _entity(str(name), value, text, entity.get("source", "nlu"))


def detect(text: str, kb: Any) -> list[dict[str, Any]]:
    """Keyword entities in ``text`` (first mention of each value, in text order)."""
    found: list[tuple[int, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()

    def add(position: int, name: str, value: str, surface: str) -> None:
        if (name, value) not in seen:
            seen.add((name, value))
            found.append((position, _entity(name, value, surface, "keywords")))

    text = text[:DETECT_MAX_CHARS]
    client = _find_client(text, kb)
    if client:
        add(client[0], "client", client[1], client[2])
    for protocol, pattern in _PROTOCOL_PATTERNS:
        match = pattern.search(text)
        if match:
            add(match.start(), "protocol", protocol, match.group(0))
    for encryption, pattern in _ENCRYPTION_PATTERNS:
        match = pattern.search(text)
        if match:
            add(match.start(), "encryption", encryption, match.group(0))
    for match in _ENHANCED_CODE.finditer(text):
        add(match.start(), "error_code", match.group(0), match.group(0))
    for match in _BASIC_CODE.finditer(text):
        code = match.group(1)
        if code in _SMTP_CODES and not _PORT_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            add(match.start(), "error_code", code, code)
    found.sort(key=lambda item: item[0])
    return [entity for _, entity in found]


def merge(primary: Iterable[dict[str, Any]], extra: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``primary`` entities plus those of ``extra`` whose entity type ``primary`` lacks.

    Error codes are merged value by value (a text may name several)."""
    result = list(primary)
    have_types = {e["entity"] for e in result}
    have_values = {(e["entity"], e["value"]) for e in result}
    for entity in extra:
        key = (entity["entity"], entity["value"])
        if key in have_values:
            continue
        if entity["entity"] == "error_code" or entity["entity"] not in have_types:
            result.append(entity)
            have_values.add(key)
    return result


def first_values(entities: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The first value of each contract entity type."""
    values: dict[str, str] = {}
    for entity in entities:
        if entity["entity"] in CONTRACT_ENTITIES:
            values.setdefault(entity["entity"], entity["value"])
    return values
