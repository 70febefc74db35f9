"""Agent assist: quoted history, signatures and greetings are stripped from e-mails."""
import pytest

from bot.assist.cleaning import clean_message

NEW_TEXT = "Seit gestern kann ich mit Outlook keine E-Mails mehr senden."


@pytest.mark.parametrize(
    "history",
    [
        "Am 04.03.2024 um 10:12 schrieb DOKOM21 Support <support@dokom21.de>:\n> Guten Tag,\n> bitte prüfen Sie ...",
        "Am Mo., 4. März 2024 um 10:12 Uhr schrieb Support <\nsupport@dokom21.de>:\n\nalter Text ohne Zitatzeichen",
        "On Mon, 4 Mar 2024 at 10:12, Support <support@dokom21.de> wrote:\nold text",
        "-----Original Message-----\nFrom: Support\nSent: Monday\nold text",
        "-----Ursprüngliche Nachricht-----\nVon: Support\nGesendet: Montag\nalter Text",
        "________________________________\nVon: DOKOM21 Support <support@dokom21.de>\nGesendet: Montag, 4. März 2024 10:12\nAn: Kunde\nBetreff: AW: Outlook\n\nalter Text",
        "Gesendet: Montag, 04. März 2024 um 10:12 Uhr\nVon: \"Support\" <support@dokom21.de>\nAn: kunde@dokom.net\nBetreff: Ihre Anfrage\nalter Text",
        "-------- Weitergeleitete Nachricht --------\nBetreff: Test\nalter Text",
    ],
)
def test_quoted_history_is_removed(history):
    cleaned = clean_message(f"{NEW_TEXT}\n\n{history}\n")
    assert cleaned.body == NEW_TEXT
    assert cleaned.history_removed


def test_quoted_lines_are_removed_but_interleaved_answers_stay():
    text = "> Welches Programm nutzen Sie?\nOutlook 2016\n> Und welches Protokoll?\nIMAP"
    cleaned = clean_message(text)
    assert cleaned.body == "Outlook 2016\nIMAP"
    assert cleaned.history_removed


@pytest.mark.parametrize(
    "signature, name",
    [
        ("Mit freundlichen Grüßen\nMax Mustermann\nMusterstraße 1\n44135 Dortmund", "Max Mustermann"),
        ("Viele Grüße\n\nErika Musterfrau", "Erika Musterfrau"),
        ("MfG\nKlaus", "Klaus"),
        ("Gruß Peter", "Peter"),
        ("Danke und viele Grüße,\nAnna Schmidt", "Anna Schmidt"),
        ("-- \nMax Mustermann\nTel. 0231 123456", None),
        ("Gesendet von meinem iPhone", None),
        ("Von meinem Samsung Galaxy Smartphone gesendet", None),
        ("Sent from my iPad", None),
    ],
)
def test_signature_is_removed_and_name_found(signature, name):
    cleaned = clean_message(f"Hallo,\n\n{NEW_TEXT}\n\n{signature}")
    assert cleaned.body == NEW_TEXT
    assert cleaned.signature_removed
    assert cleaned.sender_name == name


def test_greeting_line_is_removed_but_text_after_comma_kept():
    assert clean_message("Sehr geehrte Damen und Herren,\n\nich habe ein Problem.").body == "ich habe ein Problem."
    assert clean_message("Hallo, mein Outlook sendet seit gestern nichts mehr.").body == \
        "mein Outlook sendet seit gestern nichts mehr."


def test_plain_text_is_unchanged():
    cleaned = clean_message("Welcher Port für IMAP mit SSL?")
    assert cleaned.body == "Welcher Port für IMAP mit SSL?"
    assert not (cleaned.history_removed or cleaned.signature_removed or cleaned.greeting_removed)


def test_customer_sentence_with_am_and_colon_is_not_history():
    text = "Am Freitag hat Outlook folgende Meldung gebracht:\n554 Relay access denied"
    assert clean_message(text).body == text


def test_crlf_is_normalised():
    cleaned = clean_message("Hallo,\r\n\r\nPostfach voll?\r\n\r\nGruß\r\nMax")
    assert cleaned.body == "Postfach voll?"
    assert cleaned.sender_name == "Max"


def test_header_block_of_a_raw_message_is_dropped():
    raw = ("Return-Path: <>\nReceived: from mx.example.org (mx.example.org [192.0.2.1])\n"
           "\tby smtp1.dokom.net\nFrom: Mail Delivery System <MAILER-DAEMON@smtp1.dokom.net>\n"
           "Date: Sat, 04 Oct 2008 12:37:04 +0200\nSubject: Mail delivery failed\n\n"
           "A message that you sent could not be delivered.\n554 Relay access denied")
    assert clean_message(raw).body == "A message that you sent could not be delivered.\n554 Relay access denied"


def test_two_header_like_lines_are_not_a_raw_message():
    text = "Server: imap.dokom.net\nPort: 993\n\nGeht trotzdem nicht."
    assert clean_message(text).body == text
