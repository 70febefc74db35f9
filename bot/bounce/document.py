"""A parsed bounce reduced to what rules and extraction look at.

Segments come in order of trust: delivery-status diagnostic fields first, then
the human-readable report, then (only when the outer message carries no error
itself) bounces attached to it, e.g. a bounce a customer forwarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .classify import FieldCode
from .codes import enhanced_codes, failure_codes
from .decoding import fold, repair_mojibake
from .extract import strip_diagnostic_type
from .mime import DsnGroup, ParsedMessage, looks_like_message, parse
from .rules import RuleSet
from .segments import MAX_TEXT_CHARS, Segment, cut_returned_message, make_segment, text_segments

MAX_ATTACHED_DEPTH = 3
MAX_DOCUMENT_CHARS = 24 * 1024  # segment text the rules read per input
_RECIPIENT_FIELDS = ("final-recipient", "original-recipient", "action", "status", "diagnostic-code")
_DAEMON = re.compile(r"mailer-daemon|mail delivery|postmaster|mail administrator|systemadministrator", re.IGNORECASE)


@dataclass
class Document:
    segments: list[Segment] = field(default_factory=list)
    field_codes: list[FieldCode] = field(default_factory=list)
    dsn_groups: list[dict[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    structural: bool = False  # delivery report, multipart/report or mailer-daemon sender
    header_text: str = ""  # subject and sender, for markers and variants

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def primary_group(self) -> dict[str, str] | None:
        for group in self.dsn_groups:
            if group.get("action", "").lower().startswith("failed"):
                return group
        for group in self.dsn_groups:
            if "diagnostic-code" in group:
                return group
        return self.dsn_groups[0] if self.dsn_groups else None


def has_marker(text: str, rules: RuleSet, lowered: str | None = None) -> bool:
    lowered = fold(text) if lowered is None else lowered
    return any(marker.search(text, lowered) for marker in rules.bounce_markers)


def segment_has_marker(segment: Segment, rules: RuleSet) -> bool:
    return has_marker(segment.masked, rules, segment.lowered)


def has_failure_code(segment: Segment) -> bool:
    return segment.has_failure_code


def _has_signal(segments: list[Segment], rules: RuleSet) -> bool:
    return any(has_failure_code(s) or segment_has_marker(s, rules) for s in segments)


def _recipient_groups(groups: list[DsnGroup]) -> list[dict[str, str]]:
    return [g.fields for g in groups if any(name in g.fields for name in _RECIPIENT_FIELDS)]


def _embedded_message(tail: str) -> ParsedMessage | None:
    """A raw message pasted into a text part (e.g. a bounce inside a bounce)."""
    tail = tail.lstrip("\n")
    first, _sep, rest = tail.partition("\n")
    if first.strip(" -=_*") == "" and rest:
        tail = rest.lstrip("\n")
        first, _sep, rest = tail.partition("\n")
    if first.startswith("From ") and rest:
        tail = rest
    if not looks_like_message(tail):
        return None
    return parse(tail.encode("utf-8", "surrogatepass"))


class _Budget:
    """Characters of segment text still to be read for one input."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def take(self, segments: list[Segment]) -> list[Segment]:
        kept = []
        for segment in segments:
            if self.left <= 0:
                break
            kept.append(segment)
            self.left -= len(segment.clean)
        return kept


def _part_segments(
    text: str, zone: str, source: str, rules: RuleSet, depth: int, budget: _Budget
) -> tuple[list[Segment], list[dict[str, str]]]:
    if budget.left <= 0:
        return [], []
    text = repair_mojibake(text[: min(MAX_TEXT_CHARS, 2 * budget.left + 4096)])
    head, tail = cut_returned_message(text)
    segments = budget.take(text_segments(head, zone, source, budget.left))
    groups: list[dict[str, str]] = []
    if not tail or depth >= MAX_ATTACHED_DEPTH or any(has_failure_code(s) for s in segments):
        return segments, groups
    # No error in front of the copy: the error may be inside it, as in a bounce
    # forwarded inline ("-----Original Message-----" + the bounce) or a raw
    # bounce pasted into another report.
    embedded = _embedded_message(tail)
    if embedded is not None:
        inner_segments, inner_groups = _message_segments(embedded, zone, rules, budget, depth + 1)
    else:
        inner, _rest = cut_returned_message(tail)
        inner_segments, inner_groups = budget.take(text_segments(inner, zone, source, budget.left)), []
    inner_error = bool(inner_groups) or any(has_failure_code(s) for s in inner_segments)
    if inner_error or (not _has_signal(segments, rules) and _has_signal(inner_segments, rules)):
        segments += inner_segments
        groups += inner_groups
    return segments, groups


def _message_segments(
    msg: ParsedMessage, zone: str, rules: RuleSet, budget: _Budget, depth: int = 0
) -> tuple[list[Segment], list[dict[str, str]]]:
    groups = _recipient_groups(msg.dsn)
    segments = []
    for group in groups:
        diagnostic = group.get("diagnostic-code")
        if diagnostic:
            segment = make_segment(
                strip_diagnostic_type(diagnostic[:MAX_TEXT_CHARS]), "dsn" if zone == "report" else zone, "diagnostic-code"
            )
            segments += budget.take([segment])
    for part in msg.texts:
        part_segments, part_groups = _part_segments(part.text, zone, part.content_type, rules, depth, budget)
        segments += part_segments
        groups += part_groups
    return segments, groups


def _looks_like_bounce(msg: ParsedMessage, segments: list[Segment], rules: RuleSet) -> bool:
    if msg.dsn or msg.content_type == "multipart/report":
        return True
    header_text = " ".join(msg.header_values("subject") + msg.header_values("from"))
    return has_marker(header_text, rules) or _has_signal(segments, rules)


def _field_codes(groups: list[dict[str, str]]) -> list[FieldCode]:
    codes = []
    for group in groups:
        status = group.get("status", "")
        for hit in failure_codes(enhanced_codes(status)):
            codes.append(FieldCode(hit.code, "status"))
            break
        action = group.get("action", "").strip().lower()
        if action:
            codes.append(FieldCode(action.split()[0], "action"))
    return codes


def _attached_bounces(
    msg: ParsedMessage, rules: RuleSet, budget: _Budget, depth: int = 0
) -> list[tuple[list[Segment], list[dict[str, str]]]]:
    """Segments and DSN groups of bounces attached (forwarded) to `msg`."""
    found = []
    for attached in msg.attachments:
        if budget.left <= 0:
            break
        trial = _Budget(budget.left)
        segments, groups = _message_segments(attached, "attached", rules, trial)
        if _looks_like_bounce(attached, segments, rules):
            budget.left = trial.left
            found.append((segments, groups))
        elif depth + 1 < MAX_ATTACHED_DEPTH:
            found += _attached_bounces(attached, rules, budget, depth + 1)
    return found


def build_document(msg: ParsedMessage, rules: RuleSet) -> Document:
    budget = _Budget(MAX_DOCUMENT_CHARS)
    segments, groups = _message_segments(msg, "report", rules, budget)
    doc = Document(headers=msg.headers)
    sender = " ".join(msg.header_values("from"))
    doc.header_text = " ".join(msg.header_values("subject")) + " " + sender
    doc.structural = bool(groups) or msg.content_type == "multipart/report" or bool(_DAEMON.search(sender))
    own_error = bool(groups) or any(has_failure_code(s) for s in segments)
    if not own_error:
        for inner_segments, inner_groups in _attached_bounces(msg, rules, budget):
            segments += inner_segments
            groups += inner_groups
            doc.structural = doc.structural or bool(inner_groups)
    doc.segments = segments
    doc.dsn_groups = groups
    doc.field_codes = _field_codes(groups)
    return doc
