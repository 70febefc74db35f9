"""details_form: validation against the knowledge base, and the per-topic protocol question."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.dialogue import topics

from .common import DomainDict, composer

#: intents whose text may be a plain answer to "Welches Programm?" ("Eudora", "Pegasus")
ANSWER_INTENTS = ("inform", "nlu_fallback")
#: longer texts are not a bare program name
MAX_ANSWER_WORDS = 6

_PROTOCOL_WORDS = {"imap": "imap", "imap4": "imap", "pop": "pop3", "pop3": "pop3",
                   "smtp": "smtp"}


def canonical_client(value: Any) -> Optional[str]:
    """Contract client id for a slot value or a program name; None if unknown."""
    if value in topics.CLIENTS:
        return value
    if not isinstance(value, str):
        return None
    resolved = composer().kb.resolve_client(value)
    if resolved in topics.CLIENTS:
        return resolved
    if resolved is not None:  # known, but not a contract value (the webmail)
        return "other"
    return None


def canonical_protocol(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return None
    words = re.findall(r"[a-z0-9]+", value.lower())
    return next((_PROTOCOL_WORDS[w] for w in words if w in _PROTOCOL_WORDS), None)


def canonical_encryption(value: Any) -> Optional[str]:
    if value in topics.ENCRYPTIONS:
        return value
    if not isinstance(value, str):
        return None
    folded = value.lower().translate(str.maketrans({"ä": "a", "ö": "o", "ü": "u"}))
    key = re.sub(r"[^a-z]", "", folded)
    if key.startswith("starttls"):
        return "starttls"
    if key in ("ssl", "tls", "ssltls", "tlsssl"):
        return "ssl_tls"
    if key == "none" or key.startswith(("kein", "ohne", "unverschl")):
        return "none"
    return None


def named_client(text: Any) -> Optional[str]:
    """A client whose name or alias appears word for word in a free text (no fuzzy match).

    Free sentences are matched strictly: fuzzy matching would read "Mails" as "KMail".
    """
    if not isinstance(text, str) or not text.strip():
        return None
    folded = f" {_fold(text)} "
    best: tuple[int, Optional[str]] = (0, None)
    for client in composer().kb.clients():
        for alias in [client.name, client.id.replace("_", " ")] + list(client.aliases):
            key = _fold(alias)
            if key and f" {key} " in folded and len(key) > best[0]:
                best = (len(key), client.id)
    if best[1] is None:
        return None
    return best[1] if best[1] in topics.CLIENTS else "other"


def _fold(text: str) -> str:
    lowered = text.lower().translate(str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"}))
    return " ".join(re.findall(r"[a-z0-9]+", lowered))


def best_client(value: Any, tracker: Tracker) -> Optional[str]:
    """The client the latest message names: the slot value, any client entity, or the text.

    The NLU may tag several spans as ``client`` ("Apple Mail auf dem Mac", "Outlook ...
    Fehler 554"); Rasa keeps the last one, which is not always a program name.
    """
    _, text, entities = _latest(tracker)
    candidates = [value] + [e.get("value") for e in entities if e.get("entity") == "client"]
    return next((c for c in map(canonical_client, candidates) if c), None) or named_client(text)


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (events are newest last)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def _latest(tracker: Tracker) -> tuple[Optional[str], str, list]:
    latest = tracker.latest_message or {}
    text = latest.get("text") or ""
    return ((latest.get("intent") or {}).get("name"), text if isinstance(text, str) else "",
            list(latest.get("entities") or []))


class ValidateDetailsForm(FormValidationAction):
    """Asks only for the details the current topic needs; accepts typed answers."""

    def name(self) -> Text:
        return "validate_details_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        return topics.required_details(tracker.get_slot("topic"), tracker.slots)

    async def extract_client(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        return self._typed_answer("client", tracker, answer_if_unknown=True)

    async def extract_protocol(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        return self._typed_answer("protocol", tracker, answer_if_unknown=False)

    def _typed_answer(self, slot: str, tracker: Tracker, answer_if_unknown: bool) -> Dict:
        """The raw text as candidate when it answers our question without an entity.

        When the form starts (nothing requested yet) only a name the KB knows counts:
        "Apple Mail auf dem Mac mit IMAP einrichten" without a recognised entity.
        """
        requested = tracker.get_slot("requested_slot")
        intent, text, entities = _latest(tracker)
        if any(e.get("entity") == slot for e in entities) or not text.strip():
            return {}
        if requested is None and tracker.get_slot(slot) is None:
            answer_if_unknown = False
        elif requested != slot:
            return {}
        if slot == "client" and (named_client(text) or (requested == slot and canonical_client(text))):
            return {slot: text}
        if slot == "protocol" and canonical_protocol(text):
            return {slot: text}
        if answer_if_unknown and intent in ANSWER_INTENTS \
                and len(text.split()) <= MAX_ANSWER_WORDS:
            return {slot: text}
        return {}

    def validate_client(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        client = best_client(value, tracker)
        if client is None:
            dispatcher.utter_message(response="utter_client_unknown")
            client = "other"
        return {"client": client}

    def validate_protocol(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        protocol = canonical_protocol(value)
        allowed = topics.allowed_protocols(tracker.get_slot("topic"))
        if protocol is not None and protocol not in allowed:
            dispatcher.utter_message(response="utter_protocol_incoming_only")
            return {"protocol": None}
        return {"protocol": protocol}


class ActionAskProtocol(Action):
    """Asks for the protocol with the buttons that fit the topic."""

    def name(self) -> Text:
        return "action_ask_protocol"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response=topics.protocol_question(tracker.get_slot("topic")))
        return []
