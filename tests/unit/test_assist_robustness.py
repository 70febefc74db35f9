"""Agent assist: any text gives an answer, quickly (pure part, without NLU and bounce)."""
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.assist import assemble, prepare
from bot.assist.cleaning import clean_message
from bot.assist.splitting import split_questions

from assist_fakes import make_kb, rasa_parse

KB = make_kb()
LIMIT = 100_000

PATHOLOGICAL = {
    "spaces": " " * LIMIT,
    "newlines": "\n" * LIMIT,
    "reply_header_without_colon": ("Am 1" + "1" * 230 + "\n" + "2" * 230 + "\n") * 200,
    "schrieb_without_colon": ("Am 1 " + "schrieb " * 28 + "\n" + "x" * 230 + "\n") * 200,
    "header_fields": "Von: x\n" * 14000,
    "closings": "Gruß " * 20000,
    "question_marks": "?" * LIMIT,
    "codes": "554 5.7.1 " * 10000,
    "quote_marks": "> " * 50000,
    "emoji": "🙂" * LIMIT,
    "control": "\x00\x01\x02\x1b[31m" * 20000,
}


def _answer(text, parse=None):
    prepared = prepare(text, analyser=None)
    parses = [parse(t) if parse else None for t in prepared.nlu_texts()]
    return assemble(prepared, parses, kb=KB)


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_texts_are_fast(name):
    text = PATHOLOGICAL[name][:LIMIT]
    started = time.perf_counter()
    answer = _answer(text)
    assert time.perf_counter() - started < 3.0
    assert isinstance(answer["reply"], str) and answer["reply"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_any_text_gets_a_complete_answer(text):
    answer = _answer(text, parse=lambda t: rasa_parse("setup_client", 0.8, t))
    assert set(answer) >= {"intent", "intent_ranking", "entities", "bounce", "articles", "reply",
                           "questions", "low_confidence", "masked_text"}
    assert len(answer["articles"]) <= 3
    assert answer["reply"].startswith("Guten Tag")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("Am 1:schrieb\n>-_?.Von:Gesendet: \t")), max_size=400))
def test_cleaning_and_splitting_never_fail_on_marker_soup(text):
    cleaned = clean_message(text)
    assert isinstance(cleaned.body, str)
    for question in split_questions(cleaned.body):
        assert question.strip()
