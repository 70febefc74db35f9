"""What the bot says and remembers for each kind of turn, without Rasa.

Each function takes the conversation state (slots, latest intent, text, entities) and
returns a :class:`Turn`: messages (domain responses + values) and slot changes. The Rasa
actions in ``actions/`` only translate tracker -> :class:`State` and :class:`Turn` ->
dispatcher/events, so everything here is tested without a Rasa server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from bot.replies.templates import Message

from . import bounce, topics, walkthrough
from .handover import HandoverCase
from .walkthrough import CHECK, DONE, HANDOVER, NEXT, RETRY, SOLVED, Progress

#: intents after which the bot asked to rephrase (no yes/no question is open)
NOT_UNDERSTOOD = ("nlu_fallback", "out_of_scope")

#: slots that describe the progress of one concern; cleared when a new one starts
PROGRESS_SLOTS = ("walkthrough", "step", "failed_attempts", "steps_tried")


@dataclass(frozen=True)
class State:
    slots: Mapping[str, Any] = field(default_factory=dict)
    intent: Optional[str] = None
    text: str = ""
    entities: tuple[Mapping[str, Any], ...] = ()
    #: intents of the user messages so far, latest first (the current one included)
    user_intents: tuple[Optional[str], ...] = ()
    #: the NLU's intent ranking of the latest message: (intent, confidence), best first
    intent_ranking: tuple[tuple[str, float], ...] = ()

    @property
    def consecutive_fallbacks(self) -> int:
        """How many of the latest user messages in a row were not understood (or off topic)."""
        count = 0
        for intent in self.user_intents:
            if intent not in NOT_UNDERSTOOD:
                break
            count += 1
        return count

    @property
    def text_without_entities(self) -> str:
        """The message with the spans of its entities cut out."""
        spans = sorted((e.get("start"), e.get("end")) for e in self.entities
                       if isinstance(e.get("start"), int) and isinstance(e.get("end"), int))
        parts, position = [], 0
        for start, end in spans:
            if start >= position:
                parts.append(self.text[position:start])
                position = end
        parts.append(self.text[position:])
        return " ".join(" ".join(parts).split())

    def slot(self, name: str) -> Any:
        return self.slots.get(name)

    def entity(self, name: str) -> Optional[Any]:
        return next(iter(self.entity_values(name)), None)

    def entity_values(self, name: str) -> list:
        return [e.get("value") for e in self.entities if e.get("entity") == name]


@dataclass
class Turn:
    messages: list = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def extend(self, other: "Turn") -> "Turn":
        self.messages.extend(other.messages)
        self.slots.update(other.slots)
        return self


def _cleared_progress() -> dict[str, Any]:
    return {name: None for name in PROGRESS_SLOTS}


# -- starting a concern -------------------------------------------------------------------------

def protocol_from_server_words(state: State, kb) -> Optional[str]:
    """The protocol a server question names by the server's own word, not its protocol.

    "Postausgangsserver Port bei SSL?" names no protocol entity, but only SMTP has an
    outgoing server. Only for ``ask_server_settings`` and only when the NLU found no
    protocol: an explicit "IMAP" always wins.
    """
    if state.intent != topics.SERVER_SETTINGS or state.entity("protocol") is not None:
        return None
    return kb.protocol_named_in(state.text)


def set_topic(state: State, composer) -> Turn:
    """A topic intent (or a pasted bounce, or ``inform``) arrived: remember what it is about."""
    inferred = None
    if state.slot("bounce_pasted"):
        topic = topics.BOUNCE
    else:
        topic = topics.topic_for_intent(state.intent, state.slot("topic"),
                                        bounce.status_code(state.entity_values("error_code")))
        if state.intent == "inform":
            inferred = topics.infer_topic(composer.kb, state.text_without_entities,
                                          state.intent_ranking)
            topic = inferred or topic
    turn = Turn(slots={"topic": topic, **_cleared_progress()})
    if not topics.keeps_remembered_protocol(topic, state.slot("protocol"),
                                            mentioned_now=state.entity("protocol") is not None):
        turn.slots["protocol"] = None
    if topic == topics.BOUNCE:
        turn.slots["bounce_category"] = None
    if topic == topics.MAILBOX_FULL and topics.MAILBOX_FULL in (state.intent, inferred):
        turn.messages.append(composer.mailbox_quota())
    return turn


def start(state: State, composer) -> Turn:
    """The details are complete: give the answer or the first step of the walkthrough."""
    topic = state.slot("topic")
    kb = composer.kb
    client, protocol = state.slot("client"), state.slot("protocol")
    if topic is None:
        return Turn(messages=[_message("utter_what_topic")])
    if topic == topics.SERVER_SETTINGS:
        return Turn(messages=[composer.server_settings(protocol or "imap",
                                                       state.slot("encryption"))])
    if topic == topics.BOUNCE:
        return explain_bounce(state, composer)

    turn = Turn()
    if state.intent == "inform" and topic in (topics.SETUP, topics.SEND_PROBLEM):
        turn.messages.append(_message("utter_setting_changed",
                                      client_name=composer.client_name(client),
                                      protocol_name=composer.protocol_name(
                                          "smtp" if topic == topics.SEND_PROBLEM else protocol)))
    article_id = None
    if topic in (topics.RECEIVE_PROBLEM, topics.LOGIN_PROBLEM):
        article_id = state.slot("walkthrough") or walkthrough.choose_problem(
            kb, topic, state.text, client)
    plan = walkthrough.build_plan(kb, topic, client=client, protocol=protocol,
                                  article_id=article_id)
    if topic == topics.SETUP:
        turn.messages.append(composer.settings(client, protocol or "imap"))
    elif topic == topics.SEND_PROBLEM:
        turn.messages.append(_message("utter_send_error_hint"))
        turn.messages.append(composer.settings(client, "smtp"))
    return turn.extend(_begin(plan, composer))


def _begin(plan, composer) -> Turn:
    if plan is None or not plan.stages:
        return Turn(messages=[_message("utter_walkthrough_solved")], slots=_cleared_progress())
    return Turn(messages=[composer.stage(plan.stages[0])],
                slots={"walkthrough": plan.article_id, "step": 0, "failed_attempts": 0,
                       "steps_tried": []})


# -- bounces ------------------------------------------------------------------------------------------

def explain_bounce(state: State, composer) -> Turn:
    """Explain a bounce from a button, a pasted report or a code; ask for the text otherwise."""
    kb = composer.kb
    slots: dict[str, Any] = {"topic": topics.BOUNCE, **_cleared_progress()}
    category = state.entity("bounce_category")
    codes: tuple[str, ...] = ()
    if category not in _categories():
        info = bounce.classify(state.text, kb)
        if not bounce.is_pasted_bounce(state.text, info):
            code = state.entity("error_code")
            if code and not info.decided_by_wording:
                info = bounce.classify(str(code), kb)
            if not info.decided_by_wording:
                # only a code like "554" or "Fehler beim Senden": ask for the wording
                slots["bounce_category"] = None
                if info.codes and not code:
                    slots["error_code"] = info.codes[-1]
                return Turn(messages=[_message("utter_ask_bounce_text")], slots=slots)
        category, codes = info.category, info.codes
    slots["bounce_category"] = category
    code = next((c for c in reversed(codes) if c), None)
    if code:
        slots["error_code"] = code
    plan = walkthrough.build_plan(kb, topics.BOUNCE, article_id=kb.bounce_article(category).id)
    slots.update({"walkthrough": plan.article_id, "step": 0, "failed_attempts": 0,
                  "steps_tried": []})
    return Turn(messages=[composer.bounce(category, codes)], slots=slots)


def _categories() -> tuple[str, ...]:
    from bot.kb import schema
    return tuple(c for c in schema.BOUNCE_CATEGORIES)


# -- Ja / Nein --------------------------------------------------------------------------------------

def answer(state: State, composer, affirmed: bool) -> Turn:
    """The customer answered "Hat das geklappt?" (or said yes/no outside a walkthrough)."""
    topic, article_id = state.slot("topic"), state.slot("walkthrough")
    plan = None
    if topic and article_id:
        plan = walkthrough.build_plan(composer.kb, topic, client=state.slot("client"),
                                      protocol=state.slot("protocol"), article_id=article_id)
    if plan is None:
        earlier = State(user_intents=state.user_intents[1:]).consecutive_fallbacks
        if earlier:
            # "ja" to "Können Sie es anders formulieren?" answers nothing: not understood
            return fallback(earlier + 1)
        name = "utter_no_walkthrough_affirm" if affirmed else "utter_no_walkthrough_deny"
        return Turn(messages=[_message(name)])
    progress = Progress(step=int(state.slot("step") or 0),
                        failed_attempts=int(state.slot("failed_attempts") or 0),
                        steps_tried=tuple(state.slot("steps_tried") or ()))
    outcome = walkthrough.answer(plan, progress, affirmed)
    slots = {"step": outcome.progress.step, "failed_attempts": outcome.progress.failed_attempts,
             "steps_tried": list(outcome.progress.steps_tried)}
    if outcome.kind == NEXT:
        messages = [composer.stage(outcome.stage)]
        if outcome.stage.kind == CHECK and not affirmed:
            messages.insert(0, _message("utter_walkthrough_next"))
        return Turn(messages=messages, slots=slots)
    if outcome.kind == RETRY:
        return Turn(messages=[composer.retry(outcome.stage)], slots=slots)
    if outcome.kind in (DONE, SOLVED):
        name = "utter_walkthrough_done" if outcome.kind == DONE else "utter_walkthrough_solved"
        return Turn(messages=[_message(name)], slots=_cleared_progress())
    assert outcome.kind == HANDOVER
    return handover(state, composer, steps_tried=outcome.progress.steps_tried)


# -- hand-over and fallback ------------------------------------------------------------------------

def handover(state: State, composer, steps_tried=None) -> Turn:
    case = HandoverCase.from_slots(state.slots, steps_tried=steps_tried)
    message, summary = composer.handover(case)
    return Turn(messages=[message],
                slots={"handover_summary": case.record(summary), **_cleared_progress()})


#: consecutive misunderstood messages after which the bot offers a human
FALLBACKS_BEFORE_HANDOVER_OFFER = 2


def fallback(consecutive_fallbacks: int, guess: Optional[str] = None, composer=None) -> Turn:
    """Not understood: offer a human the second time in a row, else a guess or topics."""
    if consecutive_fallbacks >= FALLBACKS_BEFORE_HANDOVER_OFFER:
        return Turn(messages=[_message("utter_offer_handover")])
    if guess and composer is not None:
        return Turn(messages=[_message("utter_rephrase_suggest", suggested_intent=guess,
                                       topic_name=intent_name(composer, guess))])
    return Turn(messages=[_message("utter_rephrase")])


def not_understood(state: State, composer) -> Turn:
    """``nlu_fallback``: suggest the likely concern when NLU and KB search agree on one."""
    guess = topics.guess_intent(composer.kb, state.text, state.intent_ranking)
    return fallback(state.consecutive_fallbacks, guess, composer)


def intent_name(composer, intent: str) -> str:
    """How a concern is named to the customer: topic label or the KB article's title."""
    if intent in topics.TOPIC_INTENTS:
        return composer.topic_name(intent)
    article_id = article_for_intent(composer.kb, intent)
    return composer.kb.article(article_id).title if article_id else composer.topic_name(None)


def answer_article(state: State, composer) -> Turn:
    """One-shot question about a procedure, policy, limit or rule."""
    article_id = article_for_intent(composer.kb, state.intent)
    if article_id is None:
        return Turn(messages=[_message("utter_rephrase")])
    return Turn(messages=[composer.article(article_id)])


def article_for_intent(kb, intent: Optional[str]) -> Optional[str]:
    for article_id in topics.ONE_SHOT_ARTICLES.get(intent or "", ()):
        if kb.has_article(article_id):
            return article_id
    tagged = kb.articles_for_intent(intent) if intent else []
    return tagged[0].id if tagged else None


def _message(response: str, **values: Any) -> Message:
    return Message(response, values)
