"""Turn Rasa's ``/model/parse`` answer into the assist API's understanding fields.

No HTTP here: the web layer fetches the parse result and hands it over (or ``None`` when
Rasa was unreachable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from . import entities as entity_tools

FALLBACK_INTENT = "nlu_fallback"


@dataclass
class Understanding:
    intent: dict[str, Any]
    ranking: list[dict[str, Any]]
    entities: list[dict[str, Any]] = field(default_factory=list)
    available: bool = True
    source: str = "nlu"  # nlu | bounce | kb | none


def _confidence(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return round(min(1.0, max(0.0, number)), 4)


def _intent_item(raw: Any) -> Optional[dict[str, Any]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    return {"name": raw["name"], "confidence": _confidence(raw.get("confidence"))}


def _entity_surface(raw: dict[str, Any], sent_text: str) -> str:
    start, end = raw.get("start"), raw.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(sent_text):
        return sent_text[start:end]
    return str(raw.get("text") or raw.get("value") or "")


def from_parse(parse: Optional[dict[str, Any]], sent_text: str, kb: Any, top_n: int = 10) -> Understanding:
    """Understanding from a parse result; ``None`` means Rasa was not reachable."""
    if not isinstance(parse, dict):
        return Understanding({"name": FALLBACK_INTENT, "confidence": 0.0}, [], [], available=False,
                             source="none")
    intent = _intent_item(parse.get("intent")) or {"name": FALLBACK_INTENT, "confidence": 0.0}
    ranking = [item for item in map(_intent_item, parse.get("intent_ranking") or []) if item]
    if not ranking and intent["confidence"] > 0:
        ranking = [dict(intent)]
    found: list[dict[str, Any]] = []
    for raw in parse.get("entities") or []:
        if not isinstance(raw, dict) or not raw.get("entity"):
            continue
        candidate = dict(raw, text=_entity_surface(raw, sent_text), source="nlu")
        normalised = entity_tools.normalise(candidate, kb)
        if normalised and (normalised["entity"], normalised["value"]) not in {
                (e["entity"], e["value"]) for e in found}:
            found.append(normalised)
    return Understanding(intent, ranking[:top_n], found, available=True, source="nlu")
