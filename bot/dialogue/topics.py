"""Which customer concerns the dialogue knows and which details each one needs.

A *topic* is the intent that started the current concern (``setup_client``,
``mailbox_full`` ...). Topics with a walkthrough collect details in ``details_form``
first; one-shot intents are answered directly from the knowledge base.
"""

from __future__ import annotations

from typing import Mapping, Optional

SETUP = "setup_client"
SERVER_SETTINGS = "ask_server_settings"
BOUNCE = "report_bounce"
SEND_PROBLEM = "send_problem"
RECEIVE_PROBLEM = "receive_problem"
LOGIN_PROBLEM = "login_problem"
MAILBOX_FULL = "mailbox_full"

#: intents that start a (possibly multi-turn) concern and go through details_form
TOPIC_INTENTS = (
    SETUP, SERVER_SETTINGS, BOUNCE, SEND_PROBLEM, RECEIVE_PROBLEM, LOGIN_PROBLEM, MAILBOX_FULL,
)

#: intents answered at once from the knowledge base: intent -> preferred article ids
#: (the first that exists wins; otherwise the KB's articles tagged with the intent)
ONE_SHOT_ARTICLES: Mapping[str, tuple[str, ...]] = {
    "max_message_size": ("info_message_size",),
    "create_address": ("proc_create_address",),
    "delete_address": ("proc_delete_address",),
    "address_rules": ("info_address_rules",),
    "change_password": ("proc_change_password",),
    "password_rules": ("info_password_rules",),
    "setup_forwarding": ("proc_setup_forwarding",),
    "forwarding_to_mailbox": ("proc_forwarding_to_mailbox",),
    "activation_delay": ("info_activation_delay",),
    "imap_folders": ("info_imap_folders",),
    "pop3_leave_copy": ("proc_pop3_leave_copy",),
    "spam_problem": ("policy_spam_filter",),
    "phishing": ("policy_phishing",),
    "virus_filter": ("policy_virus_filter",),
    "smtp_auth_info": ("info_smtp_auth",),
    "domain_authentication": ("info_domain_auth",),
    "fax_attachment": ("problem_fax_pdf_thunderbird",),
}

#: troubleshooting articles a topic may use; the customer's words pick one (KB search)
PROBLEM_CANDIDATES: Mapping[str, tuple[str, ...]] = {
    RECEIVE_PROBLEM: ("problem_not_receiving", "problem_forward_not_arriving"),
    LOGIN_PROBLEM: ("problem_login", "problem_settings_outdated",
                    "problem_windows_mail_no_access"),
    SEND_PROBLEM: ("problem_send_fails",),
    MAILBOX_FULL: ("problem_mailbox_full",),
}

INCOMING_PROTOCOLS = ("imap", "pop3")
PROTOCOLS = ("imap", "pop3", "smtp")
CLIENTS = ("outlook", "thunderbird", "apple_mail", "windows_mail", "other")
ENCRYPTIONS = ("ssl_tls", "starttls", "none")


def topic_for_intent(intent: Optional[str], current_topic: Optional[str],
                     status_code: Optional[str] = None) -> Optional[str]:
    """The topic after a user message with ``intent`` (``inform`` keeps the current one).

    A sending problem that names an SMTP status code ("Fehler 554 beim Senden") is an
    error message to diagnose: the bounce topic, whichever of the two the NLU preferred.
    """
    if intent == SEND_PROBLEM and status_code:
        return BOUNCE
    if intent in TOPIC_INTENTS:
        return intent
    return current_topic


#: KB search score a text without entities needs to count as naming a concern (the
#: search scores "Postfach ist voll" around 16, a bare "Ich nutze" around 4)
INFER_MIN_SCORE = 8.0


def infer_topic(kb, text: str, ranking) -> Optional[str]:
    """The topic behind a message the NLU read as ``inform``, if NLU and KB search agree.

    ``text`` should be the message without its entity values ("Mein Postfach ist voll,
    ich nutze Thunderbird mit POP3" -> "Mein Postfach ist voll, ich nutze mit"), so a bare
    "Ich nutze Thunderbird" does not start a set-up. The best KB hit must be tagged with a
    topic intent the NLU ranks at all (any confidence); otherwise None.
    """
    if not text or not text.strip():
        return None
    hits = kb.search(text, limit=1)
    if not hits or hits[0].score < INFER_MIN_SCORE:
        return None
    tagged = [i for i in kb.article(hits[0].article_id).intents if i in TOPIC_INTENTS]
    ranked = [name for name, _ in ranking]
    return next((name for name in ranked if name in tagged), None)


#: a not-understood message whose best real intent reaches this is offered as a guess
SUGGEST_MIN_CONFIDENCE = 0.1


def _agreed(kb, text: str, ranking, candidates, floor: float) -> Optional[str]:
    """The best-ranked candidate intent (above ``floor``) if a top KB hit is tagged with it."""
    best = next((name for name, confidence in ranking
                 if name in candidates and confidence >= floor), None)
    if best is None or not text:
        return None
    hit_intents = {intent for hit in kb.search(text, limit=5)
                   for intent in kb.article(hit.article_id).intents}
    return best if best in hit_intents else None


def guess_intent(kb, text: str, ranking) -> Optional[str]:
    """A topic or one-shot intent to suggest after ``nlu_fallback`` (NLU and KB agree)."""
    answerable = tuple(TOPIC_INTENTS) + tuple(ONE_SHOT_ARTICLES)
    return _agreed(kb, text, ranking, answerable, SUGGEST_MIN_CONFIDENCE)


def required_details(topic: Optional[str], slots: Mapping[str, object]) -> list[str]:
    """Slots details_form must fill before the topic's answer can be given."""
    if topic == SETUP:
        return ["client", "protocol"]
    if topic == SERVER_SETTINGS:
        return ["protocol"]
    if topic == SEND_PROBLEM:
        return ["client"]
    if topic == MAILBOX_FULL:
        if slots.get("protocol") == "pop3":
            return ["protocol", "client"]
        return ["protocol"]
    return []


def allowed_protocols(topic: Optional[str]) -> tuple[str, ...]:
    """Protocol values that make sense for a topic (mail retrieval needs IMAP or POP3)."""
    if topic == MAILBOX_FULL:
        return INCOMING_PROTOCOLS
    return PROTOCOLS


def protocol_question(topic: Optional[str]) -> str:
    """Name of the response asking for the protocol in this topic."""
    if topic == SERVER_SETTINGS:
        return "utter_ask_protocol_any"
    return "utter_ask_protocol_incoming"


def keeps_remembered_protocol(topic: Optional[str], protocol: Optional[str],
                              mentioned_now: bool) -> bool:
    """Whether a protocol remembered from earlier still applies to a new topic.

    Mail retrieval topics need IMAP or POP3; a set-up is about retrieval too unless the
    customer names SMTP in the very message that starts it ("SMTP in Outlook einrichten").
    """
    if protocol is None or mentioned_now:
        return True
    if topic in (MAILBOX_FULL, SETUP):
        return protocol in INCOMING_PROTOCOLS
    return True
