"""Scoring categories from rule matches.

Every matching rule scores its category with `weight x zone factor`; a
category's score is its best match. The best category wins, ties go to the
more specific kind of evidence (phrase > enhanced code > phase > basic code),
then to the earlier segment (delivery-status fields come first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .codes import CodeHit, enhanced_codes, failure_codes, reply_codes
from .rules import Rule, RuleSet
from .segments import Segment

ZONE_FACTOR = {"dsn": 1.0, "report": 0.97, "attached": 0.85}
ZONE_ORDER = {"dsn": 0, "report": 1, "attached": 2}


@dataclass(frozen=True)
class Match:
    rule: Rule
    score: float
    segment: int | None  # index into the segment list; None for DSN fields
    start: int
    end: int
    evidence: str

    def sort_key(self, segments: list[Segment]) -> tuple[float, int, int, int, int]:
        """Higher is better: score, kind of evidence, zone, then what is said first."""
        zone = segments[self.segment].zone if self.segment is not None else "dsn"
        order = self.segment if self.segment is not None else -1
        return (round(self.score, 6), self.rule.tier, -ZONE_ORDER[zone], -order, -self.start)


@dataclass(frozen=True)
class FieldCode:
    """A status code or action from a delivery-status field (not a segment)."""

    value: str
    field: str  # "status" | "action"


@dataclass
class Decision:
    category: str
    confidence: float
    best: Match | None
    ranked: list[Match]  # best match per category, best first


# "they may be blacklisted": help texts list possible causes; such hedged
# wording counts much less than a statement.
HEDGE_FACTOR = 0.6
_HEDGE = re.compile(
    r"\b(?:may|might|could|possibly|perhaps|maybe|probably not|eventuell|möglicherweise|vielleicht|ggf)\b"
    r"(?:\s{1,3}(?:be|have been|not|also|sein|nicht|auch|have|got|been|be on|be in)){0,2}\s{0,3}$",
    re.IGNORECASE,
)


def is_hedged(text: str, start: int) -> bool:
    """Is the match at `start` only a possibility ("... may be blacklisted")?"""
    return bool(_HEDGE.search(text[max(0, start - 40) : start]))


def segment_codes(segment: Segment) -> tuple[list[CodeHit], list[CodeHit]]:
    return reply_codes(segment.clean), failure_codes(enhanced_codes(segment.clean))


def collect_matches(
    segments: list[Segment],
    field_codes: list[FieldCode],
    phase: tuple[str, str] | None,
    has_failure: bool,
    rules: RuleSet,
    context: bool,
) -> list[Match]:
    """All rule matches.

    `phase` is (phase, the wording that shows it) of the failure; `context`
    says whether the text looks like a bounce (else only standalone rules count).
    """
    matches: list[Match] = []
    for index, segment in enumerate(segments):
        factor = ZONE_FACTOR[segment.zone]
        for rule in rules.text_rules:
            if not (context or rule.standalone):
                continue
            assert rule.matcher is not None
            found = rule.matcher.search(segment.masked, segment.lowered)
            if found:
                score = rule.weight * factor
                if is_hedged(segment.masked, found.start()):
                    score *= HEDGE_FACTOR
                evidence = segment.clean[found.start() : found.end()]
                matches.append(Match(rule, score, index, found.start(), found.end(), evidence))
        replies, enhanced = segment_codes(segment)
        for kind, hits in (("smtp_code", replies), ("enhanced_code", enhanced)):
            seen: set[str] = set()
            for hit in hits:
                if hit.code in seen:  # the first occurrence of a code is enough
                    continue
                seen.add(hit.code)
                for rule in rules.rules_for_code(kind, hit.code):
                    matches.append(Match(rule, rule.weight * factor, index, hit.start, hit.end, hit.code))
    for field_code in field_codes:
        if field_code.field == "status":
            for rule in rules.rules_for_code("enhanced_code", field_code.value):
                matches.append(Match(rule, rule.weight, None, 0, 0, field_code.value))
        elif field_code.field == "action":
            for rule in rules.action_rules:
                if rule.pattern == field_code.value:
                    matches.append(Match(rule, rule.weight, None, 0, 0, f"Action: {field_code.value}"))
    if phase and has_failure:  # e.g. a refusal right after connecting: the sending IP
        for rule in rules.phase_rules:
            if rule.pattern == phase[0]:
                matches.append(Match(rule, rule.weight, None, 0, 0, phase[1]))
    return matches


def drop_contained(matches: list[Match]) -> list[Match]:
    """Drop text matches inside a stronger match of the same segment.

    "Relay access denied" must not also count as the generic "access denied".
    A sweep over start positions keeps this linear in the number of matches
    (weights take only a few distinct values).
    """
    by_segment: dict[int | None, list[Match]] = {}
    for match in matches:
        if match.rule.kind in ("phrase", "regex"):
            by_segment.setdefault(match.segment, []).append(match)
    dropped: set[int] = set()
    for group in by_segment.values():
        group.sort(key=lambda m: m.start)
        reach_before: dict[float, int] = {}  # weight -> furthest end of matches starting earlier
        index = 0
        while index < len(group):
            same_start = [group[index]]
            while index + len(same_start) < len(group) and group[index + len(same_start)].start == group[index].start:
                same_start.append(group[index + len(same_start)])
            for match in same_start:
                weight = match.rule.weight
                covered = any(w > weight and end >= match.end for w, end in reach_before.items()) or any(
                    other.rule.weight > weight and other.end > match.end for other in same_start
                )
                if covered:
                    dropped.add(id(match))
            for match in same_start:
                weight = match.rule.weight
                reach_before[weight] = max(reach_before.get(weight, -1), match.end)
            index += len(same_start)
    return [m for m in matches if id(m) not in dropped]


def decide(matches: list[Match], segments: list[Segment]) -> Decision:
    matches = drop_contained(matches)
    best_per_category: dict[str, Match] = {}
    for match in matches:
        current = best_per_category.get(match.rule.category)
        if current is None or match.sort_key(segments) > current.sort_key(segments):
            best_per_category[match.rule.category] = match
    ranked = sorted(best_per_category.values(), key=lambda m: m.sort_key(segments), reverse=True)
    if not ranked:
        return Decision("unknown", 0.0, None, [])
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    confidence = (best.score / 100.0) * (1.0 - 0.4 * runner_up / best.score)
    return Decision(best.rule.category, max(0.05, min(0.99, confidence)), best, ranked)
