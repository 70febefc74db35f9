"""bot.dialogue.walkthrough: plans from the KB and the yes/no state machine."""

from __future__ import annotations

import pytest

from bot.dialogue import walkthrough as w
from bot.dialogue.walkthrough import CHECK, DO, Plan, Progress, Stage
from bot.kb import get_kb

from dialogue_support import CLIENT_PROTOCOLS, CLIENTS

KB = get_kb()

PLAN = Plan("setup_client", "guide_x", (
    Stage("guide_x", DO, "Eins", lines=("a",)),
    Stage("guide_x", DO, "Zwei", lines=("b",)),
))
CHECKLIST = Plan("receive_problem", "problem_x", (
    Stage("problem_x", CHECK, "P", text="Firewall prüfen"),
    Stage("problem_x", CHECK, "P", text="Webagent prüfen"),
))


def test_ja_after_an_instruction_shows_the_next_one():
    outcome = w.answer(PLAN, Progress(), affirmed=True)
    assert outcome.kind == w.NEXT and outcome.stage.title == "Zwei" and outcome.progress.step == 1


def test_ja_after_the_last_instruction_finishes():
    assert w.answer(PLAN, Progress(step=1), affirmed=True).kind == w.DONE


def test_first_nein_gives_hints_and_repeats_the_stage():
    outcome = w.answer(PLAN, Progress(step=1), affirmed=False)
    assert outcome.kind == w.RETRY and outcome.stage.title == "Zwei"
    assert outcome.progress.failed_attempts == 1 and outcome.progress.steps_tried == ("Zwei",)


def test_second_failed_attempt_hands_over():
    outcome = w.answer(PLAN, Progress(step=1, failed_attempts=1, steps_tried=("Zwei",)), False)
    assert outcome.kind == w.HANDOVER and outcome.progress.failed_attempts == w.MAX_FAILED_ATTEMPTS
    assert outcome.progress.steps_tried == ("Zwei",)


def test_failed_attempts_count_across_stages():
    progress = w.answer(PLAN, Progress(step=0), False).progress
    progress = w.answer(PLAN, progress, True).progress
    assert w.answer(PLAN, progress, False).kind == w.HANDOVER


def test_ja_after_a_fix_means_solved():
    assert w.answer(CHECKLIST, Progress(), affirmed=True).kind == w.SOLVED


def test_nein_after_a_fix_tries_the_next_and_remembers_it():
    outcome = w.answer(CHECKLIST, Progress(), affirmed=False)
    assert outcome.kind == w.NEXT and outcome.stage.text == "Webagent prüfen"
    assert outcome.progress.steps_tried == ("Firewall prüfen",)


def test_nein_after_the_last_fix_hands_over():
    outcome = w.answer(CHECKLIST, Progress(step=1, steps_tried=("Firewall prüfen",)), False)
    assert outcome.kind == w.HANDOVER
    assert outcome.progress.steps_tried == ("Firewall prüfen", "Webagent prüfen")


def test_position_beyond_the_plan_is_safe():
    assert w.answer(CHECKLIST, Progress(step=9), True).kind == w.SOLVED
    assert w.answer(CHECKLIST, Progress(step=9), False).kind == w.HANDOVER


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
def test_setup_plan_is_the_guide_of_exactly_that_client_and_protocol(client, protocol):
    plan = w.build_plan(KB, "setup_client", client=client, protocol=protocol)
    guide = KB.guide(client, protocol)
    assert plan.article_id == guide.id == f"guide_{client}_{protocol}"
    assert [s.title for s in plan.stages] == [g.title for g in guide.step_groups if g.steps]
    assert all(s.kind == DO and s.lines for s in plan.stages)
    assert plan.stages[-1].number == plan.stages[-1].total == len(plan.stages)


@pytest.mark.parametrize("client", CLIENTS)
def test_send_plan_checks_the_clients_outgoing_server_then_the_checklist(client):
    plan = w.build_plan(KB, "send_problem", client=client)
    smtp_guide = KB.guide(client, "smtp")
    assert plan.stages[0].article_id == smtp_guide.id
    assert plan.stages[-1].article_id == "problem_send_fails"
    assert plan.stages[len(smtp_guide.step_groups) - 1].kind == CHECK
    assert not any(s.text.endswith("?") for s in plan.stages)


def test_mailbox_full_with_pop3_starts_with_stop_keeping_copies():
    plan = w.build_plan(KB, "mailbox_full", client="outlook", protocol="pop3")
    assert [s.article_id for s in plan.stages] == ["proc_pop3_leave_copy", "problem_mailbox_full"]
    assert all(s.kind == DO for s in plan.stages)
    assert any("Kopie aller Nachrichten auf dem Server belassen" in line
               for line in plan.stages[0].lines)
    assert not any("IMAP" in line for s in plan.stages for line in s.lines)
    assert [(s.number, s.total) for s in plan.stages] == [(1, 2), (2, 2)]


def test_mailbox_full_with_pop3_adds_the_notes_for_the_customers_program():
    thunderbird = w.build_plan(KB, "mailbox_full", client="thunderbird", protocol="pop3")
    outlook = w.build_plan(KB, "mailbox_full", client="outlook", protocol="pop3")
    assert any("Thunderbird" in line for line in thunderbird.stages[0].lines)
    assert not any("Thunderbird" in line for line in outlook.stages[0].lines)


def test_mailbox_full_with_imap_deletes_and_expunges():
    plan = w.build_plan(KB, "mailbox_full", protocol="imap")
    assert len(plan.stages) == 1, "the whole fix at once, not one step per question"
    texts = " ".join(plan.stages[0].lines)
    assert "Webagent" in texts and "Papierkorb" in texts and "Expunge" in texts
    assert "POP3" not in texts


@pytest.mark.parametrize("topic,text,expected", [
    ("login_problem", "Ihre DOKOM21-Kontoeinstellungen sind veraltet", "problem_settings_outdated"),
    ("login_problem", "Wir konnten auf dieses Konto nicht zugreifen", "problem_windows_mail_no_access"),
    ("login_problem", "Mein Passwort wird nicht angenommen", "problem_login"),
    ("receive_problem", "Ich bekomme keine Mails mehr", "problem_not_receiving"),
])
def test_the_customers_words_choose_the_checklist(topic, text, expected):
    assert w.choose_problem(KB, topic, text) == expected


def test_checklists_leave_out_pure_questions():
    plan = w.build_plan(KB, "send_problem", client="other")
    assert "Kommt eine Fehlermeldung" not in " ".join(s.text for s in plan.stages)


def test_topics_without_walkthrough_have_no_plan():
    assert w.build_plan(KB, "ask_server_settings", protocol="imap") is None
    assert w.build_plan(KB, None) is None
