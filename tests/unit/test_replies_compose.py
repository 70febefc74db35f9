"""bot.replies: answers composed from the real knowledge base and domain templates."""

from __future__ import annotations

import re

import pytest

from bot.dialogue.handover import HandoverCase
from bot.dialogue.topics import ONE_SHOT_ARTICLES
from bot.dialogue.walkthrough import build_plan
from bot.kb import get_kb, schema
from bot.replies import Composer, Message, TemplateError, Templates, get_templates

from dialogue_support import CLIENT_PROTOCOLS, CLIENTS, ENCRYPTIONS, PROTOCOLS

KB = get_kb()
COMPOSER = Composer(KB)
HTML = re.compile(r"<[a-zA-Z/][^>]*>")


def text(message: Message) -> str:
    rendered = COMPOSER.render(message)
    assert "{" not in rendered and "}" not in rendered, rendered
    assert not HTML.search(rendered), "only the Markdown subset, no HTML"
    return rendered


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
def test_settings_name_the_servers_and_ports_of_the_kb(client, protocol):
    rendered = text(COMPOSER.settings(client, protocol))
    incoming, outgoing = KB.server(protocol), KB.server("smtp")
    assert f"`{incoming.host}`" in rendered and f"`{outgoing.host}`" in rendered
    guide = KB.guide(client, protocol)
    options = guide.incoming.options if guide.incoming and guide.incoming.options \
        else incoming.options
    assert options
    for option in options:
        assert f"`{option.port}`" in rendered
    assert "SMTP-Authentifizierung" in rendered
    for pitfall in guide.pitfalls:
        assert pitfall in rendered


def test_settings_for_outlook_warn_about_spa():
    assert "SPA" in text(COMPOSER.settings("outlook", "imap"))


def test_settings_for_unknown_program_are_the_generic_ones():
    message = COMPOSER.settings("other", "imap")
    assert message.response == "utter_settings_generic"
    assert "`imap.dokom.net`" in text(message)


@pytest.mark.parametrize("client", CLIENTS)
def test_smtp_settings_show_only_the_outgoing_server(client):
    rendered = text(COMPOSER.settings(client, "smtp"))
    assert "`smtp.dokom.net`" in rendered
    assert "imap.dokom.net" not in rendered and "pop3.dokom.net" not in rendered


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("encryption", ENCRYPTIONS)
def test_port_answer_lists_exactly_the_kb_ports(protocol, encryption):
    rendered = text(COMPOSER.server_settings(protocol, encryption))
    expected = {o.port for o in KB.ports(protocol, encryption)}
    listed = {int(p) for p in re.findall(r"Port `(\d+)`", rendered)}
    assert listed == expected
    assert f"`{KB.server(protocol).host}`" in rendered


def test_smtp_with_starttls_is_587_or_25_and_never_465():
    rendered = text(COMPOSER.server_settings("smtp", "starttls"))
    assert "`587`" in rendered and "`25`" in rendered and "465" not in rendered


def test_imap_with_ssl_is_993():
    rendered = text(COMPOSER.server_settings("imap", "ssl_tls"))
    assert "`993`" in rendered and "`imap.dokom.net`" in rendered and "143" not in rendered


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_server_settings_without_encryption_list_all_options(protocol):
    rendered = text(COMPOSER.server_settings(protocol))
    for option in KB.ports(protocol):
        assert f"`{option.port}`" in rendered


@pytest.mark.parametrize("intent,ids", sorted(ONE_SHOT_ARTICLES.items()))
def test_every_one_shot_article_exists_and_renders(intent, ids):
    assert KB.has_article(ids[0]), f"{intent}: KB lacks {ids[0]}"
    rendered = text(COMPOSER.article(ids[0]))
    assert KB.article(ids[0]).title in rendered


def test_procedures_end_with_the_activation_delay():
    rendered = text(COMPOSER.article("proc_create_address"))
    assert "www.service.dokom.net" in rendered
    assert "2 Stunden" in rendered


def test_mailbox_quota_names_300_mb_and_the_consequence():
    rendered = text(COMPOSER.mailbox_quota())
    assert "300 MB" in rendered and KB.limits.mailbox_full_consequence in rendered


@pytest.mark.parametrize("category", schema.BOUNCE_CATEGORIES)
def test_every_bounce_category_is_explained_with_steps(category):
    rendered = text(COMPOSER.bounce(category, ("554", "5.7.1")))
    article = KB.bounce_article(category)
    assert article.title in rendered and "(Fehlercode 554, 5.7.1)" in rendered
    assert rendered.count("\n1. ") == 1


@pytest.mark.parametrize("category,fact", [
    ("dnsbl", "SMTP Fehler 554"),
    ("dnsbl", "support@dokom21.de"),
    ("relay_denied", "@"),
    ("nul_characters", "Webagent"),
    ("sender_auth", "SPF"),
    ("spam_content", "Empfänger"),
])
def test_bounce_fixes_contain_the_faq_solution(category, fact):
    assert fact in text(COMPOSER.bounce(category))


def test_bounce_codes_that_are_not_status_codes_are_never_shown():
    rendered = text(COMPOSER.bounce("unknown", ("<script>", "554")))
    assert "<script>" not in rendered and "554" in rendered


@pytest.mark.parametrize("client,protocol", CLIENT_PROTOCOLS)
def test_every_setup_stage_renders(client, protocol):
    plan = build_plan(KB, "setup_client", client=client, protocol=protocol)
    for stage in plan.stages:
        rendered = text(COMPOSER.stage(stage))
        assert stage.title in rendered and "Hat das geklappt?" in rendered
        assert text(COMPOSER.retry(stage))


def test_handover_summary_names_the_case():
    case = HandoverCase(topic="send_problem", client="thunderbird", protocol="pop3",
                        error_code="554", steps_tried=("Postausgang prüfen",))
    message, summary = COMPOSER.handover(case)
    rendered = text(message)
    for fact in ("Mozilla Thunderbird", "POP3", "554", "Postausgang prüfen",
                 "support@dokom21.de"):
        assert fact in summary or fact in rendered
    assert summary in rendered


def test_handover_for_bounces_asks_for_a_screenshot_not_forwarding():
    message, _ = COMPOSER.handover(HandoverCase(topic="report_bounce", bounce_category="dnsbl"))
    rendered = text(message)
    assert "Screenshot" in rendered and "SMTP Fehler 554" in rendered
    assert "nicht einfach weiter" in rendered


def test_handover_with_nothing_known_says_so():
    _, summary = COMPOSER.handover(HandoverCase())
    assert summary.count("nicht angegeben") == 3 and "noch nichts" in summary


def test_templates_fail_loudly_on_missing_values_and_responses():
    templates = Templates({"utter_x": [{"text": "Port {port}"}]})
    assert templates.text("utter_x", port=993) == "Port 993"
    with pytest.raises(TemplateError):
        templates.text("utter_x")
    with pytest.raises(TemplateError):
        templates.text("utter_missing")


def test_every_domain_response_is_a_single_text_variant():
    templates = get_templates()
    from dialogue_support import DOMAIN
    for name, variants in DOMAIN["responses"].items():
        assert templates.has(name), name
        assert len(variants) == 1, f"{name}: agent assist renders the first variant only"
