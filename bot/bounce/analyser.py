"""`analyse()`: raw message or pasted snippet in, `BounceResult` out.

Pipeline: bytes -> MIME walk (mime) -> segments (document) -> rule matches and
decision (classify) -> reported fields (fields). The function never raises:
input is capped (`MAX_INPUT_BYTES`), the walker and all patterns are bounded,
and an unexpected error still yields a result ("unknown", with `error` set).
"""

from __future__ import annotations

import os

from .classify import collect_matches, decide
from .decoding import to_bytes
from .document import build_document, has_failure_code, has_marker, segment_has_marker
from .fields import extract_fields, phase_hint
from .mime import parse
from .result import BounceResult
from .rules import BounceRulesError, RuleSet, load_rules

MAX_INPUT_BYTES = 2 * 1024 * 1024  # the error sits at the start; the rest is the returned mail
CONFIDENCE_NOT_A_BOUNCE = 0.9
CONFIDENCE_NOT_A_BOUNCE_WITH_HINTS = 0.6  # bounce-like wording without any bounce context
CONFIDENCE_UNKNOWN_CAUSE = 0.3


def analyse(data: object, rules: RuleSet | str | os.PathLike[str] | None = None) -> BounceResult:
    """Classify a bounce (raw RFC 822 bytes/str or a pasted snippet).

    `rules` is a loaded RuleSet or the path of a rules file (default:
    data/kb/bounce_rules.yml).
    """
    try:
        ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    except BounceRulesError as exc:
        return BounceResult(error=str(exc))
    try:
        return _analyse(data, ruleset)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        return BounceResult(
            article_id=ruleset.articles.get("unknown", "bounce_unknown"),
            error=f"{type(exc).__name__}: {exc}"[:300],
        )


def _analyse(data: object, rules: RuleSet) -> BounceResult:
    doc = build_document(parse(to_bytes(data, MAX_INPUT_BYTES)), rules)
    segments = doc.segments
    failing = [i for i, s in enumerate(segments) if has_failure_code(s)]
    marker = has_marker(doc.header_text, rules) or any(segment_has_marker(s, rules) for s in segments)
    context = doc.structural or marker or bool(failing)  # does the text look like a bounce at all?
    hint = phase_hint(segments, failing)
    has_failure = bool(failing) or any(c.field == "status" for c in doc.field_codes)
    matches = collect_matches(segments, doc.field_codes, hint, has_failure, rules, context)
    decision = decide(matches, segments)
    if not (context or (decision.best and decision.best.rule.standalone)):
        confidence = CONFIDENCE_NOT_A_BOUNCE_WITH_HINTS if matches else CONFIDENCE_NOT_A_BOUNCE
        return BounceResult(confidence=confidence, article_id=rules.articles["unknown"])

    fields = extract_fields(doc, decision, hint, failing, rules)
    best = decision.best
    return BounceResult(
        category=decision.category,
        confidence=decision.confidence if best else CONFIDENCE_UNKNOWN_CAUSE,
        smtp_code=fields.smtp_code,
        enhanced_code=fields.enhanced_code,
        recipients=fields.recipients,
        remote_host=fields.remote_host,
        phase=fields.phase,
        diagnostic=fields.diagnostic,
        evidence=best.evidence if best else None,
        is_bounce=True,
        article_id=rules.articles.get(decision.category, "bounce_unknown"),
        variant=fields.variant,
        alternatives=[
            {"category": m.rule.category, "score": round(m.score / 100.0, 2), "evidence": m.evidence}
            for m in decision.ranked[1:4]
        ],
    )
