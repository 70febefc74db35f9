"""Shared plumbing of all actions: tracker -> State, Turn -> dispatcher + events."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.flows import State, Turn
from bot.replies import Composer

logger = logging.getLogger(__name__)

DomainDict = Dict[Text, Any]


@lru_cache(maxsize=1)
def composer() -> Composer:
    """One composer over the cached knowledge base and the domain's templates."""
    from bot.kb import get_kb

    return Composer(get_kb())


def state_of(tracker: Tracker) -> State:
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    text = latest.get("text") or ""
    user_intents = tuple(
        ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in reversed(tracker.events) if event.get("event") == "user")
    ranking = tuple((item.get("name"), float(item.get("confidence") or 0.0))
                    for item in latest.get("intent_ranking") or () if isinstance(item, dict))
    return State(slots=dict(tracker.slots), intent=intent, text=text if isinstance(text, str) else "",
                 entities=tuple(latest.get("entities") or ()), user_intents=user_intents,
                 intent_ranking=ranking)


def send(dispatcher: CollectingDispatcher, turn: Turn) -> List[Dict[Text, Any]]:
    """Utter the turn's messages and return its slot changes as events."""
    for message in turn.messages:
        dispatcher.utter_message(response=message.response, buttons=message.button_dicts(),
                                 **dict(message.values))
    return [SlotSet(name, value) for name, value in turn.slots.items()]


class MailhilfeAction(Action, ABC):
    """Base of the dialogue actions (abstract: rasa-sdk does not register it)."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in domain.yml."""

    @abstractmethod
    def turn(self, state: State) -> Turn:
        """What to say and remember for this state."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[Dict[Text, Any]]:
        return send(dispatcher, self.turn(state_of(tracker)))
