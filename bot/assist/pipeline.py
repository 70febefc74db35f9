"""The agent-assist analysis in pure steps around the NLU call.

``prepare(text)`` masks passwords, strips quoted history and signature, splits the rest
into questions and (unless told not to) runs the bounce analyser; ``nlu_texts()`` says
which texts the NLU should parse. The caller (the web app) sends those to Rasa and passes
the results, ``None`` for each one that failed, to ``assemble``, which ranks articles,
composes the reply and returns the JSON-ready answer of ``POST /api/assist``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import entities as entity_tools
from .cleaning import Cleaned, clean_message
from .config import AssistConfig, get_config
from .kbview import article_view
from .masking import Masked, mask
from .nlu import FALLBACK_INTENT, Understanding, from_parse
from .ranking import rank_articles
from .reply import ReplyComposer, Topic
from .splitting import split_questions

BOUNCE_INTENT = "report_bounce"
DEFAULT = object()  # "use bot.bounce.analyse" (None means: no analyser)
RANKING_TOP_N = 10
QUESTION_RANKING_TOP_N = 3
ARTICLE_LIMIT = 3


def _default_kb() -> Any:
    from bot.kb import get_kb

    return get_kb()


def _default_analyser() -> Optional[Callable[[str], Any]]:
    try:
        from bot.bounce import analyse
    except Exception:  # noqa: BLE001 - analyser not available: no bounce diagnosis
        return None
    return analyse


@dataclass
class Prepared:
    masked: Masked
    cleaned: Cleaned
    body: str
    questions: list[str]
    questions_truncated: bool
    bounce: Optional[dict[str, Any]]
    bounce_available: bool
    nlu_max_chars: int

    def nlu_texts(self) -> list[str]:
        """Texts to parse: each question when there are several, else the whole body."""
        if not self.body.strip():
            return []
        if len(self.questions) > 1:
            return [clip(q, self.nlu_max_chars) for q in self.questions]
        return [clip(self.body, self.nlu_max_chars)]


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters: the start and, where the question usually is, the end."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]} … {text[-(limit - head - 3):]}"


def _analyse_bounce(text: str, analyser: Optional[Callable[[str], Any]]) -> tuple[Optional[dict], bool]:
    if analyser is None:
        return None, False
    try:
        result = analyser(text)
        data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    except Exception:  # noqa: BLE001 - the analyser must not break the assist
        return None, False
    if not data.get("is_bounce"):
        return None, True
    return data, True


def prepare(
    text: str,
    config: Optional[AssistConfig] = None,
    redactor: Optional[Callable[[str], Any]] = None,
    analyser: Any = DEFAULT,
    with_bounce: bool = True,
) -> Prepared:
    """Mask, strip and split ``text``; with ``with_bounce`` also run the bounce analyser.

    The web app passes ``with_bounce=False`` and calls :func:`add_bounce` while the NLU
    parses, so the two run side by side."""
    config = config or get_config()
    masked = mask(text, redactor)
    cleaned = clean_message(masked.text)
    body = cleaned.body or masked.text.strip()
    questions = split_questions(body, max_questions=config.max_questions + 1)
    truncated = len(questions) > config.max_questions
    if truncated:
        questions = split_questions(body, max_questions=config.max_questions)
    prepared = Prepared(
        masked=masked, cleaned=cleaned, body=body, questions=questions,
        questions_truncated=truncated, bounce=None, bounce_available=True,
        nlu_max_chars=config.nlu_max_chars,
    )
    if with_bounce:
        add_bounce(prepared, analyser)
    return prepared


def add_bounce(prepared: Prepared, analyser: Any = DEFAULT) -> Prepared:
    """Run the bounce analyser (default ``bot.bounce.analyse``) on the masked text; never raises."""
    if analyser is DEFAULT:
        analyser = _default_analyser()
    if prepared.masked.text.strip():
        prepared.bounce, prepared.bounce_available = _analyse_bounce(prepared.masked.text, analyser)
    else:
        prepared.bounce, prepared.bounce_available = None, analyser is not None
    return prepared


# -- assembling -----------------------------------------------------------------------
def _labelled(item: dict[str, Any], config: AssistConfig) -> dict[str, Any]:
    return dict(item, label=config.label(item["name"]))


def _entities_for(text: str, understanding: Understanding, kb: Any,
                  bounce: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
    found = entity_tools.merge(understanding.entities, entity_tools.detect(text, kb))
    if bounce:
        codes = [bounce.get("smtp_code"), bounce.get("enhanced_code")]
        extra = [{"entity": "error_code", "value": c, "text": c, "source": "bounce"} for c in codes if c]
        found = entity_tools.merge(found, extra)
    return found


def _guess_intent(kb: Any, text: str) -> Optional[dict[str, Any]]:
    """Best guess without the NLU: the intent of the best-matching KB article."""
    try:
        hits = kb.search(text, limit=3)
    except Exception:  # noqa: BLE001
        return None
    candidates = []
    for rank, hit in enumerate(hits):
        try:
            article = kb.article(hit.article_id)
        except Exception:  # noqa: BLE001
            continue
        if article.intents:
            # guides answer "how do I set up ..."; a problem or procedure says more
            candidates.append((getattr(article, "kind", "") == "guide", rank, article.intents[0]))
    if not candidates:
        return None
    return {"name": min(candidates)[2], "confidence": 0.0}


def _resolve_intent(understanding: Understanding, kb: Any, text: str,
                    bounce: Optional[dict[str, Any]]) -> Understanding:
    """Apply the bounce analyser and the KB guess where the NLU is missing or disagrees."""
    diagnosed = bool(bounce) and (bounce.get("category") != "unknown" or not understanding.available)
    if diagnosed and understanding.intent["name"] != BOUNCE_INTENT:
        from_ranking = next((r["confidence"] for r in understanding.ranking if r["name"] == BOUNCE_INTENT), 0.0)
        confidence = round(max(float(bounce.get("confidence") or 0.0), from_ranking), 4)
        understanding.intent = {"name": BOUNCE_INTENT, "confidence": confidence}
        understanding.source = "bounce"
    elif not understanding.available:
        guess = _guess_intent(kb, text)
        if guess:
            understanding.intent = guess
            understanding.source = "kb"
    return understanding


def _quotes_bounce(text: str, bounce: Optional[dict[str, Any]]) -> bool:
    """Whether ``text`` holds (part of) the detected bounce."""
    if not bounce:
        return False
    lowered = text.lower()
    marks = [bounce.get("evidence"), bounce.get("enhanced_code")]
    marks += list(bounce.get("recipients") or [])
    return any(isinstance(m, str) and m and m.lower() in lowered for m in marks)


def _main_understanding(understandings: list[Understanding], config: AssistConfig) -> Understanding:
    """The text's overall understanding when it holds several questions.

    Intent and ranking are those of the first question with a confident, answerable
    intent (else the most confident one); entities are those of all questions."""
    def answerable(u: Understanding) -> bool:
        return bool(config.intent(u.intent["name"]).reply) and \
            u.intent["confidence"] >= config.low_confidence_threshold

    main = next((u for u in understandings if answerable(u)), None)
    if main is None:
        main = max(understandings, key=lambda u: u.intent["confidence"])
    entities: list[dict[str, Any]] = []
    for understanding in understandings:
        entities = entity_tools.merge(entities, understanding.entities)
    return Understanding(
        intent=dict(main.intent), ranking=list(main.ranking), entities=entities,
        available=all(u.available for u in understandings), source=main.source,
    )


def _bounce_view(bounce: Optional[dict[str, Any]], kb: Any) -> Optional[dict[str, Any]]:
    if not bounce:
        return None
    view = dict(bounce)
    article = article_view(kb, bounce.get("article_id") or f"bounce_{bounce.get('category')}",
                           with_guide=False)
    if article:
        view["title"] = article["title"]
        view["explanation"] = article["explanation"] or article["summary"]
        view["fix"] = [step for section in article["sections"] for step in section["steps"]]
    else:
        view.setdefault("title", bounce.get("category"))
        view.setdefault("explanation", "")
        view.setdefault("fix", [])
    return view


def _is_low(intent: dict[str, Any], available: bool, threshold: float) -> bool:
    return (not available) or intent["name"] == FALLBACK_INTENT or intent["confidence"] < threshold


def assemble(
    prepared: Prepared,
    parses: list[Optional[dict[str, Any]]],
    kb: Any = None,
    config: Optional[AssistConfig] = None,
) -> dict[str, Any]:
    """The ``POST /api/assist`` answer for prepared text and the NLU results of ``nlu_texts()``."""
    kb = kb if kb is not None else _default_kb()
    config = config or get_config()
    texts = prepared.nlu_texts()
    parses = list(parses) + [None] * (len(texts) - len(parses))
    warnings_text = config.texts["warnings"]
    bounce = prepared.bounce

    multi = len(prepared.questions) > 1
    if multi:
        understandings = []
        for question, text, parse in zip(prepared.questions, texts, parses):
            understanding = from_parse(parse, text, kb, RANKING_TOP_N)
            quoted = bounce if _quotes_bounce(question, bounce) else None
            understandings.append(_resolve_intent(understanding, kb, question, quoted))
        top = _resolve_intent(_main_understanding(understandings, config), kb, prepared.body, bounce)
    else:
        top = from_parse(parses[0] if texts else None, texts[0] if texts else "", kb, RANKING_TOP_N)
        if not texts:  # empty text: nothing to parse, the NLU is not at fault
            top.available = True
        top = _resolve_intent(top, kb, prepared.body, bounce)
        understandings = [top] * len(prepared.questions)
    top_entities = _entities_for(prepared.body, top, kb, bounce)
    top_slots = entity_tools.first_values(top_entities)

    question_results = []
    topics: list[Topic] = []
    for index, question in enumerate(prepared.questions):
        understanding = understandings[index]
        q_entities = _entities_for(question, understanding, kb)
        slots = dict(top_slots)
        slots.update(entity_tools.first_values(q_entities))
        q_articles = rank_articles(kb, config, question, [(understanding.intent["name"],
                                   understanding.intent["confidence"])], slots, None, ARTICLE_LIMIT)
        intent = understanding.intent
        question_results.append({
            "text": question,
            "intent": _labelled(intent, config),
            "intent_ranking": [_labelled(r, config) for r in understanding.ranking[:QUESTION_RANKING_TOP_N]],
            "entities": q_entities,
            "articles": q_articles,
            "low_confidence": _is_low(intent, understanding.available, config.low_confidence_threshold),
        })
        topics.append(Topic(question, intent["name"], intent["confidence"], slots, q_articles))

    intents_for_ranking = [(top.intent["name"], top.intent["confidence"])]
    intents_for_ranking += [(t.intent, t.confidence) for t in topics if multi]
    articles = rank_articles(kb, config, prepared.body, intents_for_ranking, top_slots, bounce, ARTICLE_LIMIT)

    bounce_view = _bounce_view(bounce, kb)
    reply = ReplyComposer(kb, config).compose(
        topics, bounce=bounce_view, sender_name=prepared.cleaned.sender_name,
        password_masked=prepared.masked.count > 0,
    )

    nlu_available = top.available and all(p is not None for p in parses) if texts else True
    low = _is_low(top.intent, nlu_available, config.low_confidence_threshold) and bool(prepared.body.strip())
    low = low or any(q["low_confidence"] for q in question_results)
    warnings = []
    if texts and not nlu_available:
        warnings.append(warnings_text["nlu_unavailable"])
    if low and prepared.body.strip():
        warnings.append(warnings_text["low_confidence"])
    if prepared.masked.count:
        warnings.append(warnings_text["password_masked"])
    if not prepared.bounce_available:
        warnings.append(warnings_text["bounce_unavailable"])
    if prepared.questions_truncated:
        warnings.append(warnings_text["questions_truncated"])

    return {
        "intent": _labelled(top.intent, config),
        "intent_ranking": [_labelled(r, config) for r in top.ranking],
        "entities": top_entities,
        "bounce": bounce_view,
        "articles": articles,
        "reply": reply.text,
        "questions": question_results,
        "low_confidence": bool(low),
        "masked_text": prepared.masked.text,
        "analysed_text": prepared.body,
        "passwords_masked": prepared.masked.count,
        "slots": top_slots,
        "intent_source": top.source if texts else "none",
        "nlu_available": bool(nlu_available),
        "reply_gaps": reply.gaps,
        "history_removed": prepared.cleaned.history_removed,
        "signature_removed": prepared.cleaned.signature_removed,
        "warnings": warnings,
    }
