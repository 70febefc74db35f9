"""Dialogue actions run with inline trackers and the real domain and knowledge base."""

from __future__ import annotations

import pytest

from actions.dialogue import (
    ActionAnswerKb, ActionExplainBounce, ActionFallback, ActionHandover, ActionSetTopic,
    ActionStartWalkthrough, ActionWalkthroughAnswer,
)
from actions.common import state_of
from bot.dialogue.topics import ONE_SHOT_ARTICLES

from dialogue_support import (
    CLIENT_PROTOCOLS, DOMAIN, ENCRYPTIONS, PROTOCOLS, entity, rendered, responses, run,
    slot_changes, tracker, user_event,
)


async def test_set_topic_remembers_the_intent_and_clears_progress():
    msgs, events = await run(ActionSetTopic(), tracker("Outlook einrichten", "setup_client",
                                                       walkthrough="problem_login", step=2.0))
    assert msgs == []
    changes = slot_changes(events)
    assert changes["topic"] == "setup_client" and changes["walkthrough"] is None


async def test_set_topic_for_mailbox_full_tells_the_quota():
    msgs, _ = await run(ActionSetTopic(), tracker("Postfach voll", "mailbox_full"))
    assert responses(msgs) == ["utter_mailbox_quota"] and "300 MB" in rendered(msgs)


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
async def test_start_setup_for_every_client_and_protocol(client, protocol):
    msgs, events = await run(ActionStartWalkthrough(), tracker(
        "einrichten", "setup_client", topic="setup_client", client=client, protocol=protocol))
    text = rendered(msgs)
    host = f"`{protocol}.dokom.net`"
    assert host in text and "`smtp.dokom.net`" in text
    assert ("`993`" if protocol == "imap" else "`995`") in text
    assert responses(msgs)[-1] == "utter_walkthrough_do" and "Hat das geklappt?" in text
    assert slot_changes(events)["walkthrough"] == f"guide_{client}_{protocol}"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("encryption", ENCRYPTIONS)
async def test_start_server_settings_answers_at_once(protocol, encryption):
    msgs, events = await run(ActionStartWalkthrough(), tracker(
        "Port?", "ask_server_settings", topic="ask_server_settings", protocol=protocol,
        encryption=encryption))
    assert len(msgs) == 1 and f"`{protocol}.dokom.net`" in rendered(msgs)
    assert slot_changes(events) == {}


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
async def test_walkthrough_answer_advances_for_every_client_and_protocol(client, protocol):
    msgs, events = await run(ActionWalkthroughAnswer(), tracker(
        "ja", "affirm", topic="setup_client", client=client, protocol=protocol,
        walkthrough=f"guide_{client}_{protocol}", step=0.0, failed_attempts=0.0))
    assert responses(msgs) in (["utter_walkthrough_do"], ["utter_walkthrough_done"])
    assert slot_changes(events).get("step") in (1, None)


async def test_walkthrough_answer_hands_over_after_two_failures():
    msgs, events = await run(ActionWalkthroughAnswer(), tracker(
        "nein", "deny", topic="setup_client", client="outlook", protocol="imap",
        walkthrough="guide_outlook_imap", step=1.0, failed_attempts=1.0,
        steps_tried=["IMAP-Kontoeinstellungen"]))
    assert responses(msgs) == ["utter_handover"]
    summary = slot_changes(events)["handover_summary"]
    assert summary["client"] == "outlook" and "IMAP-Kontoeinstellungen" in summary["text"]
    assert "support@dokom21.de" in rendered(msgs)


async def test_walkthrough_answer_with_pasted_bounce_explains_it():
    ndr = "SMTP error from remote mail server after RCPT TO:<a@b.de>: 554 Relay access denied"
    msgs, events = await run(ActionWalkthroughAnswer(), tracker(ndr, "affirm", bounce_pasted=True))
    assert responses(msgs) == ["utter_bounce_explanation"]
    assert slot_changes(events)["bounce_category"] == "relay_denied"


async def test_explain_bounce_asks_for_the_text_when_only_a_code_was_given():
    msgs, events = await run(ActionExplainBounce(), tracker(
        "Fehler 554", "report_bounce", entities=[entity("error_code", "554")]))
    assert responses(msgs) == ["utter_ask_bounce_text"] and len(msgs[0]["buttons"]) == 0
    assert slot_changes(events)["topic"] == "report_bounce"


async def test_explain_bounce_from_button():
    msgs, events = await run(ActionExplainBounce(), tracker(
        '/report_bounce{"bounce_category": "dnsbl"}', "report_bounce",
        entities=[entity("bounce_category", "dnsbl")]))
    text = rendered(msgs)
    assert "SMTP Fehler 554" in text and "support@dokom21.de" in text
    assert slot_changes(events)["bounce_category"] == "dnsbl"


@pytest.mark.parametrize("intent", sorted(ONE_SHOT_ARTICLES))
async def test_answer_kb_for_every_one_shot_intent(intent):
    msgs, events = await run(ActionAnswerKb(), tracker("frage", intent))
    assert len(msgs) == 1 and responses(msgs)[0].startswith("utter_article")
    assert "{" not in rendered(msgs) and events == []


@pytest.mark.parametrize("intent,fact", [
    ("max_message_size", "50 MB"), ("create_address", "2 Stunden"),
    ("password_rules", "12 Zeichen"), ("address_rules", "30 Zeichen"),
    ("domain_authentication", "include:_spf.dokom.net"), ("imap_folders", "Gesendete Objekte"),
    ("fax_attachment", "mailnews.display.show_all_body_parts_menu"),
    ("change_password", "www.service.dokom.net"),
])
async def test_answer_kb_states_the_faq_facts(intent, fact):
    msgs, _ = await run(ActionAnswerKb(), tracker("frage", intent))
    assert fact in rendered(msgs)


async def test_handover_summarises_the_case():
    msgs, events = await run(ActionHandover(), tracker(
        "Mitarbeiter bitte", "human_handoff", topic="send_problem", client="windows_mail",
        protocol="imap", error_code="554", steps_tried=["Postausgang geprüft"]))
    summary = slot_changes(events)["handover_summary"]
    assert summary["topic"] == "send_problem" and summary["error_code"] == "554"
    for fact in ("Windows Mail", "IMAP", "554", "Postausgang geprüft", "support@dokom21.de"):
        assert fact in rendered(msgs)


async def test_fallback_offers_a_human_the_second_time_in_a_row():
    first, _ = await run(ActionFallback(), tracker("asdf", "nlu_fallback"))
    assert responses(first) == ["utter_rephrase"]
    second, _ = await run(ActionFallback(), tracker(
        "qwer", "nlu_fallback", events_before=[user_event("asdf", "nlu_fallback")]))
    assert responses(second) == ["utter_offer_handover"]
    third, _ = await run(ActionFallback(), tracker(
        "qwer", "nlu_fallback",
        events_before=[user_event("asdf", "nlu_fallback"), user_event("hallo", "greet")]))
    assert responses(third) == ["utter_rephrase"]


def test_consecutive_fallbacks_counts_only_the_latest_run():
    trk = tracker("c", "nlu_fallback", events_before=[
        user_event("a", "nlu_fallback"), user_event("b", "greet"), user_event("x", "nlu_fallback")])
    assert state_of(trk).consecutive_fallbacks == 2


def test_every_custom_action_is_in_the_domain_and_registered():
    from rasa_sdk.executor import ActionExecutor
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in DOMAIN["actions"]}
    assert custom <= set(executor.actions), custom - set(executor.actions)
    assert not any("Mailhilfe" in name for name in executor.actions)


async def test_no_action_echoes_the_customers_words():
    secret = "Geheimwort4711xyz"
    cases = [
        (ActionStartWalkthrough(), dict(topic="setup_client", client="other", protocol="imap")),
        (ActionStartWalkthrough(), dict(topic="receive_problem")),
        (ActionStartWalkthrough(), dict()),
        (ActionExplainBounce(), dict()),
        (ActionAnswerKb(), dict()),
        (ActionHandover(), dict(topic="login_problem")),
        (ActionFallback(), dict()),
        (ActionWalkthroughAnswer(), dict()),
    ]
    for action, slots in cases:
        for intent in ("report_bounce", "nlu_fallback", "password_rules", "affirm"):
            text = f"554 Relay access denied mein Passwort ist {secret}"
            msgs, events = await run(action, tracker(text, intent, **slots))
            assert secret not in rendered(msgs) and secret not in repr(msgs), action.name()
            assert secret not in repr(events), action.name()
