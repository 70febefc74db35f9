"""Rank knowledge-base articles for a text: intent mapping, bounce category and search.

Each source gives an article a score in [0, 1]:

* the articles an intent maps to (``data/assist/intents.yml``, then those the KB marks with
  the intent): intent confidence × a weight that falls with the position in the list,
* the article of a diagnosed bounce category: 0.9 + 0.1 × the analyser's confidence (the
  generic articles of the intent ``report_bounce`` then count 0.8 × as much),
* the German full-text search (``kb.search``): its score squashed into [0, 1).

Scores of the same article combine like independent evidence: 1 - Π(1 - s).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from .config import AssistConfig

POSITION_WEIGHTS = (1.0, 0.8, 0.65, 0.5)
KB_INTENT_WEIGHT = 0.6
SEARCH_SATURATION = 12.0  # a search score of this size maps to 0.5
SEARCH_WEIGHT = 0.7
SEARCH_CANDIDATES = 6
BOUNCE_INTENT = "report_bounce"
BOUNCE_BASE = 0.9            # a diagnosed bounce category: its article scores at least this
BOUNCE_INTENT_DAMPING = 0.8  # ... and the generic report_bounce articles count less
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def resolve_ids(patterns: Iterable[str], slots: dict[str, str], kb: Any) -> list[str]:
    """Article ids of ``patterns`` with slots filled in; unknown slots or ids are skipped."""
    ids: list[str] = []
    for pattern in patterns:
        names = _PLACEHOLDER.findall(pattern)
        if any(not slots.get(name) for name in names):
            continue
        article_id = _PLACEHOLDER.sub(lambda m: slots[m.group(1)], pattern)
        if article_id not in ids and _exists(kb, article_id):
            ids.append(article_id)
    return ids


def _exists(kb: Any, article_id: str) -> bool:
    try:
        if hasattr(kb, "has_article"):
            return bool(kb.has_article(article_id))
        kb.article(article_id)
        return True
    except Exception:  # noqa: BLE001
        return False


def _title(kb: Any, article_id: str, fallback: str = "") -> str:
    try:
        return kb.article(article_id).title
    except Exception:  # noqa: BLE001
        return fallback or article_id


def _kind(kb: Any, article_id: str) -> str:
    try:
        return getattr(kb.article(article_id), "kind", "") or ""
    except Exception:  # noqa: BLE001
        return ""


def search_score(raw: float) -> float:
    raw = max(0.0, float(raw))
    return SEARCH_WEIGHT * raw / (raw + SEARCH_SATURATION)


def intent_scores(
    kb: Any, config: AssistConfig, intents: Iterable[tuple[str, float]], slots: dict[str, str]
) -> dict[str, list[float]]:
    scores: dict[str, list[float]] = {}
    for name, confidence in intents:
        confidence = max(0.0, min(1.0, float(confidence)))
        if confidence <= 0:
            continue
        mapped = resolve_ids(config.intent(name).articles, slots, kb)
        for position, article_id in enumerate(mapped):
            weight = POSITION_WEIGHTS[min(position, len(POSITION_WEIGHTS) - 1)]
            scores.setdefault(article_id, []).append(confidence * weight)
        try:
            declared = [a.id for a in kb.articles_for_intent(name)]
        except Exception:  # noqa: BLE001
            declared = []
        for article_id in declared:
            if article_id not in mapped and not _PLACEHOLDER.search(article_id):
                if getattr(kb.article(article_id), "kind", "") == "guide":
                    continue  # guides only through the client × protocol mapping
                scores.setdefault(article_id, []).append(confidence * KB_INTENT_WEIGHT)
    return scores


def rank_articles(
    kb: Any,
    config: AssistConfig,
    query: str,
    intents: Iterable[tuple[str, float]],
    slots: dict[str, str],
    bounce: Optional[dict[str, Any]] = None,
    limit: int = 3,
) -> list[dict[str, Any]]:
    """The ``limit`` best articles as ``{"id", "title", "score", "kind"}``, best first."""
    diagnosed = bool(bounce and bounce.get("category") not in (None, "unknown")
                     and bounce.get("article_id") and _exists(kb, bounce["article_id"]))
    if diagnosed:
        # the analyser's category is more specific than the generic bounce articles
        intents = [(name, c * BOUNCE_INTENT_DAMPING if name == BOUNCE_INTENT else c) for name, c in intents]
    scores = intent_scores(kb, config, intents, slots)
    titles: dict[str, str] = {}
    if bounce and bounce.get("article_id") and _exists(kb, bounce["article_id"]):
        confidence = max(0.0, min(1.0, float(bounce.get("confidence") or 0.0)))
        base = BOUNCE_BASE if diagnosed else 0.5
        scores.setdefault(bounce["article_id"], []).append(base + (1 - base) * confidence)
    if query and query.strip():
        try:
            hits = kb.search(query, limit=SEARCH_CANDIDATES)
        except Exception:  # noqa: BLE001 - search is an extra, never a failure
            hits = []
        for hit in hits:
            scores.setdefault(hit.article_id, []).append(search_score(hit.score))
            titles[hit.article_id] = hit.title
    combined = []
    for article_id, parts in scores.items():
        remaining = 1.0
        for part in parts:
            remaining *= 1.0 - max(0.0, min(1.0, part))
        combined.append((1.0 - remaining, article_id))
    combined.sort(key=lambda item: (-item[0], item[1]))
    return [
        {
            "id": article_id,
            "title": _title(kb, article_id, titles.get(article_id, "")),
            "score": round(score, 3),
            "kind": _kind(kb, article_id),
        }
        for score, article_id in combined[:limit]
    ]
