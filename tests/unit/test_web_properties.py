"""Property-based tests of POST /api/chat: whatever arrives, the answer is JSON with
200, 400, 403 or 413 — never a 5xx, never a hang — and Rasa only sees clean text."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.redact import redact
from bot.web.chat_input import clean_text
from web_support import Running

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def web():
    with Running() as running:
        yield running


def check_json_answer(response, allowed=(200, 400)):
    assert response.status in allowed, (response.status, response.body[:300])
    data = response.json()
    if response.status == 200:
        assert isinstance(data["messages"], list)
    else:
        assert isinstance(data["error"], str) and data["error"]
    return data


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=300))
def test_any_bytes_give_200_or_400(web, body):
    check_json_answer(web.client().chat(body))


@PROPERTY_SETTINGS
@given(value=json_values)
def test_any_json_value_gives_200_or_400(web, value):
    check_json_answer(web.client().chat(value))


@PROPERTY_SETTINGS
@given(value=json_values, key=st.sampled_from(["message", "payload"]))
def test_any_field_value_gives_200_or_400(web, value, key):
    response = web.client().chat({key: value})
    data = check_json_answer(response)
    if not isinstance(value, str):
        assert response.status == 400
        if value is not None:
            assert data["code"] == "wrong_type"


@PROPERTY_SETTINGS
@given(text=st.text(max_size=6000))
def test_any_text_reaches_rasa_cleaned_cut_and_redacted(web, text):
    before = len(web.rasa.received)
    response = web.client().chat({"message": text})
    data = check_json_answer(response)
    cleaned = clean_text(text)
    if not cleaned:
        assert response.status == 400 and data["code"] == "empty_message"
        assert len(web.rasa.received) == before
        return
    assert response.status == 200
    sent = web.rasa.received[-1]["message"]
    expected = redact(cleaned[:4000].rstrip() if len(cleaned) > 4000 else cleaned).text
    assert sent == expected
    assert data["truncated"] == (len(cleaned) > 4000)
    json.dumps(sent).encode("utf-8")  # valid UTF-8 all the way


@PROPERTY_SETTINGS
@given(origin=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40))
def test_any_foreign_origin_is_refused(web, origin):
    client = web.client()
    response = client.chat({"message": "hallo"}, origin=origin)
    if origin.rstrip("/").lower() in (client.origin, "https://www.dokom21.de"):
        assert response.status == 200
    else:
        assert response.status == 403
