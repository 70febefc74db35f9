"""Actions of the conversation flow: topic, walkthrough, bounce, one-shot answers, hand-over."""

from __future__ import annotations

from typing import Text

from bot.dialogue import flows
from bot.dialogue.flows import State, Turn

from .common import MailhilfeAction, composer


class ActionSetTopic(MailhilfeAction):
    """Remember which concern the customer has (before details_form asks for details)."""

    def name(self) -> Text:
        return "action_set_topic"

    def turn(self, state: State) -> Turn:
        return flows.set_topic(state, composer())


class ActionStartWalkthrough(MailhilfeAction):
    """Details are complete: answer, or show settings and the first step."""

    def name(self) -> Text:
        return "action_start_walkthrough"

    def turn(self, state: State) -> Turn:
        return flows.start(state, composer())


class ActionWalkthroughAnswer(MailhilfeAction):
    """Ja/Nein after "Hat das geklappt?": next step, hints, success or hand-over."""

    def name(self) -> Text:
        return "action_walkthrough_answer"

    def turn(self, state: State) -> Turn:
        if state.slot("bounce_pasted"):
            return flows.explain_bounce(state, composer())
        return flows.answer(state, composer(), affirmed=state.intent != "deny")


class ActionExplainBounce(MailhilfeAction):
    """A pasted bounce arrived under another intent: classify and explain it."""

    def name(self) -> Text:
        return "action_explain_bounce"

    def turn(self, state: State) -> Turn:
        return flows.explain_bounce(state, composer())


class ActionAnswerKb(MailhilfeAction):
    """One-shot answer about a procedure, policy, limit or rule from the knowledge base."""

    def name(self) -> Text:
        return "action_answer_kb"

    def turn(self, state: State) -> Turn:
        if state.slot("bounce_pasted"):
            return flows.explain_bounce(state, composer())
        return flows.answer_article(state, composer())


class ActionHandover(MailhilfeAction):
    """Hand the case to a human: summary for the agent and how to reach support."""

    def name(self) -> Text:
        return "action_handover"

    def turn(self, state: State) -> Turn:
        return flows.handover(state, composer())


class ActionFallback(MailhilfeAction):
    """Not understood: ask to rephrase; the second time in a row offer a human."""

    def name(self) -> Text:
        return "action_fallback"

    def turn(self, state: State) -> Turn:
        if state.slot("bounce_pasted"):
            return flows.explain_bounce(state, composer())
        return flows.not_understood(state, composer())
