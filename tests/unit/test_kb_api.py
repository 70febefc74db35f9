"""The typed look-up API of bot.kb (what actions, web app and agent assist call)."""

from __future__ import annotations

import pytest

from bot.kb import (
    BounceArticle, Contact, Contradiction, Guide, Info, KnowledgeBase, Limits, PortOption, Problem,
    Procedure, Server, get_kb,
)
from bot.kb import schema

CLIENTS = ["outlook", "thunderbird", "apple_mail", "windows_mail", "other"]
PROTOCOLS = ["imap", "pop3", "smtp"]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return get_kb()


def test_server_returns_typed_server(kb):
    server = kb.server("imap")
    assert isinstance(server, Server)
    assert all(isinstance(o, PortOption) and isinstance(o.port, int) for o in server.options)
    assert kb.server("POP3") is kb.server("pop3")  # case-insensitive
    assert kb.server("pop") is kb.server("pop3")


def test_server_unknown_protocol_raises_keyerror(kb):
    with pytest.raises(KeyError):
        kb.server("ftp")


def test_ports_filter_by_encryption(kb):
    assert [o.port for o in kb.ports("smtp", "starttls")] == [587, 25]
    assert [o.port for o in kb.ports("smtp", "ssl_tls")] == [465]
    assert [o.port for o in kb.ports("imap", "none")] == [143]
    assert kb.ports("smtp", "SSL/TLS") == kb.ports("smtp", "ssl_tls")
    assert len(kb.ports("smtp")) == 4


def test_recommended_port(kb):
    assert kb.recommended_port("imap").port == 993
    assert kb.recommended_port("pop3").port == 995
    assert kb.recommended_port("smtp").port == 465
    assert kb.recommended_port("smtp", "starttls").port == 587
    assert kb.recommended_port("smtp", "none").recommended is False


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_guide_for_every_client_and_protocol(kb, client, protocol):
    guide = kb.guide(client, protocol)
    assert isinstance(guide, Guide)
    assert guide.id == f"guide_{client}_{protocol}"
    assert guide.client == client and guide.protocol == protocol
    assert guide.step_groups and all(group.steps for group in guide.step_groups)
    assert guide.source and guide.keywords


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_webagent_has_one_guide(kb, protocol):
    assert kb.guide("webagent", protocol).id == "guide_webagent"


def test_guide_accepts_aliases(kb):
    assert kb.guide("Outlook 2016", "imap").id == "guide_outlook_imap"
    assert kb.guide("thunderbird", "POP3").id == "guide_thunderbird_pop3"


def test_guide_unknown_client_raises(kb):
    with pytest.raises(KeyError):
        kb.guide("lotus notes", "imap")
    with pytest.raises(KeyError):
        kb.guide("outlook", "ftp")


def test_guides_for_lists_variants(kb):
    ids = {g.id for g in kb.guides_for("outlook")}
    assert {"guide_outlook_controlpanel", "guide_outlook_check_imap", "guide_outlook_check_pop3",
            "guide_outlook_auto_setup"} <= ids


def test_guide_outgoing_options_come_with_recommendation(kb):
    options = {(o.port, o.encryption): o for o in kb.guide("outlook", "imap").outgoing.options}
    assert options[(465, "ssl_tls")].recommended is True
    assert options[(25, "none")].recommended is False


@pytest.mark.parametrize("text, expected", [
    ("Ich nutze Outlook 2016", "outlook"),
    ("MS Outlook", "outlook"),
    ("outlok", "outlook"),
    ("Thunderbird", "thunderbird"),
    ("thunderbrid", "thunderbird"),
    ("Mail auf dem Mac", "apple_mail"),
    ("Apple Mail", "apple_mail"),
    ("die Mail-App von Windows 10", "windows_mail"),
    ("Windows Mail", "windows_mail"),
    ("auf meinem iPhone", "other"),
    ("Android Handy", "other"),
    ("im Webmail", "webagent"),
    ("Webagent", "webagent"),
])
def test_resolve_client(kb, text, expected):
    assert kb.resolve_client(text) == expected


@pytest.mark.parametrize("text", ["", "hallo", "Mail", "12345", "Ich habe ein Problem"])
def test_resolve_client_none(kb, text):
    assert kb.resolve_client(text) is None


def test_clients_contract_values(kb):
    ids = [c.id for c in kb.clients()]
    assert ids[:5] == CLIENTS and "webagent" in ids
    assert kb.client("webagent").contract is False


def test_article_lookup_and_types(kb):
    assert isinstance(kb.article("problem_mailbox_full"), Problem)
    assert isinstance(kb.article("proc_change_password"), Procedure)
    assert isinstance(kb.article("info_smtp_auth"), Info)
    assert isinstance(kb.article("contact_support"), Contact)
    with pytest.raises(KeyError):
        kb.article("nope")
    with pytest.raises(KeyError):
        kb.problem("proc_change_password")  # exists, but is not a problem


def test_problem_steps_have_questions(kb):
    problem = kb.problem("problem_not_receiving")
    assert len(problem.steps) == 4
    assert all(step.text for step in problem.steps)
    assert any(step.question for step in problem.steps)


@pytest.mark.parametrize("category", schema.BOUNCE_CATEGORIES)
def test_bounce_article_for_every_category(kb, category):
    article = kb.bounce_article(category)
    assert isinstance(article, BounceArticle)
    assert article.id == f"bounce_{category}" and article.category == category
    assert article.steps and article.explanation


def test_bounce_article_unknown_category(kb):
    with pytest.raises(KeyError):
        kb.bounce_article("nonsense")


def test_limits_contact_contradictions_types(kb):
    assert isinstance(kb.limits, Limits)
    assert isinstance(kb.contact, Contact) and kb.contact.id == "contact_support"
    assert kb.portal.url == "www.service.dokom.net"
    assert kb.contradictions and all(isinstance(c, Contradiction) for c in kb.contradictions)
    assert kb.contradiction("password_special_chars").safe_answer


def test_articles_for_intent(kb):
    ids = {a.id for a in kb.articles_for_intent("mailbox_full")}
    assert "problem_mailbox_full" in ids
    for intent in ("max_message_size", "password_rules", "address_rules", "create_address",
                   "delete_address", "change_password", "setup_forwarding", "forwarding_to_mailbox",
                   "activation_delay", "imap_folders", "pop3_leave_copy", "spam_problem", "phishing",
                   "virus_filter", "smtp_auth_info", "domain_authentication", "fax_attachment",
                   "report_bounce", "send_problem", "receive_problem", "login_problem",
                   "ask_server_settings", "setup_client"):
        assert kb.articles_for_intent(intent), intent


def test_related_ids_resolve(kb):
    for article in kb.articles():
        for ref in article.related:
            assert kb.has_article(ref), (article.id, ref)


@pytest.mark.parametrize("local_part, valid", [
    ("max.mustermann", True), ("a_b-c", True), ("abcd", False), ("a" * 30, True), ("a" * 31, False),
    ("max mustermann", False), ("müller", False), ("max+news", False),
])
def test_address_rules(kb, local_part, valid):
    assert kb.limits.address_is_valid(local_part) is valid


@pytest.mark.parametrize("password, safe", [
    ("Abc12345", True), ("Abc1234", False), ("Abcdefgh12345", False), ("Ab#~!;,.", True),
    ("Abc$1234", False), ("Abc§1234", False), ("Abc°1234", False), ("Abc 1234", False), ("Abc@1234", False),
])
def test_password_safe(kb, password, safe):
    assert kb.limits.password_is_safe(password) is safe


@pytest.mark.parametrize("text,expected", [
    ("Postausgangsserverport?", "smtp"),
    ("Wie heisst der Server fuer ausgehende Mails", "smtp"),
    ("Posteingangsserver", None),  # IMAP or POP3: not one server
    ("Posteingang und Postausgang", None),
    ("Mein Postfach ist voll", None),
    ("", None),
    (None, None),
])
def test_protocol_named_by_the_server_word(kb, text, expected):
    assert kb.protocol_named_in(text) == expected
