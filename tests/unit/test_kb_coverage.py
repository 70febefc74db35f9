"""Every fact of the provider's e-mail FAQ, one by one, asserted through the bot.kb API.

Line numbers ("Z.") refer to ../shared/source/email-faq.de.txt.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pytest

from bot.kb import KnowledgeBase, get_kb

FAQ = Path(__file__).resolve().parents[3] / "shared" / "source" / "email-faq.de.txt"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return get_kb()


def text_of(kb: KnowledgeBase, article_id: str) -> str:
    """All texts of an article (title, summary, keywords, steps, pitfalls, notes ...), lower-case."""
    fields = kb.article(article_id).search_fields()
    return " \n".join(t for texts in fields.values() for t in texts).lower()


def has_option(options, port: int, encryption: str) -> bool:
    return any(o.port == port and o.encryption == encryption for o in options)


def server_option(kb, protocol: str, port: int, encryption: str):
    return next(o for o in kb.server(protocol).options if o.port == port and o.encryption == encryption)


# Each fact: (id, check). A check returns True when the KB holds the fact.
Check = Callable[[KnowledgeBase], bool]
FACTS: list[tuple[str, Check]] = [
    # -- hosts and ports (Z. 70-77, 235-251) --------------------------------------------
    ("host imap.dokom.net", lambda kb: kb.server("imap").host == "imap.dokom.net"),
    ("host pop3.dokom.net", lambda kb: kb.server("pop3").host == "pop3.dokom.net"),
    ("host smtp.dokom.net", lambda kb: kb.server("smtp").host == "smtp.dokom.net"),
    ("imap 993 SSL/TLS recommended", lambda kb: server_option(kb, "imap", 993, "ssl_tls").recommended),
    ("imap 143 STARTTLS", lambda kb: server_option(kb, "imap", 143, "starttls").recommended),
    ("imap 143 none not recommended", lambda kb: not server_option(kb, "imap", 143, "none").recommended),
    ("pop3 995 SSL/TLS recommended", lambda kb: server_option(kb, "pop3", 995, "ssl_tls").recommended),
    ("pop3 110 STARTTLS", lambda kb: server_option(kb, "pop3", 110, "starttls") is not None),
    ("pop3 110 none not recommended", lambda kb: not server_option(kb, "pop3", 110, "none").recommended),
    ("smtp 465 SSL/TLS recommended", lambda kb: server_option(kb, "smtp", 465, "ssl_tls").recommended),
    ("smtp 587 STARTTLS", lambda kb: server_option(kb, "smtp", 587, "starttls").recommended),
    ("smtp 25 STARTTLS", lambda kb: server_option(kb, "smtp", 25, "starttls") is not None),
    ("smtp 25 none not recommended", lambda kb: not server_option(kb, "smtp", 25, "none").recommended),
    ("smtp STARTTLS: 587 preferred over 25", lambda kb: [o.port for o in kb.ports("smtp", "starttls")] == [587, 25]),
    ("SSL/TLS is the first choice for every protocol",
     lambda kb: all(kb.recommended_port(p).encryption == "ssl_tls" for p in ("imap", "pop3", "smtp"))),
    ("login required for IMAP", lambda kb: kb.server("imap").authentication_required),
    ("login required for POP3", lambda kb: kb.server("pop3").authentication_required),
    ("login required for SMTP", lambda kb: kb.server("smtp").authentication_required),
    ("SSL mandatory on 465/995/993", lambda kb: kb.info("info_encryption_ports").facts["ssl_mandatory_ports"] == [465, 995, 993]),
    ("TLS optional on 25/587/110/143", lambda kb: kb.info("info_encryption_ports").facts["tls_optional_ports"] == [25, 587, 110, 143]),
    ("encryption needs client support, else vendor", lambda kb: "hersteller" in text_of(kb, "info_encryption_ports")),
    # -- limits --------------------------------------------------------------------------
    ("mailbox 300 MB", lambda kb: kb.limits.mailbox_quota_mb == 300),
    ("full mailbox accepts no new mail", lambda kb: "keine neuen" in kb.limits.mailbox_full_consequence),
    ("full mailbox cause: POP3 leave copy", lambda kb: "kopie aller nachrichten auf dem server belassen" in text_of(kb, "problem_mailbox_full")),
    ("leave copy can be switched off under 'Erweitert'", lambda kb: "erweitert" in text_of(kb, "proc_pop3_leave_copy")),
    ("message size 50 MB", lambda kb: kb.limits.max_message_size_mb == 50),
    ("50 MB applies to sending and receiving", lambda kb: "empfangen" in text_of(kb, "info_message_size")),
    ("changes active within 2 hours", lambda kb: kb.limits.activation_hours == 2),
    ("2 hours for create/delete/password/forwarding", lambda kb: all(
        kb.procedure(p).activation_hours == 2 for p in (
            "proc_create_address", "proc_delete_address", "proc_change_password",
            "proc_setup_forwarding", "proc_forwarding_to_mailbox"))),
    ("new address gives errors until active", lambda kb: "fehler" in text_of(kb, "info_activation_delay")),
    ("address 5 to 30 chars before @", lambda kb: (kb.limits.address_min_length, kb.limits.address_max_length) == (5, 30)),
    ("address chars: letters, digits, . - _", lambda kb: set(kb.limits.address_allowed_special_chars) == set(".-_")),
    ("password 8 to 12 chars", lambda kb: (kb.limits.password_min_length, kb.limits.password_max_length) == (8, 12)),
    ("password set when creating", lambda kb: kb.limits.password_special_chars_create == ",;.-:_#~$§!°"),
    ("password set when changing", lambda kb: kb.limits.password_special_chars_change == ",;.-:_#~!"),
    ("safe password set = intersection", lambda kb: set(kb.limits.password_special_chars_safe) == (
        set(kb.limits.password_special_chars_create) & set(kb.limits.password_special_chars_change))),
    ("bot recommends only the safe set", lambda kb: ", ; . - : _ # ~ !" in text_of(kb, "info_password_rules")),
    # -- portal procedures ---------------------------------------------------------------
    ("portal www.service.dokom.net", lambda kb: kb.portal.url == "www.service.dokom.net"),
    ("portal login with Kundenbereich-Kennwort", lambda kb: kb.portal.facts["login_password"] == "Ihr Kundenbereich-Kennwort"),
    ("portal product example DOKOM21 kompakt", lambda kb: "dokom21 kompakt" in text_of(kb, "proc_create_address")),
    ("create address via 'Neue Adresse', type Postfach", lambda kb: all(
        s in text_of(kb, "proc_create_address") for s in ("neue adresse", "postfach", "weiter", "beenden"))),
    ("create address only if not taken", lambda kb: "vergeben" in text_of(kb, "proc_create_address")),
    ("delete unwanted address in portal", lambda kb: "löschen" in text_of(kb, "proc_delete_address")),
    ("change password: current then new", lambda kb: "aktuelle" in text_of(kb, "proc_change_password")),
    ("forwarding: Art Weiterleitung + valid target", lambda kb: all(
        s in text_of(kb, "proc_setup_forwarding") for s in ("weiterleitung", "weiterleitungsziel", "gültige"))),
    ("forwarding back: choose Postfach, new password twice", lambda kb: all(
        s in text_of(kb, "proc_forwarding_to_mailbox") for s in ("postfach", "zweimal", "kennwort"))),
    # -- Outlook ----------------------------------------------------------------------------
    ("outlook imap: 993 SSL and 143 STARTTLS", lambda kb: has_option(kb.guide("outlook", "imap").incoming.options, 993, "ssl_tls")
     and has_option(kb.guide("outlook", "imap").incoming.options, 143, "starttls")),
    ("outlook imap: SPA off", lambda kb: kb.guide("outlook", "imap").settings["spa"] is False),
    ("outlook pop3: 995 SSL, 110 without SSL", lambda kb: has_option(kb.guide("outlook", "pop3").incoming.options, 995, "ssl_tls")
     and has_option(kb.guide("outlook", "pop3").incoming.options, 110, "none")),
    ("outlook pop3: SPA off", lambda kb: kb.guide("outlook", "pop3").settings["spa"] is False),
    ("outlook pop3 manual variant via 'Erweiterte Optionen'", lambda kb: "ich möchte mein konto manuell einrichten" in text_of(kb, "guide_outlook_pop3")),
    ("outlook smtp: auth on + same settings", lambda kb: kb.guide("outlook", "smtp").settings == {"smtp_auth": True, "same_as_incoming": True}),
    ("outlook smtp: 587 or 25 STARTTLS, 465 SSL", lambda kb: all(has_option(kb.guide("outlook", "smtp").outgoing.options, p, e)
     for p, e in ((587, "starttls"), (25, "starttls"), (465, "ssl_tls"), (25, "none")))),
    ("outlook check imap: full address as user name is fine", lambda kb: kb.article("guide_outlook_check_imap").settings["full_address_as_username_ok"]),
    ("outlook check imap: SPA off, SMTP auth, same settings", lambda kb: kb.article("guide_outlook_check_imap").settings["spa"] is False
     and kb.article("guide_outlook_check_imap").settings["smtp_auth"] and kb.article("guide_outlook_check_imap").settings["same_as_incoming"]),
    ("outlook check pop3: deletion options", lambda kb: "löschoptionen" in text_of(kb, "guide_outlook_check_pop3")),
    ("outlook control panel when user name differs (own domain)", lambda kb: all(
        s in text_of(kb, "guide_outlook_controlpanel") for s in ("systemsteuerung", "eigene", "domain", "manuelle konfiguration oder zusätzliche servertypen"))),
    ("outlook control panel POP3 variant", lambda kb: kb.article("guide_outlook_controlpanel_pop3").incoming.host == "pop3.dokom.net"),
    ("outlook data file error -> Microsoft support", lambda kb: "microsoft" in text_of(kb, "problem_outlook_data_file")
     and "wir konnten die outlook-datendatei nicht erstellen" in text_of(kb, "guide_outlook_auto_setup")),
    ("outlook auto set-up shows detected settings", lambda kb: "automatisch ermittelten" in text_of(kb, "guide_outlook_auto_setup")),
    # -- Thunderbird ------------------------------------------------------------------------
    ("thunderbird: 'Passwort, normal' in and out", lambda kb: all(kb.guide("thunderbird", p).settings["auth_method"] == "Passwort, normal" for p in PROTOCOLS)),
    ("thunderbird imap options", lambda kb: has_option(kb.guide("thunderbird", "imap").incoming.options, 143, "starttls")
     and has_option(kb.guide("thunderbird", "imap").incoming.options, 993, "ssl_tls")),
    ("thunderbird pop3: 110 STARTTLS / 995 SSL", lambda kb: has_option(kb.guide("thunderbird", "pop3").incoming.options, 110, "starttls")
     and has_option(kb.guide("thunderbird", "pop3").incoming.options, 995, "ssl_tls")),
    ("thunderbird pop3: choose 'POP3 (Ordner und E-Mails ...)'", lambda kb: "pop3 (ordner und e-mails auf diesem computer speichern)" in text_of(kb, "guide_thunderbird_pop3")),
    ("thunderbird: save password", lambda kb: kb.guide("thunderbird", "imap").settings["save_password"] is True),
    ("thunderbird smtp password stored in Passwortverwaltung", lambda kb: "passwortverwaltung" in text_of(kb, "guide_thunderbird_smtp_password")),
    ("thunderbird imap: expunge on exit", lambda kb: kb.article("guide_thunderbird_settings_imap").settings["expunge_on_exit"] is True),
    ("thunderbird: check every 10 minutes", lambda kb: kb.article("guide_thunderbird_settings_imap").settings["check_interval_minutes"] == 10),
    ("thunderbird imap: trash folder on server", lambda kb: "papierkorb" in text_of(kb, "guide_thunderbird_settings_imap")),
    ("thunderbird pop3: leave messages on server optional", lambda kb: kb.article("guide_thunderbird_settings_pop3").settings["leave_copy_on_server"] == "optional"),
    ("thunderbird fax PDF config key false->true", lambda kb: all(s in text_of(kb, "problem_fax_pdf_thunderbird") for s in (
        "mailnews.display.show_all_body_parts_menu", "false", "true", "ich werde vorsichtig sein", "ums"))),
    # -- Apple Mail ---------------------------------------------------------------------------
    ("apple mail imap: other mail account + hosts", lambda kb: "anderer mail-account" in text_of(kb, "guide_apple_mail_imap")
     and kb.guide("apple_mail", "imap").incoming.host == "imap.dokom.net"),
    ("apple mail pop: account type POP", lambda kb: kb.guide("apple_mail", "pop3").settings["account_type"] == "POP"),
    ("apple mail: user name only if different", lambda kb: "weicht ihr benutzername" in text_of(kb, "guide_apple_mail_imap")),
    ("apple mail smtp: untick automatic management, 465 TLS/SSL, password",
     lambda kb: kb.guide("apple_mail", "smtp").settings["manage_connection_automatically"] is False
     and kb.guide("apple_mail", "smtp").outgoing.options[0].port == 465),
    ("apple mail check imap: 993", lambda kb: kb.article("guide_apple_mail_check_imap").incoming.options[0].port == 993),
    ("apple mail check pop: 995", lambda kb: kb.article("guide_apple_mail_check_pop3").incoming.options[0].port == 995),
    ("apple mail: 'Verbindungseinstellungen automatisch verwalten'", lambda kb: "verbindungseinstellungen automatisch verwalten" in text_of(kb, "guide_apple_mail_check_imap")),
    # -- Windows Mail -------------------------------------------------------------------------
    ("windows mail: Erweitertes Setup > Internet-E-Mail", lambda kb: all(s in text_of(kb, "guide_windows_mail_imap") for s in ("erweitertes setup", "internet-e-mail"))),
    ("windows mail: account type IMAP4 / POP3", lambda kb: kb.guide("windows_mail", "imap").settings["account_type"] == "IMAP4"
     and kb.guide("windows_mail", "pop3").settings["account_type"] == "POP3"),
    ("windows mail: outgoing auth + same credentials", lambda kb: all(kb.guide("windows_mail", p).settings["smtp_auth"] and kb.guide("windows_mail", p).settings["same_as_incoming"] for p in PROTOCOLS)),
    ("windows mail: SSL in/out recommended", lambda kb: kb.guide("windows_mail", "imap").settings["ssl_incoming"] and kb.guide("windows_mail", "imap").settings["ssl_outgoing"]),
    ("windows mail sync: interval and period", lambda kb: all(s in text_of(kb, "guide_windows_mail_sync") for s in ("neue e-mail herunterladen", "e-mail herunterladen von", "erweiterte postfacheinstellungen"))),
    ("windows mail: 'Wir konnten auf dieses Konto nicht zugreifen'", lambda kb: "wir konnten auf dieses konto nicht zugreifen" in text_of(kb, "problem_windows_mail_no_access")),
    ("'Kontoeinstellungen veraltet': repair + check server address", lambda kb: all(s in text_of(kb, "problem_settings_outdated") for s in ("konto reparieren", "pop3.dokom.net", "imap.dokom.net"))),
    # -- other programs and Webagent --------------------------------------------------------------
    ("other imap: 993 SSL / 143 STARTTLS", lambda kb: has_option(kb.guide("other", "imap").incoming.options, 993, "ssl_tls")),
    ("other smtp: independent of incoming server", lambda kb: "unabhängig" in text_of(kb, "guide_other_smtp")),
    ("other pop3: pop3.dokom.net 995", lambda kb: kb.guide("other", "pop3").incoming.options[0].port == 995),
    ("webagent: fetch, delete, test mail, quota", lambda kb: all(s in text_of(kb, "guide_webagent") for s in ("test-e-mail", "speicherplatz", "löschen"))),
    # -- problems -----------------------------------------------------------------------------------
    ("554 variants a-d", lambda kb: [v.key for v in kb.problem("problem_bounce_554").variants] == ["a", "b", "c", "d"]),
    ("554 a/b: screenshot to support@dokom21.de, subject 'SMTP Fehler 554'", lambda kb: all(
        "support@dokom21.de" in " ".join(s.text for s in kb.problem("problem_bounce_554").variant(k).steps)
        and "SMTP Fehler 554" in " ".join(s.text for s in kb.problem("problem_bounce_554").variant(k).steps) for k in "ab")),
    ("554 a/b: never just forward", lambda kb: all("nicht einfach weiter" in " ".join(
        s.text for s in kb.problem("problem_bounce_554").variant(k).steps) for k in "ab")),
    ("554 c: check domain part after @", lambda kb: "hinter dem @" in kb.problem("problem_bounce_554").variant("c").steps[0].text),
    ("554 d: virus scanner scanning outgoing mail", lambda kb: "virenscanner" in kb.problem("problem_bounce_554").variant("d").steps[0].text.lower()
     and "postausgang" in kb.problem("problem_bounce_554").variant("d").steps[0].text.lower()),
    ("554 variants map to bounce categories", lambda kb: [v.bounce_category for v in kb.problem("problem_bounce_554").variants] == ["dnsbl", "dnsbl", "relay_denied", "relay_denied"]),
    ("DNSBL: 450/550/554", lambda kb: set(kb.bounce_article("dnsbl").error_codes) >= {"450", "550", "554"}),
    ("DNSBL: reputable lists named, contact recipient", lambda kb: "spamhaus.org" in text_of(kb, "bounce_dnsbl") and "empfänger" in text_of(kb, "bounce_dnsbl")),
    ("NUL 5.6.0: webagent, virus scanner, reinstall", lambda kb: all(s in text_of(kb, "bounce_nul_characters") for s in ("5.6.0", "webagent", "virenscanner", "neu"))),
    ("Gmail 5.7.26 since November 2022", lambda kb: kb.info("info_domain_auth").facts["gmail_error"] == "5.7.26" and kb.info("info_domain_auth").facts["gmail_since"] == "November 2022"),
    ("SPF example include:_spf.dokom.net", lambda kb: kb.info("info_domain_auth").facts["spf_example"] == "v=spf1 include:_spf.dokom.net ~all"),
    ("SPF: list all sending systems", lambda kb: "alle systeme" in text_of(kb, "info_domain_auth")),
    ("SPF via DNS Manager", lambda kb: kb.info("info_domain_auth").facts["spf_tool"] == "DOKOM21 DNS Manager"),
    ("DKIM on request via Kundenberatung / Vertriebsinnendienst", lambda kb: kb.info("info_domain_auth").facts["dkim_on_request"] is True
     and kb.info("info_domain_auth").facts["dkim_contacts"] == ["Kundenberatung", "Vertriebsinnendienst"]),
    ("DMARC builds on SPF and DKIM", lambda kb: "dmarc" in text_of(kb, "info_domain_auth") and "quarantäne" in text_of(kb, "info_domain_auth")),
    ("recipient spam filter false positive -> contact recipient", lambda kb: "empfänger" in kb.bounce_article("spam_content").steps[0].text.lower()),
    ("mails not arriving: 4 steps (settings, firewall/AV, ask senders, webagent)", lambda kb: len(kb.problem("problem_not_receiving").steps) == 4
     and all(s in text_of(kb, "problem_not_receiving") for s in ("firewall", "absender", "webagent"))),
    ("forwarded mails not arriving: 4 steps", lambda kb: len(kb.problem("problem_forward_not_arriving").steps) == 4
     and all(s in text_of(kb, "problem_forward_not_arriving") for s in ("weiterleitung", "spam", "absender", "speicherplatz"))),
    ("sending fails: SMTP auth", lambda kb: "authentifizierung" in text_of(kb, "problem_send_fails")),
    # -- policies ---------------------------------------------------------------------------------
    ("spam: institutional blacklists only", lambda kb: kb.info("policy_spam_filter").facts["server_filter"] == "blacklists_only"),
    ("spam: client filters + GData Smartfilter", lambda kb: "smartfilter" in text_of(kb, "policy_spam_filter") and "mailprogramm" in text_of(kb, "policy_spam_filter")),
    ("no server virus filter -> GData security package", lambda kb: kb.info("policy_virus_filter").facts["server_virus_filter"] is False
     and "gdata" in text_of(kb, "policy_virus_filter")),
    ("phishing: forged sender e.g. Service@dokom.net", lambda kb: "service@dokom.net" in text_of(kb, "policy_phishing")),
    ("phishing: delete unexpected mails from unknown senders", lambda kb: "löschen" in text_of(kb, "policy_phishing")),
    ("SMTP auth: user name + password before sending", lambda kb: "benutzername und kennwort" in text_of(kb, "info_smtp_auth")),
    ("IMAP folders: Gesendete Objekte / Entwurf / Papierkorb", lambda kb: (
        kb.info("info_imap_folders").facts["sent_folder"], kb.info("info_imap_folders").facts["drafts_folder"],
        kb.info("info_imap_folders").facts["trash_folder"]) == ("Gesendete Objekte", "Entwurf", "Papierkorb")),
    ("IMAP: spam folder not used by Webagent", lambda kb: kb.info("info_imap_folders").facts["spam_folder_used_by_webagent"] is False),
    ("IMAP: Outlook only marks deleted -> expunge", lambda kb: kb.info("info_imap_folders").facts["marks_deleted_only"] == ["outlook"]
     and "expunge" in text_of(kb, "info_imap_folders")),
    # -- contacts -------------------------------------------------------------------------------
    ("support address", lambda kb: kb.contact.email == "support@dokom21.de"),
    ("screenshot subject", lambda kb: kb.contact.subject == "SMTP Fehler 554"),
    ("never just forward the bounce", lambda kb: kb.contact.facts["never_forward_bounce"] is True
     and any("nicht einfach weiter" in t for t in kb.contact.do_not)),
]
PROTOCOLS = ("imap", "pop3", "smtp")


@pytest.mark.parametrize("fact, check", FACTS, ids=[f for f, _ in FACTS])
def test_faq_fact(kb, fact, check):
    assert check(kb), fact


REQUIRED_CONTRADICTIONS = {
    "password_special_chars", "smtp_starttls_port", "pop3_port_110", "ssl_mandatory_wording",
    "apple_mail_manage_connection",
}


def test_contradictions_are_recorded_with_sources_and_safe_answer(kb):
    ids = {c.id for c in kb.contradictions}
    assert REQUIRED_CONTRADICTIONS <= ids
    for item in kb.contradictions:
        assert len(item.versions) >= 2
        assert all(v.source and v.text for v in item.versions)
        assert item.safe_answer


def test_safe_answers_match_the_data(kb):
    assert "587" in kb.contradiction("smtp_starttls_port").safe_answer
    assert "995" in kb.contradiction("pop3_port_110").safe_answer
    assert "Haken" in kb.contradiction("apple_mail_manage_connection").safe_answer
    safe = kb.contradiction("password_special_chars").safe_answer
    assert all(c in safe for c in kb.limits.password_special_chars_safe)


# -- citations can be checked against the FAQ ------------------------------------------------
_QUOTE = re.compile(r"'([^']{8,})'")


def _citations(kb: KnowledgeBase) -> list[tuple[str, list[int], str]]:
    """(where, line numbers cited before the quote, quote) for every quoted source."""
    found = []
    sources = list(kb.limits.sources.items())
    sources += [(f"{c.id}.{i}", v.source) for c in kb.contradictions for i, v in enumerate(c.versions)]
    for name, source in sources:
        start = 0
        for match in _QUOTE.finditer(source):
            lines = [int(n) for n in re.findall(r"\d+", source[start:match.start()]) if int(n) < 10000]
            if "Z." in source[start:match.start()] and lines:
                found.append((name, lines, match.group(1)))
            start = match.end()
    for item in kb.contradictions:  # quotes in a version's text, lines from its source
        for index, version in enumerate(item.versions):
            lines = [int(n) for n in re.findall(r"\d+", version.source) if int(n) < 10000]
            for quote in _QUOTE.findall(version.text):
                found.append((f"{item.id}.{index}.text", lines, quote))
    return found


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace('\\"', '"')).strip().lower()


@pytest.mark.skipif(not FAQ.exists(), reason="FAQ source not available")
def test_quoted_sources_appear_at_the_cited_lines(kb):
    lines = FAQ.read_text(encoding="utf-8").splitlines()
    citations = _citations(kb)
    assert len(citations) >= 25
    for name, numbers, quote in citations:
        windows = [_norm(" ".join(lines[max(0, n - 3): n + 8])) for n in numbers]
        for part in (p for p in quote.split("...") if len(p.strip()) > 3):
            assert any(_norm(part) in w for w in windows), (name, numbers, part)


@pytest.mark.skipif(not FAQ.exists(), reason="FAQ source not available")
def test_cited_line_numbers_exist(kb):
    count = len(FAQ.read_text(encoding="utf-8").splitlines())
    for article in kb.articles():
        for number in re.findall(r"Z\. (\d+)", article.source):
            assert 1 <= int(number) <= count, (article.id, number)
