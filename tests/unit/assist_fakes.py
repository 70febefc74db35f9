"""Small, fixed knowledge base and helpers for the agent-assist unit tests.

Built with the real ``bot.kb`` record types and ``KnowledgeBase`` class, so look-ups and
search behave as in production while the facts stay fixed for the assertions.
"""
from __future__ import annotations

from typing import Any, Optional

from bot.kb.knowledge import KnowledgeBase
from bot.kb.models import (
    BounceArticle, Client, Contact, Guide, Info, Limits, PortOption, Problem, Procedure,
    Server, Step, StepGroup,
)

_COMMON = dict(source="Test", file="test.yml")


def _servers() -> dict[str, Server]:
    return {
        "imap": Server("imap", "imap.dokom.net", "incoming", True, [
            PortOption(993, "ssl_tls", True), PortOption(143, "starttls", True),
            PortOption(143, "none", False)]),
        "pop3": Server("pop3", "pop3.dokom.net", "incoming", True, [
            PortOption(995, "ssl_tls", True), PortOption(110, "starttls", True),
            PortOption(110, "none", False)]),
        "smtp": Server("smtp", "smtp.dokom.net", "outgoing", True, [
            PortOption(465, "ssl_tls", True), PortOption(587, "starttls", True),
            PortOption(25, "none", False)]),
    }


def _clients() -> dict[str, Client]:
    return {
        "outlook": Client("outlook", "Microsoft Outlook", ["Outlook", "Outlook 2016", "MS Outlook"],
                          ["imap", "pop3", "smtp"], True),
        "thunderbird": Client("thunderbird", "Mozilla Thunderbird", ["Thunderbird"],
                              ["imap", "pop3", "smtp"], True),
        "apple_mail": Client("apple_mail", "Apple Mail", ["Apple Mail", "Mac Mail"],
                             ["imap", "pop3", "smtp"], True),
        "windows_mail": Client("windows_mail", "Windows Mail", ["Windows Mail"],
                               ["imap", "pop3", "smtp"], True),
        "other": Client("other", "Anderes E-Mail-Programm", ["iPhone", "Android"],
                        ["imap", "pop3", "smtp"], True),
    }


def _limits() -> Limits:
    return Limits(
        mailbox_quota_mb=300,
        mailbox_full_consequence="Ist das Postfach voll, nimmt es keine neuen E-Mails mehr an.",
        max_message_size_mb=50, activation_hours=2, address_min_length=5,
        address_max_length=30, address_allowed_special_chars=".-_", password_min_length=8,
        password_max_length=12, password_special_chars_create=",;.-:_#~$§!°",
        password_special_chars_change=",;.-:_#~!", password_special_chars_safe=",;.-:_#~!",
    )


def _guide(client: str, protocol: str, name: str) -> Guide:
    host = {"imap": "imap.dokom.net", "pop3": "pop3.dokom.net", "smtp": "smtp.dokom.net"}[protocol]
    return Guide(
        id=f"guide_{client}_{protocol}", kind="guide",
        title=f"{name} mit {protocol.upper()} einrichten",
        summary=f"So richten Sie {name} mit {protocol.upper()} ein.",
        keywords=[name, protocol.upper(), "einrichten"], intents=["setup_client"],
        client=client, protocol=protocol,
        step_groups=[
            StepGroup("Konto anlegen", [f"Öffnen Sie {name}.", "Wählen Sie Konto hinzufügen."]),
            StepGroup("Server", [f"Tragen Sie als Server {host} ein."]),
        ],
        pitfalls=["Die Option SPA darf nicht aktiviert sein."] if client == "outlook" else [],
        **_COMMON,
    )


def _articles() -> dict[str, Any]:
    articles: list[Any] = []
    for client, name in (("outlook", "Outlook"), ("thunderbird", "Thunderbird"), ("other", "Ihr Programm")):
        for protocol in ("imap", "pop3", "smtp"):
            articles.append(_guide(client, protocol, name))
    articles += [
        Problem(id="problem_send_fails", kind="problem", title="E-Mails lassen sich nicht senden",
                summary="Wenn der Versand scheitert, liegt es meist an den Einstellungen des Postausgangsservers.",
                keywords=["senden", "verschicken", "Postausgang", "Versand"], intents=["send_problem"],
                steps=[Step("Prüfen Sie den Postausgangsserver smtp.dokom.net."),
                       Step("Aktivieren Sie die SMTP-Authentifizierung.", "Hat das geklappt?")],
                **_COMMON),
        Problem(id="problem_mailbox_full", kind="problem", title="Postfach voll",
                summary="Das Postfach fasst 300 MB.", keywords=["Postfach voll", "Speicher", "Quota"],
                intents=["mailbox_full"],
                steps=[Step("Löschen Sie alte E-Mails im Webagent."), Step("Leeren Sie den Papierkorb.")],
                **_COMMON),
        Problem(id="problem_login", kind="problem", title="Anmeldung scheitert",
                summary="Das Kennwort wird nicht angenommen.", keywords=["Passwort", "Kennwort", "Anmeldung"],
                intents=["login_problem"], steps=[Step("Prüfen Sie Benutzername und Kennwort.")],
                **_COMMON),
        Procedure(id="proc_pop3_leave_copy", kind="procedure", title="Kopien auf dem Server belassen",
                  summary="Mit POP3 bleiben Kopien auf dem Server, wenn die Option aktiv ist.",
                  keywords=["Kopie auf dem Server", "POP3"], intents=["pop3_leave_copy"],
                  steps=[Step("Öffnen Sie die Kontoeinstellungen."),
                         Step("Entfernen Sie das Häkchen bei Kopie aller Nachrichten auf dem Server belassen.")],
                  **_COMMON),
        Procedure(id="proc_change_password", kind="procedure", title="Kennwort ändern",
                  summary="Das Kennwort ändern Sie im Kundenbereich.", keywords=["Kennwort ändern"],
                  intents=["change_password"], steps=[Step("Melden Sie sich im Kundenbereich an.")],
                  **_COMMON),
        Info(id="info_message_size", kind="info", title="Maximale Größe einer E-Mail",
             summary="Eine E-Mail darf höchstens 50 MB groß sein.",
             keywords=["Anhang", "Anhang zu groß", "maximale Größe", "50 MB"], intents=["max_message_size"],
             points=["Sie können E-Mails mit bis zu 50 MB verschicken und empfangen."], **_COMMON),
        Info(id="info_imap_folders", kind="info", title="IMAP-Ordner",
             summary="Gelöschte E-Mails endgültig entfernen.", keywords=["Papierkorb", "Expunge"],
             intents=["imap_folders"], points=["Leeren Sie den Papierkorb auf dem Server."], **_COMMON),
        Info(id="info_encryption_ports", kind="info", title="Verschlüsselung und Ports",
             summary="SSL/TLS und STARTTLS auf diesen Ports.", keywords=["Port", "SSL", "TLS"],
             intents=["ask_server_settings"], points=["IMAP: 993 (SSL/TLS)"], **_COMMON),
        BounceArticle(id="bounce_relay_denied", kind="bounce", title="Relay access denied",
                      summary="Der Empfängerserver nimmt die Adresse nicht an.",
                      keywords=["Relay access denied"], category="relay_denied",
                      explanation="Meist ist der Teil der Empfängeradresse hinter dem @ falsch geschrieben.",
                      steps=[Step("Prüfen Sie den Domain-Teil der Empfängeradresse (hinter dem @).")],
                      **_COMMON),
        BounceArticle(id="bounce_unknown", kind="bounce", title="Unbekannte Fehlermeldung",
                      summary="Die Ursache lässt sich nicht bestimmen.", keywords=["Fehlermeldung"],
                      category="unknown", explanation="Die Ursache ist aus dem Text nicht zu erkennen.",
                      steps=[Step("Schicken Sie einen Screenshot an den Support.")], **_COMMON),
        Problem(id="problem_bounce_554", kind="problem", title="Fehler 554 beim Senden",
                summary="Der Empfängerserver lehnt die Nachricht ab.", keywords=["554", "Fehler 554"],
                intents=["report_bounce"], steps=[Step("Lesen Sie die Fehlermeldung genau.")], **_COMMON),
        Contact(id="contact_support", kind="contact", title="Support", summary="Support per E-Mail.",
                keywords=["Support"], email="support@dokom21.de", subject="SMTP Fehler 554",
                instructions=["Schreiben Sie an support@dokom21.de."], **_COMMON),
        Contact(id="contact_portal", kind="contact", title="Kundenbereich", summary="Kundenbereich.",
                keywords=["Kundenbereich"], url="https://service.dokom.net", **_COMMON),
    ]
    return {a.id: a for a in articles}


def make_kb() -> KnowledgeBase:
    return KnowledgeBase(servers=_servers(), clients=_clients(), limits=_limits(),
                         articles=_articles(), contradictions=[])


class FakeBounce:
    """Stands in for ``bot.bounce.analyse``: 'Relay access denied' is a relay_denied bounce."""

    def __call__(self, text: str) -> "FakeBounceResult":
        if "relay access denied" in text.lower():
            return FakeBounceResult({
                "category": "relay_denied", "confidence": 0.9, "smtp_code": "554",
                "enhanced_code": "5.7.1", "recipients": ["xy@z.de"], "remote_host": "z.de",
                "phase": "rcpt_to", "diagnostic": "554 5.7.1 <xy@z.de>: Relay access denied",
                "evidence": "Relay access denied", "is_bounce": True,
                "article_id": "bounce_relay_denied"})
        return FakeBounceResult({"category": "unknown", "confidence": 0.0, "is_bounce": False,
                                 "article_id": "bounce_unknown"})


class FakeBounceResult:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)


def rasa_parse(intent: str, confidence: float, text: str = "",
               entities: Optional[list[tuple[str, str, str]]] = None) -> dict[str, Any]:
    """A parse result as Rasa's /model/parse returns it; entities as (entity, value, surface)."""
    found = []
    for entity, value, surface in entities or []:
        start = text.find(surface)
        found.append({"entity": entity, "value": value, "start": max(start, 0),
                      "end": max(start, 0) + len(surface), "confidence_entity": 0.99,
                      "extractor": "DIETClassifier"})
    rest = round((1 - confidence) / 2, 4)
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": found,
        "intent_ranking": [{"name": intent, "confidence": confidence},
                           {"name": "nlu_fallback", "confidence": rest},
                           {"name": "greet", "confidence": rest}],
    }
