"""Split a cleaned customer message into the separate questions it asks.

A long e-mail often holds several concerns ("Outlook sendet nicht. Und wie groß darf ein
Anhang sein?"). Units are paragraphs, list items and ``?``-terminated sentences. A unit that
asks or reports something (a question mark or a request/problem cue) starts a question;
context without a cue ("Ich nutze Outlook 2016.") and a unit ending in a colon ("Ich bekomme
diese Meldung:") are attached to the next question, or to the previous one at the end.
Pure thanks are dropped.
"""
from __future__ import annotations

import re

DEFAULT_MAX_QUESTIONS = 5

_LIST_ITEM = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-*•–])[ \t]+")
_QUESTION_END = re.compile(r"(?<=\?)[\s]+(?=[A-ZÄÖÜ0-9\"„(])")
_CUE = re.compile(
    r"\?|\b(?:wie|was|warum|wieso|weshalb|wo|wann|welche[rsmn]?|wohin|kann|können|könnten|"
    r"muss|müssen|möchte|möchten|will|wollen|würde|würden|bitte|hilfe|helfen|fehler\w*|"
    r"problem\w*|kein|keine|keinen|nicht|nichts|voll|zu[ \t]+groß|einrichten|eingerichtet|"
    r"ändern|löschen|anlegen|weiterleit\w*|geht|klappt|funktioniert|meldung|kommt|kommen)\b",
    re.IGNORECASE,
)
_THANKS_ONLY = re.compile(
    r"^(?:(?:vielen|herzlichen|besten|tausend)[ \t]+)?dank(?:e)?(?:[ \t]+(?:schön|sehr))?"
    r"(?:[ \t]+im[ \t]+voraus)?(?:[ \t]+für[ \t]+(?:ihre|die|deine)[ \t]+\w+)?[ \t]*[.!]*$"
    r"|^ich[ \t]+freue[ \t]+mich[ \t]+auf[ \t]+ihre[ \t]+(?:baldige[ \t]+)?"
    r"(?:antwort|rückmeldung|hilfe)[.!]*$",
    re.IGNORECASE,
)


def _paragraph_units(body: str) -> list[str]:
    units: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", body):
        current: list[str] = []
        for line in paragraph.split("\n"):
            if not line.strip():
                continue
            if _LIST_ITEM.match(line) and current:
                units.append(" ".join(current))
                current = []
            current.append(line.strip())
        if current:
            units.append(" ".join(current))
    return units


def _sentence_units(unit: str) -> list[str]:
    return [part.strip() for part in _QUESTION_END.split(unit) if part.strip()]


def is_question_like(unit: str) -> bool:
    return bool(_CUE.search(unit))


def is_pleasantry(unit: str) -> bool:
    return bool(_THANKS_ONLY.match(unit.strip()))


def split_questions(body: str, max_questions: int = DEFAULT_MAX_QUESTIONS) -> list[str]:
    """The questions in ``body`` (already cleaned), in order; at most ``max_questions``."""
    units = [
        sentence
        for unit in _paragraph_units(body)
        for sentence in _sentence_units(unit)
        if not is_pleasantry(sentence)
    ]
    if not units:
        return [body.strip()] if body.strip() else []

    questions: list[str] = []
    pending_context: list[str] = []
    for unit in units:
        # "Ich bekomme diese Meldung:" introduces what follows (often a pasted error)
        if is_question_like(unit) and not unit.rstrip().endswith(":"):
            questions.append(" ".join(pending_context + [unit]))
            pending_context = []
        else:
            pending_context.append(unit)
    if pending_context:
        if questions:
            questions[-1] = " ".join([questions[-1]] + pending_context)
        else:
            questions.append(" ".join(pending_context))

    if len(questions) > max_questions > 0:
        questions = questions[: max_questions - 1] + [" ".join(questions[max_questions - 1:])]
    return questions
