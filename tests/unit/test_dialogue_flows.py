"""bot.dialogue.flows: what the bot says and remembers per turn (no Rasa involved)."""

from __future__ import annotations

import pytest

from bot.dialogue import flows
from bot.dialogue.flows import State

from dialogue_support import CLIENT_PROTOCOLS, composer

C = composer()


def names(turn):
    return [m.response for m in turn.messages]


def render(turn):
    return "\n\n".join(C.render(m) for m in turn.messages)


def test_new_topic_resets_progress_but_keeps_client_and_protocol():
    turn = flows.set_topic(State(slots={"topic": "send_problem", "walkthrough": "x", "step": 3,
                                        "client": "outlook", "protocol": "imap"},
                                 intent="setup_client"), C)
    assert turn.slots["topic"] == "setup_client" and turn.slots["walkthrough"] is None
    assert "client" not in turn.slots and "protocol" not in turn.slots


def test_inform_keeps_the_topic():
    turn = flows.set_topic(State(slots={"topic": "setup_client"}, intent="inform"), C)
    assert turn.slots["topic"] == "setup_client"


def test_pasted_bounce_wins_over_the_nlu_intent():
    turn = flows.set_topic(State(slots={"bounce_pasted": True}, intent="receive_problem"), C)
    assert turn.slots["topic"] == "report_bounce"


@pytest.mark.parametrize("entities,expected", [
    ([{"entity": "error_code", "value": "554"}], "report_bounce"),
    ([{"entity": "error_code", "value": "5.7.26"}], "report_bounce"),
    ([{"entity": "error_code", "value": "0x800CCC0F"}], "send_problem"),  # not an SMTP code
    ([{"entity": "client", "value": "outlook"}], "send_problem"),
])
def test_a_sending_problem_with_a_status_code_is_a_bounce(entities, expected):
    turn = flows.set_topic(State(intent="send_problem", entities=entities,
                                 text="Fehler beim Senden"), C)
    assert turn.slots["topic"] == expected


def test_a_status_code_does_not_turn_other_concerns_into_a_bounce():
    turn = flows.set_topic(State(intent="receive_problem", text="Fehler 550",
                                 entities=[{"entity": "error_code", "value": "550"}]), C)
    assert turn.slots["topic"] == "receive_problem"


def test_mailbox_full_starts_with_the_quota():
    turn = flows.set_topic(State(intent="mailbox_full"), C)
    assert names(turn) == ["utter_mailbox_quota"] and "300 MB" in render(turn)


def test_remembered_smtp_does_not_fit_mailbox_full():
    turn = flows.set_topic(State(slots={"protocol": "smtp"}, intent="mailbox_full"), C)
    assert turn.slots["protocol"] is None


def test_smtp_named_in_the_setup_request_is_kept():
    state = State(slots={"protocol": "smtp"}, intent="setup_client",
                  entities=({"entity": "protocol", "value": "smtp"},))
    assert "protocol" not in flows.set_topic(state, C).slots


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
def test_setup_gives_settings_then_the_first_step_group(client, protocol):
    turn = flows.start(State(slots={"topic": "setup_client", "client": client,
                                    "protocol": protocol}), C)
    assert names(turn)[-1] == "utter_walkthrough_do"
    assert turn.slots["walkthrough"] == f"guide_{client}_{protocol}" and turn.slots["step"] == 0
    assert f"{protocol}.dokom.net" in render(turn)


def test_changed_protocol_is_confirmed_before_the_new_walkthrough():
    turn = flows.start(State(slots={"topic": "setup_client", "client": "outlook",
                                    "protocol": "pop3"}, intent="inform"), C)
    assert names(turn)[0] == "utter_setting_changed" and "POP3" in render(turn)
    assert turn.slots["walkthrough"] == "guide_outlook_pop3"


def test_fully_specified_port_question_is_answered_at_once():
    turn = flows.start(State(slots={"topic": "ask_server_settings", "protocol": "smtp",
                                    "encryption": "starttls"}), C)
    assert names(turn) == ["utter_port_answer"] and "`587`" in render(turn)
    assert not turn.slots


def test_send_problem_invites_the_error_text_and_checks_smtp():
    turn = flows.start(State(slots={"topic": "send_problem", "client": "outlook"}), C)
    assert names(turn)[:2] == ["utter_send_error_hint", "utter_settings"]
    assert "`smtp.dokom.net`" in render(turn)


def test_receive_problem_starts_the_checklist():
    turn = flows.start(State(slots={"topic": "receive_problem"}, text="Ich bekomme keine Mails"), C)
    assert names(turn) == ["utter_walkthrough_check"]
    assert turn.slots["walkthrough"] == "problem_not_receiving"


def test_no_topic_asks_what_it_is_about():
    assert names(flows.start(State(), C)) == ["utter_what_topic"]


def test_code_only_asks_for_the_text_with_buttons():
    turn = flows.explain_bounce(State(intent="report_bounce", text="Fehler 554",
                                      entities=({"entity": "error_code", "value": "554"},)), C)
    assert names(turn) == ["utter_ask_bounce_text"]
    buttons = C.templates.buttons("utter_ask_bounce_text")
    assert {b.title for b in buttons} >= {"Relay access denied", "5.7.26 (Gmail)",
                                          "Message contains NUL characters"}


@pytest.mark.parametrize("category", ["relay_denied", "dnsbl", "sender_auth", "nul_characters",
                                      "recipient_mailbox_full"])
def test_bounce_button_explains_its_category(category):
    turn = flows.explain_bounce(State(intent="report_bounce", text="",
                                      entities=({"entity": "bounce_category",
                                                 "value": category},)), C)
    assert names(turn) == ["utter_bounce_explanation"]
    assert turn.slots["bounce_category"] == category
    assert turn.slots["walkthrough"] == f"bounce_{category}"


def test_distinctive_code_is_explained_without_asking():
    turn = flows.explain_bounce(State(intent="report_bounce", text="Gmail sagt 5.7.26"), C)
    assert turn.slots["bounce_category"] == "sender_auth" and turn.slots["error_code"] == "5.7.26"


def test_no_bounce_advice_says_to_just_forward():
    for category in ("dnsbl", "relay_denied", "unknown"):
        turn = flows.explain_bounce(State(entities=({"entity": "bounce_category",
                                                     "value": category},)), C)
        assert "weiterleiten Sie" not in render(turn)


def test_affirm_walks_on_and_deny_twice_hands_over():
    slots = {"topic": "setup_client", "client": "thunderbird", "protocol": "imap"}
    slots.update(flows.start(State(slots=slots), C).slots)
    slots.update(flows.answer(State(slots=slots, intent="affirm"), C, True).slots)
    assert slots["step"] == 1
    first = flows.answer(State(slots=slots, intent="deny"), C, False)
    assert names(first) == ["utter_walkthrough_retry"]
    slots.update(first.slots)
    second = flows.answer(State(slots=slots, intent="deny"), C, False)
    assert names(second) == ["utter_handover"]
    record = second.slots["handover_summary"]
    assert record["client"] == "thunderbird" and record["protocol"] == "imap"
    assert record["steps_tried"] and "Mozilla Thunderbird" in record["text"]
    assert second.slots["walkthrough"] is None


def test_checklist_to_success():
    slots = {"topic": "login_problem", "walkthrough": "problem_login", "step": 2}
    turn = flows.answer(State(slots=slots, intent="affirm"), C, True)
    assert names(turn) == ["utter_walkthrough_solved"] and turn.slots["walkthrough"] is None


def test_checklist_nein_announces_the_next_step():
    slots = {"topic": "login_problem", "walkthrough": "problem_login", "step": 0}
    turn = flows.answer(State(slots=slots, intent="deny"), C, False)
    assert names(turn) == ["utter_walkthrough_next", "utter_walkthrough_check"]
    assert turn.slots["step"] == 1 and len(turn.slots["steps_tried"]) == 1


def test_yes_no_without_walkthrough():
    assert names(flows.answer(State(), C, True)) == ["utter_no_walkthrough_affirm"]
    assert names(flows.answer(State(), C, False)) == ["utter_no_walkthrough_deny"]


def test_second_fallback_in_a_row_offers_a_human():
    assert names(flows.fallback(1)) == ["utter_rephrase"]
    assert names(flows.fallback(2)) == ["utter_offer_handover"]


def test_unknown_one_shot_intent_asks_to_rephrase():
    assert names(flows.answer_article(State(intent="greet"), C)) == ["utter_rephrase"]


def test_consecutive_fallbacks_count_from_the_latest_message():
    state = State(user_intents=("nlu_fallback", "nlu_fallback", "greet", "nlu_fallback"))
    assert state.consecutive_fallbacks == 2
    assert State(user_intents=("greet", "nlu_fallback")).consecutive_fallbacks == 0


MAILBOX_TEXT = "Mein Postfach ist voll, ich nutze Thunderbird mit POP3"
MAILBOX_ENTITIES = tuple(
    {"entity": name, "value": value, "start": MAILBOX_TEXT.index(span),
     "end": MAILBOX_TEXT.index(span) + len(span)}
    for name, value, span in (("client", "thunderbird", "Thunderbird"),
                              ("protocol", "pop3", "POP3")))


def test_information_only_message_about_a_full_mailbox_starts_that_topic():
    state = State(intent="inform", text=MAILBOX_TEXT, entities=MAILBOX_ENTITIES,
                  intent_ranking=(("inform", 1.0), ("setup_client", 0.001),
                                  ("mailbox_full", 0.0004)))
    assert state.text_without_entities == "Mein Postfach ist voll, ich nutze mit"
    turn = flows.set_topic(state, C)
    assert turn.slots["topic"] == "mailbox_full" and names(turn) == ["utter_mailbox_quota"]


def test_naming_a_program_does_not_start_a_set_up():
    state = State(intent="inform", text="Ich nutze Thunderbird",
                  entities=({"entity": "client", "value": "thunderbird", "start": 10,
                             "end": 21},),
                  intent_ranking=(("inform", 1.0), ("setup_client", 0.001)))
    assert flows.set_topic(state, C).slots["topic"] is None


def test_plain_information_does_not_guess_a_topic():
    state = State(intent="inform", text="ach nein, ich nutze POP3",
                  intent_ranking=(("inform", 1.0), ("setup_client", 0.001)),
                  slots={"topic": "setup_client"})
    assert flows.set_topic(state, C).slots["topic"] == "setup_client"


def test_yes_after_a_rephrase_request_counts_as_not_understood():
    state = State(intent="affirm", user_intents=("affirm", "out_of_scope"))
    assert names(flows.answer(state, C, True)) == ["utter_offer_handover"]


def test_code_in_the_question_is_remembered_while_asking_for_the_text():
    turn = flows.explain_bounce(State(intent="report_bounce", text="Fehler 554 beim Senden"), C)
    assert names(turn) == ["utter_ask_bounce_text"] and turn.slots["error_code"] == "554"


def test_mailbox_full_imap_shows_the_whole_fix():
    turn = flows.start(State(slots={"topic": "mailbox_full", "protocol": "imap"}), C)
    text = render(turn)
    assert "Papierkorb" in text and "Webagent" in text and "Hat das geklappt?" in text


def test_unclear_message_with_a_likely_concern_suggests_it():
    state = State(intent="nlu_fallback", user_intents=("nlu_fallback",),
                  text="Ich bekomme mit Thunderbird und POP3 keine E-Mails mehr",
                  intent_ranking=(("nlu_fallback", 0.5), ("inform", 0.49),
                                  ("receive_problem", 0.22)))
    turn = flows.not_understood(state, C)
    assert names(turn) == ["utter_rephrase_suggest"]
    assert turn.messages[0].values["suggested_intent"] == "receive_problem"
    assert "E-Mails kommen nicht an" in render(turn)
    buttons = C.templates.buttons("utter_rephrase_suggest", **turn.messages[0].values)
    assert buttons[0].payload == "/receive_problem"


def test_unclear_message_without_a_likely_concern_offers_topics():
    state = State(intent="nlu_fallback", user_intents=("nlu_fallback",), text="asdf jkl",
                  intent_ranking=(("nlu_fallback", 0.4), ("greet", 0.3)))
    assert names(flows.not_understood(state, C)) == ["utter_rephrase"]


def test_failed_imap_cleanup_repeats_the_steps_without_pop3_advice():
    slots = {"topic": "mailbox_full", "protocol": "imap", "walkthrough": "problem_mailbox_full",
             "step": 0}
    turn = flows.answer(State(slots=slots, intent="deny"), C, False)
    text = render(turn)
    assert names(turn) == ["utter_walkthrough_retry_steps"] and "Papierkorb" in text
    assert "Kopie aller Nachrichten" not in text and "POP3" not in text
