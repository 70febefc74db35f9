"""Extraction: codes, phase, remote host, recipients, diagnostic; MIME parsing."""

from __future__ import annotations

import base64

import pytest

from bot.bounce import analyse
from bot.bounce.codes import code_matches, enhanced_codes, reply_codes, valid_code_pattern
from bot.bounce.decoding import decode_bytes, decode_header_value, html_to_text, repair_mojibake
from bot.bounce.extract import host_hits, phase_near
from bot.bounce.mime import parse
from bot.bounce.segments import clean_reply, cut_returned_message, mask_addresses


@pytest.mark.parametrize(
    "text, replies, enhanced",
    [
        ("host z.de [192.0.2.1]: 554 <xy@z.de>: Relay access denied", ["554"], []),
        ("550-5.7.26 Unauthenticated email", ["550"], ["5.7.26"]),
        ("Remote host said: 550 5.1.1 <a@b.jp>... User Unknown", ["550"], ["5.1.1"]),
        ("sorry, no mailbox here by that name (#5.1.1 - chkusr)", [], ["5.1.1"]),
        ("ERROR_CODE :550, ERROR_CODE :5.1.1 <k@e.jp>", ["550"], ["5.1.1"]),
        ("Ich habe 500 Mails und 552 Kontakte", [], []),
        ("Received: by Exim 4.86 from 192.0.2.225 version 4.2.1", [], []),
        ("Fehler 554 beim Senden", ["554"], []),
        ("Status: 2.0.0 delivered", [], ["2.0.0"]),
        ("421 4.7.0 [TSS04] Messages from 192.0.2.25 deferred - 4.16.55.1", ["421"], ["4.7.0"]),
    ],
)
def test_codes(text: str, replies: list[str], enhanced: list[str]) -> None:
    assert [h.code for h in reply_codes(text)] == replies
    assert [h.code for h in enhanced_codes(text)] == enhanced


def test_code_patterns() -> None:
    assert code_matches("5.7.6??", "5.7.606") and not code_matches("5.7.6??", "5.7.64")
    assert code_matches("?.2.2", "4.2.2") and code_matches("?.2.2", "5.2.2")
    assert code_matches("4.*.*", "4.7.650") and not code_matches("4.*.*", "5.7.1")
    assert code_matches("4??", "421") and not code_matches("4??", "550")
    assert valid_code_pattern("5.7.6??", enhanced=True) and not valid_code_pattern("5.x.1", enhanced=True)
    assert valid_code_pattern("4??", enhanced=False) and not valid_code_pattern("6xx", enhanced=False)


@pytest.mark.parametrize(
    "text, phase",
    [
        ("SMTP error from remote mail server after initial connection: host a.example [192.0.2.1]: 554 x", "connect"),
        ("host x.example[192.0.2.1] refused to talk to me: 421 Service not available", "connect"),
        ("SMTP error from remote mail server after EHLO neko.example.com: 550 Rejected", "helo"),
        ("SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=1543: 550 x", "mail_from"),
        ("<a@b.example>: host x said: 550 5.1.1 unknown (in reply to RCPT TO command)", "rcpt_to"),
        ("Remote host said: 550 5.1.1 <a@b.example>... User Unknown [RCPT_TO]", "rcpt_to"),
        ("mx [192.0.2.1] did not like our final DATA: 550 5.7.26 x", "data"),
        ("SMTP error from remote server for TEXT command, host: smtp.example (192.0.2.1) reason: 550", "data"),
        (">>> RCPT To:<a@b.example> <<< 250 ok >>> DATA <<< 554 5.7.1 rejected", "data"),
        ("SMTP-Antwort des Servers nach RCPT TO: 550 5.1.1 Benutzer unbekannt", "rcpt_to"),
    ],
)
def test_phase(text: str, phase: str) -> None:
    failure = text.find(" 5") if " 5" in text else len(text)
    found = phase_near(text, failure)
    assert found is not None and found[0] == phase


@pytest.mark.parametrize(
    "text, host",
    [
        ("host mailer.example.com [192.0.2.10]: 554 DNSBL record found", "mailer.example.com"),
        ("<a@b.example>: host mx.b.example[192.0.2.1] said: 550 5.1.1", "mx.b.example"),
        ("SMTP error from remote server for RCPT TO command, host: mx00.example.de (192.0.2.5)", "mx00.example.de"),
        ("... while talking to mx.example.co.jp.: >>> DATA", "mx.example.co.jp"),
        ("SMTP Server <smtpd.example.org> rejected recipient", "smtpd.example.org"),
    ],
)
def test_remote_host(text: str, host: str) -> None:
    assert host_hits(text)[0][1] == host


def test_delivery_status_fields_are_used() -> None:
    raw = (
        "From: MAILER-DAEMON@mta.example.net\nTo: sender@example.de\nSubject: failure\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\n\n'
        "--X\nContent-Type: text/plain\n\nDelivery failed.\n\n"
        "--X\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mta.example.net\n\n"
        "Final-Recipient: rfc822; one@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Remote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; 550 5.1.1 <one@example.org>: User unknown\n\n"
        "Final-Recipient: rfc822; two@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Remote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; 550 5.1.1 <two@example.org>: User unknown\n"
        "--X--\n"
    )
    result = analyse(raw).to_dict()
    assert result["category"] == "recipient_unknown"
    assert result["recipients"] == ["one@example.org", "two@example.org"]
    assert result["remote_host"] == "mx.example.org"
    assert result["smtp_code"] == "550" and result["enhanced_code"] == "5.1.1"
    assert result["diagnostic"] == "550 5.1.1 <one@example.org>: User unknown"


def test_sender_address_is_not_a_recipient() -> None:
    text = (
        "From: Mail Delivery System <Mailer-Daemon@smtp.example.net>\nTo: me@example.de\nSubject: Mail delivery failed\n\n"
        "The following address(es) failed:\n\n  you@example.org\n"
        "    SMTP error from remote mail server after MAIL FROM:<me@example.de> SIZE=1543:\n"
        "    host mx.example.org [192.0.2.20]: 550 5.7.1 <me@example.de>... Please use the smtp server of your ISP.\n"
    )
    result = analyse(text).to_dict()
    assert result["recipients"] == ["you@example.org"]
    assert result["phase"] == "mail_from"
    assert result["category"] == "dnsbl"


def test_status_field_gives_enhanced_code_when_text_has_none() -> None:
    raw = (
        "From: postmaster@example.net\nTo: a@example.de\nSubject: Undeliverable\n"
        'Content-Type: multipart/report; boundary="Y"\n\n--Y\nContent-Type: message/delivery-status\n\n'
        "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.2.2\n--Y--\n"
    )
    result = analyse(raw).to_dict()
    assert result["enhanced_code"] == "5.2.2"
    assert result["category"] == "recipient_mailbox_full"


def test_mime_base64_quoted_printable_and_charsets() -> None:
    body = base64.b64encode("Grund: Empfänger unbekannt, 550 5.1.1".encode("iso-8859-1")).decode()
    raw = (
        "From: MAILER-DAEMON@example.net\nSubject: =?iso-8859-1?Q?Unzustellbar=3A_Gr=FC=DFe?=\n"
        'Content-Type: multipart/mixed; boundary="Z"\n\n--Z\n'
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
        f"{body}\n--Z\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "<html><style>p {{color: red}}</style><p>Mailbox=20full</p></html>\n--Z--\n"
    )
    msg = parse(raw.encode("latin-1"))
    assert msg.header("subject") == "Unzustellbar: Grüße"
    texts = [part.text for part in msg.texts]
    assert "Empfänger unbekannt" in texts[0]
    assert "Mailbox full" in texts[1] and "color" not in texts[1]


def test_broken_boundary_is_recovered() -> None:
    raw = (
        "From: MAILER-DAEMON@example.net\nSubject: x\n"
        'Content-Type: multipart/report; boundary="declared"\n\n'
        "--actual.boundary.1\nContent-Type: text/plain\n\n550 5.1.1 user unknown\n"
        "--actual.boundary.1\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; r@example.org\n"
        "--actual.boundary.1--\n"
    )
    result = analyse(raw).to_dict()
    assert result["category"] == "recipient_unknown"
    assert result["recipients"] == ["r@example.org"]


def test_unindented_header_parameter_is_joined() -> None:
    raw = (
        "From: a@example.net\nSubject: x\nContent-Type: multipart/alternative;\n"
        'boundary="P"\n\n--P\nContent-Type: text/plain\n\nError: 550 - no such user here\n--P--\n'
    )
    assert analyse(raw).category == "recipient_unknown"


def test_raw_bounce_pasted_inside_a_report_is_read() -> None:
    inner = (
        "From MAILER-DAEMON  Thu Apr 29 23:34:45 2015\nReturn-Path: <>\nFrom: MAILER-DAEMON@relay.example.net\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\nContent-Type: text/plain\n\n"
        "<x@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <x@example.org>: User unknown\n"
    )
    outer = "From: support@example.net\nTo: a@example.de\nSubject: report\n\nThe message below could not be delivered.\n\n-----\n" + inner
    result = analyse(outer).to_dict()
    assert result["category"] == "recipient_unknown"
    assert result["recipients"] == ["x@example.org"]


def test_returned_original_message_is_ignored() -> None:
    text = (
        "This message was created automatically by mail delivery software.\n\n"
        "  a@example.org\n    host mx.example.org [192.0.2.1]\n    SMTP error from remote mail server after RCPT TO:<a@example.org>:\n"
        "    550 5.1.1 <a@example.org>: User unknown\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "Return-path: <me@example.de>\nReceived: from me by example.de\nSubject: Relay access denied? Blocked for spam? Postfach voll?\n\n"
        "Text about DNSBL, SPF and a message too large.\n"
    )
    head, tail = cut_returned_message(text)
    assert "User unknown" in head and "DNSBL" in tail
    result = analyse(text).to_dict()
    assert result["category"] == "recipient_unknown"
    assert result["alternatives"] == [] or all(a["score"] < 0.5 for a in result["alternatives"])


def test_smtp_continuation_lines_are_joined() -> None:
    folded = "550-5.7.26 This mail has been blocked because 550-5.7.26 Gmail requires all 550 5.7.26 https://x.example"
    assert clean_reply(folded) == "550-5.7.26 This mail has been blocked because Gmail requires all https://x.example"


def test_addresses_and_link_parameters_are_masked_for_rules() -> None:
    masked = mask_addresses("to mailboxfull@example.org see https://h.example/dnsbl-lookup.cgi?ip=192.0.2.1 ok")
    assert "mailboxfull" not in masked and "dnsbl-lookup.cgi" in masked and "ip=" not in masked
    assert len(masked) == len("to mailboxfull@example.org see https://h.example/dnsbl-lookup.cgi?ip=192.0.2.1 ok")
    # a local part must not decide the category
    assert analyse("550 5.1.1 <mailboxfull@example.org>: User unknown").category == "recipient_unknown"


def test_decoding_helpers() -> None:
    assert decode_bytes("Größe".encode("utf-8"), "iso-8859-1") == "Größe"  # mislabelled UTF-8
    assert decode_bytes("Größe".encode("cp1252"), "utf-8") == "Größe"
    assert decode_bytes(b"\xff\xfe\x00abc", "no-such-charset")  # never raises
    assert decode_header_value("=?utf-8?B?R3LDvMOfZQ==?=") == "Grüße"
    assert decode_header_value("=?bogus?B?***?=")  # broken word stays readable
    assert repair_mojibake("EmpfÃ¤nger") == "Empfänger"
    assert "x" in html_to_text("<p>x</p><script>alert(1)</script>") and "alert" not in html_to_text("<script>alert(1)")


def test_long_diagnostic_is_shortened_around_the_evidence() -> None:
    text = "Mail delivery failed. " + "Lorem ipsum dolor sit amet. " * 40 + "550 5.1.1 <a@example.org>: User unknown " + "tail " * 200
    result = analyse(text).to_dict()
    assert result["diagnostic"].startswith("550 5.1.1")
    assert len(result["diagnostic"]) <= 402


def test_rejection_while_connecting_points_to_the_sending_server() -> None:
    text = (
        "Mail delivery failed: returning message to sender\n\n  a@example.com\n"
        "    host mx.example.com [192.0.2.9]\n    SMTP error from remote mail server after EHLO out.example.net:\n"
        "    550 Rejected\n"
    )
    result = analyse(text).to_dict()
    assert (result["category"], result["phase"], result["evidence"]) == ("dnsbl", "helo", "after EHLO")
    assert result["confidence"] < 0.6  # only the phase speaks for it
