"""Agent assist: the suggested German reply, with facts from the KB and marked gaps."""
from bot.assist.config import get_config
from bot.assist.reply import ReplyComposer, Topic

from assist_fakes import make_kb

KB = make_kb()
CONFIG = get_config()
GAP_CLIENT = CONFIG.texts["gaps"]["client"]
GAP_PROTOCOL = CONFIG.texts["gaps"]["protocol"]


def compose(*topics, **kwargs):
    return ReplyComposer(KB, CONFIG).compose(list(topics), **kwargs)


def test_setup_with_known_client_and_protocol_has_steps_and_settings_and_no_gaps():
    reply = compose(Topic("Wie richte ich Outlook mit IMAP ein?", "setup_client", 0.95,
                          {"client": "outlook", "protocol": "imap"}), sender_name="Max Mustermann")
    text = reply.text
    assert text.startswith("Guten Tag Max Mustermann,")
    assert "Microsoft Outlook mit IMAP" in text
    assert "1. Öffnen Sie Outlook." in text
    assert "imap.dokom.net" in text and "Port 993" in text and "smtp.dokom.net" in text
    assert "Wichtig: Die Option SPA darf nicht aktiviert sein." in text
    assert GAP_CLIENT not in text and GAP_PROTOCOL not in text
    assert "Mit freundlichen Grüßen" in text
    assert reply.gaps == [CONFIG.texts["gaps"]["agent_name"]]


def test_setup_without_client_and_protocol_marks_both_gaps_and_lists_both_servers():
    reply = compose(Topic("Wie richte ich mein Postfach ein?", "setup_client", 0.9, {}))
    assert GAP_CLIENT in reply.text and GAP_PROTOCOL in reply.text
    assert GAP_CLIENT in reply.gaps and GAP_PROTOCOL in reply.gaps
    assert "imap.dokom.net" in reply.text and "pop3.dokom.net" in reply.text
    assert reply.text.startswith("Guten Tag,")


def test_setup_with_protocol_but_no_client_uses_generic_guide():
    reply = compose(Topic("POP3 einrichten", "setup_client", 0.9, {"protocol": "pop3"}))
    assert GAP_CLIENT in reply.text
    assert GAP_PROTOCOL not in reply.text
    assert "Ihr Programm mit POP3" not in reply.text  # the title is not repeated
    assert "pop3.dokom.net" in reply.text and "imap.dokom.net" not in reply.text


def test_server_settings_for_one_encryption_only():
    reply = compose(Topic("Welcher Port für IMAP mit SSL?", "ask_server_settings", 0.9,
                          {"protocol": "imap", "encryption": "ssl_tls"}))
    assert "Port 993 – SSL/TLS" in reply.text
    assert "Port 143" not in reply.text


def test_mailbox_full_depends_on_protocol():
    pop3 = compose(Topic("Postfach voll", "mailbox_full", 0.9, {"protocol": "pop3"})).text
    imap = compose(Topic("Postfach voll", "mailbox_full", 0.9, {"protocol": "imap"})).text
    unknown = compose(Topic("Postfach voll", "mailbox_full", 0.9, {}))
    assert "300 MB" in pop3 and "Kopie aller Nachrichten auf dem Server belassen" in pop3
    assert "Papierkorb auf dem Server" in imap and "Kopie aller Nachrichten" not in imap
    assert GAP_PROTOCOL in unknown.gaps


def test_bounce_reply_explains_and_fixes():
    bounce = {"category": "relay_denied", "article_id": "bounce_relay_denied", "evidence": "Relay access denied",
              "recipients": ["xy@z.de"]}
    text = compose(Topic("554 Relay access denied", "report_bounce", 0.9, {}), bounce=bounce).text
    assert "Relay access denied" in text
    assert "xy@z.de" in text
    assert "Domain-Teil der Empfängeradresse" in text
    assert text.count("Relay access denied") >= 2  # title and evidence


def test_bounce_intent_without_bounce_text_asks_for_it():
    reply = compose(Topic("Ich bekomme Fehler 554", "report_bounce", 0.9, {"error_code": "554"}))
    assert CONFIG.texts["gaps"]["bounce_text"] in reply.gaps
    assert "nicht einfach weiter" in reply.text


def test_two_questions_get_headings_and_both_answers():
    reply = compose(
        Topic("Mein Outlook verschickt nichts. Was kann ich tun?", "send_problem", 0.9, {"client": "outlook"}),
        Topic("Wie groß darf ein Anhang sein?", "max_message_size", 0.9, {}),
    ).text
    assert "Zu Ihrer Frage „Mein Outlook verschickt nichts. Was kann ich tun?“:" in reply
    assert "Zu Ihrer Frage „Wie groß darf ein Anhang sein?“:" in reply
    assert "smtp.dokom.net" in reply and "50 MB" in reply
    assert reply.index("smtp.dokom.net") < reply.index("50 MB")


def test_same_question_twice_is_answered_once():
    topic = Topic("Wie groß darf ein Anhang sein?", "max_message_size", 0.9, {})
    reply = compose(topic, topic).text
    assert reply.count("50 MB verschicken") == 1
    assert "Zu Ihrer Frage" not in reply


def test_unclear_intent_uses_best_article_or_marks_gap():
    with_article = compose(Topic("Kennwort", "nlu_fallback", 0.2, {},
                                 [{"id": "proc_change_password", "title": "x", "score": 0.5}])).text
    assert "Kundenbereich" in with_article
    without = compose(Topic("asdf", "nlu_fallback", 0.2, {}))
    assert CONFIG.texts["gaps"]["topic"] in without.gaps


def test_password_warning_when_something_was_masked():
    reply = compose(Topic("Postfach voll", "mailbox_full", 0.9, {"protocol": "imap"}), password_masked=True)
    assert "Kennwort" in reply.text and "https://service.dokom.net" in reply.text


def test_smtp_starttls_names_587_first_and_25_only_as_the_alternative():
    from bot.kb import get_kb  # the real servers.yml, not the fake KB

    reply = ReplyComposer(get_kb(), CONFIG).compose([Topic(
        "Welcher Port für SMTP mit STARTTLS?", "ask_server_settings", 0.9,
        {"protocol": "smtp", "encryption": "starttls"})]).text
    assert "Port 587 – STARTTLS (empfohlen)" in reply
    assert "Port 25 – STARTTLS (Alternative)" in reply
    assert reply.index("Port 587") < reply.index("Port 25")
