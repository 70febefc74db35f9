"""details_form validation, the protocol question and the global slot validation."""

from __future__ import annotations

import pytest

from actions.forms import (
    ActionAskProtocol, ValidateDetailsForm, canonical_client, canonical_encryption,
    canonical_protocol,
)
from actions.slots import ValidateSlotMappings
from rasa_sdk.executor import CollectingDispatcher

from dialogue_support import CLIENTS, DOMAIN, entity, responses, run, slot_changes, tracker

FORM = "details_form"


def slot_event(name, value):
    return {"event": "slot", "name": name, "value": value, "timestamp": 0}


async def validate(text, intent, *, entities=(), filled=(), **slots):
    """Run validate_details_form after a user message that set the ``filled`` slots."""
    trk = tracker(text, intent, entities=entities, active_loop=FORM,
                  events_after=[slot_event(k, v) for k, v in filled], **slots)
    for name, value in filled:
        trk.slots[name] = value
    return await run(ValidateDetailsForm(), trk)


@pytest.mark.parametrize("topic,slots,expected", [
    ("setup_client", {}, ["client", "protocol"]),
    ("ask_server_settings", {}, ["protocol"]),
    ("send_problem", {}, ["client"]),
    ("mailbox_full", {}, ["protocol"]),
    ("mailbox_full", {"protocol": "pop3"}, ["protocol", "client"]),
    ("mailbox_full", {"protocol": "imap"}, ["protocol"]),
    ("receive_problem", {}, []),
    ("login_problem", {}, []),
    ("report_bounce", {}, []),
    (None, {}, []),
])
async def test_required_details_depend_on_the_topic(topic, slots, expected):
    trk = tracker("x", "inform", topic=topic, **slots)
    got = await ValidateDetailsForm().required_slots(
        ["client", "protocol"], CollectingDispatcher(), trk, DOMAIN)
    assert got == expected


async def test_form_asks_for_the_client_first_in_a_setup():
    _, events = await validate("Outlook einrichten", "setup_client", topic="setup_client")
    assert slot_changes(events).get("requested_slot", "client") == "client"


async def test_form_finishes_when_a_topic_needs_nothing():
    _, events = await validate("keine Mails", "receive_problem", topic="receive_problem")
    assert slot_changes(events) == {"requested_slot": None}


@pytest.mark.parametrize("client", CLIENTS)
async def test_button_answers_are_accepted(client):
    msgs, events = await validate(f'/inform{{"client": "{client}"}}', "inform",
                                  entities=[entity("client", client)],
                                  filled=[("client", client)], topic="send_problem",
                                  requested_slot="client")
    assert slot_changes(events)["client"] == client and msgs == []


@pytest.mark.parametrize("typed,expected", [
    ("Outlook 2016", "outlook"), ("thunderbird", "thunderbird"), ("Mac Mail", "apple_mail"),
    ("Windows 10 Mail", "windows_mail"), ("mein iPhone", "other"),
])
async def test_typed_program_names_are_resolved_by_the_kb(typed, expected):
    _, events = await validate(typed, "inform", topic="send_problem", requested_slot="client")
    assert slot_changes(events)["client"] == expected


async def test_unknown_program_gets_generic_settings_not_a_loop():
    msgs, events = await validate("Eudora", "nlu_fallback", topic="setup_client",
                                  requested_slot="client")
    assert slot_changes(events)["client"] == "other"
    assert responses(msgs) == ["utter_client_unknown"]


async def test_unknown_program_from_an_entity_also_becomes_other():
    msgs, events = await validate("Ich nutze Pegasus", "inform",
                                  entities=[entity("client", "Pegasus")],
                                  filled=[("client", "Pegasus")], topic="setup_client",
                                  requested_slot="client")
    assert slot_changes(events)["client"] == "other"


async def test_a_long_unrelated_sentence_is_not_taken_as_program_name():
    trk = tracker("Ich habe eine ganz andere Frage zu meiner Rechnung bitte", "out_of_scope",
                  active_loop=FORM, topic="setup_client", requested_slot="client")
    assert await ValidateDetailsForm().extract_client(CollectingDispatcher(), trk, DOMAIN) == {}


@pytest.mark.parametrize("typed,expected", [("IMAP", "imap"), ("per pop", "pop3"),
                                            ("POP3 bitte", "pop3")])
async def test_typed_protocol(typed, expected):
    _, events = await validate(typed, "inform", topic="setup_client", client="outlook",
                               requested_slot="protocol")
    assert slot_changes(events)["protocol"] == expected


async def test_smtp_is_no_answer_for_a_full_mailbox():
    msgs, events = await validate("smtp", "inform", entities=[entity("protocol", "smtp")],
                                  filled=[("protocol", "smtp")], topic="mailbox_full",
                                  requested_slot="protocol")
    assert slot_changes(events)["protocol"] is None
    assert responses(msgs) == ["utter_protocol_incoming_only"]


@pytest.mark.parametrize("topic,response", [
    ("ask_server_settings", "utter_ask_protocol_any"),
    ("setup_client", "utter_ask_protocol_incoming"),
    ("mailbox_full", "utter_ask_protocol_incoming"),
])
async def test_protocol_question_fits_the_topic(topic, response):
    msgs, events = await run(ActionAskProtocol(), tracker("x", "inform", topic=topic))
    assert responses(msgs) == [response] and events == []
    buttons = DOMAIN["responses"][response][0]["buttons"]
    assert ("smtp" in str(buttons)) == (topic == "ask_server_settings")


async def test_pasted_bounce_is_flagged_whatever_the_intent():
    ndr = ("Mail delivery failed: returning message to sender\nSMTP error from remote mail "
           "server after RCPT TO:<xy@z.de>: host z.de: 554 <xy@z.de>: Relay access denied")
    _, events = await run(ValidateSlotMappings(), tracker(ndr, "receive_problem"))
    assert slot_changes(events)["bounce_pasted"] is True


async def test_flag_is_cleared_on_the_next_normal_message():
    _, events = await run(ValidateSlotMappings(), tracker("Danke!", "thank", bounce_pasted=True))
    assert slot_changes(events)["bounce_pasted"] is False
    _, events = await run(ValidateSlotMappings(), tracker("Danke!", "thank"))
    assert "bounce_pasted" not in slot_changes(events)


async def test_question_with_a_code_is_not_a_paste():
    _, events = await run(ValidateSlotMappings(), tracker("Fehler 554", "report_bounce"))
    assert "bounce_pasted" not in slot_changes(events)


async def test_entity_values_are_made_canonical_outside_forms():
    trk = tracker("Outlook 2019 mit SSL", "setup_client",
                  events_after=[slot_event("client", "Outlook 2019"),
                                slot_event("encryption", "SSL")])
    trk.slots.update(client="Outlook 2019", encryption="SSL")
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events)["client"] == "outlook"
    assert slot_changes(events)["encryption"] == "ssl_tls"


@pytest.mark.parametrize("value,expected", [
    ("outlook", "outlook"), ("Outlook Express", "outlook"), ("Webmail", "other"),
    ("Eudora", None), (None, None),
])
def test_canonical_client(value, expected):
    assert canonical_client(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("imap", "imap"), ("IMAP4", "imap"), ("POP", "pop3"), ("smtp", "smtp"), ("http", None),
])
def test_canonical_protocol(value, expected):
    assert canonical_protocol(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("ssl_tls", "ssl_tls"), ("SSL", "ssl_tls"), ("SSL/TLS", "ssl_tls"), ("STARTTLS", "starttls"),
    ("keine", "none"), ("unverschlüsselt", "none"), ("quantum", None),
])
def test_canonical_encryption(value, expected):
    assert canonical_encryption(value) == expected


async def test_the_program_name_among_several_client_entities_wins():
    trk = tracker("Ich möchte Apple Mail auf dem Mac mit IMAP einrichten", "setup_client",
                  entities=[entity("client", "apple_mail"), entity("client", "dem Mac")],
                  events_after=[slot_event("client", "dem Mac")])
    trk.slots["client"] = "dem Mac"
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events)["client"] == "apple_mail"


async def test_a_code_tagged_as_program_keeps_the_named_program():
    trk = tracker("Ich nutze Outlook mit IMAP und bekomme Fehler 554", "report_bounce",
                  entities=[entity("client", "outlook"), entity("client", "554")],
                  events_after=[slot_event("client", "554")])
    trk.slots["client"] = "554"
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events)["client"] == "outlook"


async def test_a_non_name_never_overwrites_the_known_program():
    trk = tracker("Fehler 554", "report_bounce", entities=[entity("client", "554")],
                  events_before=[slot_event("client", "thunderbird")],
                  events_after=[slot_event("client", "554")])
    trk.slots["client"] = "554"
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events)["client"] == "thunderbird"


async def test_program_named_without_entity_is_found_when_the_form_starts():
    trk = tracker("Ich möchte Apple Mail mit IMAP einrichten", "setup_client", active_loop=FORM,
                  topic="setup_client")
    got = await ValidateDetailsForm().extract_client(CollectingDispatcher(), trk, DOMAIN)
    assert got and canonical_client(got["client"]) == "apple_mail"
    unknown = tracker("Ich möchte mein Programm einrichten", "setup_client", active_loop=FORM,
                      topic="setup_client")
    assert await ValidateDetailsForm().extract_client(CollectingDispatcher(), unknown, DOMAIN) == {}


@pytest.mark.parametrize("value,expected", [("554", "554"), ("5.7.26", "5.7.26"),
                                            ("Sommer2024!", "421"), ("<b>", "421")])
async def test_error_code_slot_holds_only_status_codes(value, expected):
    trk = tracker(f"Fehler {value}", "report_bounce", entities=[entity("error_code", value)],
                  events_before=[slot_event("error_code", "421")],
                  events_after=[slot_event("error_code", value)])
    trk.slots["error_code"] = value
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events)["error_code"] == expected


@pytest.mark.parametrize("text,expected", [
    ("Ich kann keine E-Mails mehr verschicken", None),
    ("Ich möchte Apple Mail auf dem Mac einrichten", "apple_mail"),
    ("mit Windows Mail", "windows_mail"),
    ("auf dem iPhone", "other"),
    ("Outlook 2016 geht nicht", "outlook"),
])
def test_programs_in_free_text_are_matched_word_for_word(text, expected):
    from actions.forms import named_client
    assert named_client(text) == expected


async def test_no_program_is_guessed_from_a_sentence_without_one():
    trk = tracker("Ich kann keine E-Mails mehr verschicken", "send_problem", active_loop=FORM,
                  topic="send_problem")
    assert await ValidateDetailsForm().extract_client(CollectingDispatcher(), trk, DOMAIN) == {}


@pytest.mark.parametrize("text,intent,entities,before,expected", [
    ("Postausgangsserver Port bei SSL?", "ask_server_settings", [], None, "smtp"),
    ("welcher port fuer den postausgangsserver", "ask_server_settings", [], "imap", "smtp"),
    ("Server für ausgehende Mails?", "ask_server_settings", [], None, "smtp"),
    # an explicit protocol wins; other intents and the ambiguous incoming server set nothing
    ("Postausgangsserver bei IMAP?", "ask_server_settings", [entity("protocol", "imap")], None, None),
    ("Der Postausgangsserver wird nicht gefunden", "send_problem", [], None, None),
    ("Welcher Posteingangsserver?", "ask_server_settings", [], None, None),
    ("Posteingangsserver und Postausgangsserver?", "ask_server_settings", [], None, None),
    ("Postausgangsserver Port?", "ask_server_settings", [], "smtp", None),
])
async def test_the_outgoing_server_named_in_words_means_smtp(text, intent, entities, before, expected):
    trk = tracker(text, intent, entities=entities,
                  events_before=[slot_event("protocol", before)] if before else [])
    if before:
        trk.slots["protocol"] = before
    _, events = await run(ValidateSlotMappings(), trk)
    assert slot_changes(events).get("protocol") == expected
