"""Runs after every user message: canonical slot values and pasted-bounce detection."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from bot.dialogue import bounce, flows

from .common import DomainDict, composer, state_of
from bot.dialogue.bounce import status_code

from .forms import best_client, canonical_encryption, canonical_protocol, previous_value


class ValidateSlotMappings(ValidationAction):
    """``action_validate_slot_mappings``: global slots outside (and inside) forms."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_bounce_pasted(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        latest = tracker.latest_message or {}
        text = latest.get("text") or ""
        intent = (latest.get("intent") or {}).get("name")
        pasted = False
        if isinstance(text, str) and (intent == "report_bounce" or bounce.looks_like_bounce(text)):
            pasted = bounce.is_pasted_bounce(text, bounce.classify(text, composer().kb))
        if pasted == bool(tracker.get_slot("bounce_pasted")):
            return {}
        return {"bounce_pasted": pasted}

    async def extract_protocol(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        named = flows.protocol_from_server_words(state_of(tracker), composer().kb)
        if named is None or named == tracker.get_slot("protocol"):
            return {}
        return {"protocol": named}

    def validate_client(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        client = best_client(value, tracker)
        if client is not None:
            return {"client": client}
        if tracker.active_loop.get("name") and tracker.get_slot("requested_slot") == "client":
            return {}  # the form's validation answers unknown programs
        if isinstance(value, str) and any(c.isalpha() for c in value):
            return {"client": "other"}  # a program name the KB does not know
        return {"client": previous_value(tracker, "client")}  # not a name: keep the old value

    def validate_protocol(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        protocol = canonical_protocol(value)
        return {"protocol": protocol if protocol else previous_value(tracker, "protocol")}

    def validate_error_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[Text, Any]:
        code = status_code(value)
        return {"error_code": code if code else previous_value(tracker, "error_code")}

    def validate_encryption(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[Text, Any]:
        encryption = canonical_encryption(value)
        return {"encryption": encryption if encryption else previous_value(tracker, "encryption")}
