"""The reported facts of a bounce: codes, recipients, remote host, phase,
diagnostic text and variant, taken preferably from where the decisive
evidence was found."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .classify import Decision
from .codes import CodeHit, enhanced_codes, failure_codes, reply_codes
from .decoding import fold
from .document import Document, has_failure_code
from .extract import (
    addresses,
    dsn_address,
    host_hits,
    host_near,
    phase_hits,
    phase_near,
    recipient_candidates,
    remote_mta,
    strip_diagnostic_type,
)
from .rules import RuleSet
from .segments import Segment, collapse

MAX_RECIPIENTS = 20
MAX_DIAGNOSTIC_CHARS = 400
MAX_SCANNED_SEGMENTS = 12  # segments searched for a phase or host when the evidence has none
_RECIPIENT_CONTEXT = re.compile(r"recipient|address|empfänger|adresse|failed|user|unknown|rejected", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.+=-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}")
_LIST_PUNCTUATION = re.compile(r"[^\s,;<>'\":]")

CodeFinder = Callable[[str], list[CodeHit]]


def failure_positions(segment: Segment) -> list[CodeHit]:
    """Reply codes and 4.x.x/5.x.x enhanced codes of a segment, in order."""
    hits = reply_codes(segment.clean) + failure_codes(enhanced_codes(segment.clean))
    return sorted(hits, key=lambda h: h.start)


def phase_hint(segments: list[Segment], failing: list[int]) -> tuple[str, str] | None:
    """(phase, wording that shows it) of the first reported failure.

    Delivery-status reports do not name the phase; the text parts do.
    """
    for index in failing[:MAX_SCANNED_SEGMENTS]:
        segment = segments[index]
        if segment.zone == "dsn":
            continue
        codes = failure_positions(segment)
        found = phase_near(segment.clean, codes[0].start if codes else 0)
        if found:
            return found
    for segment in segments[:MAX_SCANNED_SEGMENTS]:
        hits = phase_hits(segment.clean)
        if hits:
            return hits[0][1], hits[0][2]
    return None


@dataclass
class Fields:
    smtp_code: str | None
    enhanced_code: str | None
    recipients: list[str]
    remote_host: str | None
    phase: str
    diagnostic: str | None
    variant: str | None


def extract_fields(
    doc: Document, decision: Decision, hint: tuple[str, str] | None, failing: list[int], rules: RuleSet
) -> Fields:
    best = decision.best
    segments = doc.segments
    evidence_segment = segments[best.segment] if best and best.segment is not None else None
    position = best.start if best else 0
    primary = doc.primary_group or {}
    primary_segment = next((s for s in segments if s.source == "diagnostic-code"), None)
    fallback = [segments[i] for i in failing]
    evidence_code = (best.rule.kind, best.evidence) if best else ("", "")

    def code(kind: str, finder: CodeFinder) -> str | None:
        if evidence_code[0] == kind:
            return evidence_code[1]
        if evidence_segment is not None:
            found = _near(finder(evidence_segment.clean), position)
            if found:
                return found
        for segment in ([primary_segment] if primary_segment else []) + fallback:
            hits = finder(segment.clean)
            if hits:
                return hits[0].code
        return None

    enhanced = code("enhanced_code", lambda text: failure_codes(enhanced_codes(text)))
    if enhanced is None:
        status = failure_codes(enhanced_codes(primary.get("status", "")))
        enhanced = status[0].code if status else None

    phase = None
    if evidence_segment is not None and evidence_segment.zone != "dsn":
        found = phase_near(evidence_segment.clean, position)
        phase = found[0] if found else None

    return Fields(
        smtp_code=code("smtp_code", reply_codes),
        enhanced_code=enhanced,
        recipients=recipients(doc),
        remote_host=_remote_host(doc, evidence_segment, position, primary),
        phase=phase or (hint[0] if hint else "unknown"),
        diagnostic=_diagnostic(evidence_segment, position, primary_segment, fallback),
        variant=_variant(doc, decision.category, rules),
    )


def _near(hits: list[CodeHit], position: int) -> str | None:
    before = [h for h in hits if h.start <= position]
    if before:
        return before[-1].code
    return hits[0].code if hits else None


def _excluded_addresses(doc: Document) -> set[str]:
    """The bounce's own addressee (our customer) and the envelope sender."""
    excluded: set[str] = set()
    for name in ("from", "to", "return-path", "reply-to", "sender", "delivered-to", "envelope-to", "cc"):
        for value in doc.header_values(name):
            excluded.update(a.lower() for a in addresses(value))
    for group in doc.dsn_groups:
        excluded.update(a.lower() for a in addresses(group.get("x-postfix-sender", "")))
    for segment in doc.segments:
        _rcpt, senders = recipient_candidates(segment.clean)
        excluded.update(a.lower() for a in senders)
    return excluded


def _only_addresses(text: str) -> bool:
    """A line that lists addresses and nothing else ("  kunde@example.org")."""
    return "@" in text and not _LIST_PUNCTUATION.search(_ADDRESS.sub("", text))


def recipients(doc: Document) -> list[str]:
    """Failed recipients: delivery report first, then what the text names."""
    found: list[str] = []
    groups = sorted(doc.dsn_groups, key=lambda g: not g.get("action", "").lower().startswith("failed"))
    for group in groups:
        address = dsn_address(group.get("final-recipient", "")) or dsn_address(group.get("original-recipient", ""))
        if address:
            found.append(address)
    for value in doc.header_values("x-failed-recipients"):
        found += addresses(value)
    if not found:
        excluded = _excluded_addresses(doc)
        candidates: list[str] = []
        for segment in doc.segments:
            rcpt, _senders = recipient_candidates(segment.clean)
            candidates += rcpt
        for segment in doc.segments:
            if has_failure_code(segment) or _RECIPIENT_CONTEXT.search(segment.clean) or _only_addresses(segment.clean):
                candidates += addresses(segment.clean)
        found = [a for a in candidates if a.lower() not in excluded and not a.lower().startswith("mailer-daemon@")]
    unique: list[str] = []
    seen: set[str] = set()
    for address in found:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique[:MAX_RECIPIENTS]


def _remote_host(doc: Document, evidence_segment: Segment | None, position: int, primary: dict[str, str]) -> str | None:
    if evidence_segment is not None:
        host = host_near(evidence_segment.clean, position)
        if host:
            return host
    for group in [primary] + doc.dsn_groups:
        host = remote_mta(group["remote-mta"]) if group.get("remote-mta") else None
        if host:
            return host
    for segment in doc.segments[:MAX_SCANNED_SEGMENTS]:
        hits = host_hits(segment.clean)
        if hits:
            return hits[0][1]
    return None


def _diagnostic(
    evidence_segment: Segment | None, position: int, primary_segment: Segment | None, fallback: list[Segment]
) -> str | None:
    """The error text a person would quote: the delivery report's diagnostic,
    or the part of the evidence's paragraph that starts with its reply code."""
    segment = evidence_segment or primary_segment or (fallback[0] if fallback else None)
    if segment is None:
        return None
    text = strip_diagnostic_type(segment.clean) if segment.source == "diagnostic-code" else segment.clean
    if segment is not evidence_segment or segment.source == "diagnostic-code":
        position = 0
    start, clean_start = 0, True
    if position:
        codes = [h.start for h in failure_positions(segment) if position - 250 <= h.start <= position]
        if codes:
            start = codes[0]
        elif len(text) > MAX_DIAGNOSTIC_CHARS:
            start, clean_start = max(0, position - 150), False
    window = text[start : start + MAX_DIAGNOSTIC_CHARS]
    if not clean_start and " " in window[:30]:
        window = window.split(" ", 1)[1]
    if start + MAX_DIAGNOSTIC_CHARS < len(text):
        window = window.rsplit(" ", 1)[0] + " …"
    return collapse(window)


def _variant(doc: Document, category: str, rules: RuleSet) -> str | None:
    variants = [v for v in rules.variants if v.category == category]
    if not variants:
        return None
    texts = [(doc.header_text, fold(doc.header_text))] + [(s.masked, s.lowered) for s in doc.segments]
    for variant in variants:
        if any(m.search(text, folded) for m in variant.matchers for text, folded in texts):
            return variant.name
    return None
