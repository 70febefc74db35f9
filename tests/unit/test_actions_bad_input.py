"""Every custom action survives bad input and never repeats a password.

The actions are found the way the action server finds them (every concrete subclass of
rasa-sdk's `Action` in the `actions` package, form and slot validation actions included),
so actions added later are covered without touching this file. Each one is run through
rasa-sdk's `ActionExecutor` with the tracker and domain Rasa would send, after a latest
message that is empty, blank, 100,000 characters long, control characters, emoji only,
HTML, SQL-looking text or a password, with entities and slot values of wrong types and
unknown values, inside and outside the form. Each run must finish in time, return a list
of well-formed, JSON-serialisable events and valid messages, and never contain the
password the customer typed.
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import pkgutil
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import FormValidationAction, ValidationAction

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILE = ROOT / "domain.yml"
RUN_TIME_LIMIT = 20.0  # seconds per action run (generous: the machine is shared)

SECRETS = ["Sommer2024!", "x7#Lk9q", "geheim123", "Geheim123!"]
PASSWORD_TEXTS = [
    "mein Passwort ist Sommer2024!",
    "Kennwort: x7#Lk9q",
    "pw=geheim123",
    "Benutzername: max.mustermann@dokom.net\nGeheim123!",
    "Sommer2024!",  # a bare password typed as the answer to a question
    "x7#Lk9q",
]
BAD_TEXTS = {
    "empty": "",
    "whitespace": " \t\n\r\n  \u00a0\u2003 ",
    "huge": ("Outlook IMAP Fehler 554 Postfach voll " * 2700)[:100_000],
    "huge_one_word": "a" * 100_000,
    "control": "\x00\x01\x02\x07\x08\x0b\x0c\x1b[31m\x7f\x9f\u200b\u202e\ufeff",
    "lone_surrogate_like": "Outlook \ufffd\ufffd \udcff".encode("utf-8", "surrogatepass")
    .decode("utf-8", "replace"),
    "emoji": "😀🎉📧🔥👍🏽👨‍👩‍👧",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)><b>Outlook</b>",
    "sql": "'; DROP TABLE events; -- \" OR 1=1; SELECT * FROM users WHERE '1'='1",
    "json": '{"client": ["outlook"], "protocol": {"$ne": null}}',
    "format_string": "{client} {0} %s %(x)s ${protocol} {{}} {",
    "markdown": "**fett** [Link](javascript:alert(1)) `code` ```\nblock\n```",
    **{f"password_{i}": text for i, text in enumerate(PASSWORD_TEXTS)},
}
INTENTS = [None, "nlu_fallback", "inform", "report_bounce", "deny", "no_such_intent"]
BAD_VALUES = [None, "", " ", 554, 5.5, True, [], ["outlook", "imap"], {"value": "outlook"},
              "eudora", "no_such_value", "x" * 5000, "<script>alert(1)</script>",
              "'; DROP TABLE x; --", "😀", "\x00\x1b", "Sommer2024!"]


# ------------------------------------------------------------ discovery
def _import_all(package: str) -> None:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def ours(module: str) -> bool:
    return module == "actions" or module.startswith("actions.")


@lru_cache(maxsize=1)
def discovered() -> Dict[str, type]:
    """name -> class of every concrete Action subclass defined in the actions package."""
    _import_all("actions")
    found: Dict[str, type] = {}
    for cls in set(_subclasses(Action)):
        if not ours(cls.__module__) or inspect.isabstract(cls):
            continue
        name = cls().name()
        assert isinstance(name, str) and name, cls
        assert name not in found, f"two actions named {name!r}: {found[name]} and {cls}"
        found[name] = cls
    return found


@lru_cache(maxsize=1)
def executor() -> ActionExecutor:
    """What `python -m rasa_sdk --actions actions` registers."""
    ex = ActionExecutor()
    ex.register_package("actions")
    return ex


@lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    """The domain as Rasa sends it to the action server."""
    try:
        from rasa.shared.core.domain import Domain
    except ImportError:  # rasa not installed: the YAML is close enough
        return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return Domain.load(str(DOMAIN_FILE)).as_dict()


def action_names() -> List[str]:
    return sorted(discovered())


def form_names() -> List[str]:
    return sorted((domain().get("forms") or {}).keys())


def custom_domain_actions() -> List[str]:
    raw = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return [a if isinstance(a, str) else next(iter(a)) for a in raw.get("actions") or []]


def test_discovery_finds_the_actions_the_server_registers():
    names = set(action_names())
    assert names, "no custom actions found in actions/"
    # (other test modules may define Action subclasses of their own: only ours count)
    registered = {name for name, run in executor().actions.items()
                  if ours(type(getattr(run, "__self__", None)).__module__)}
    assert names == registered, "this test and rasa-sdk see different actions"


def test_every_custom_action_of_the_domain_is_implemented():
    missing = [a for a in custom_domain_actions()
               if a.startswith(("action_", "validate_")) and a not in discovered()]
    assert not missing, f"in domain.yml but not in actions/: {missing}"


# ------------------------------------------------------------ trackers
_counter = iter(range(10**9))


def user_event(text: Any, intent: Optional[str], entities: List[Any]) -> Dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.4} if intent else {},
             "entities": entities, "intent_ranking": []}
    return {"event": "user", "timestamp": float(next(_counter)), "text": text,
            "parse_data": parse, "input_channel": "rest", "message_id": "m"}


def tracker_state(text: Any, intent: Optional[str] = "inform", entities: Optional[List[Any]] = None,
                  slots: Optional[Dict[str, Any]] = None, set_slots: Optional[Dict[str, Any]] = None,
                  form: Optional[str] = None, requested: Optional[str] = None) -> Dict[str, Any]:
    """The tracker JSON Rasa sends: every domain slot, the latest message, its events."""
    all_slots = {name: None for name in domain().get("slots") or {}}
    all_slots["requested_slot"] = requested
    all_slots.update(slots or {})
    all_slots.update(set_slots or {})
    entities = list(entities or [])
    events: List[Dict[str, Any]] = [
        {"event": "action", "timestamp": 0.0, "name": "action_session_start"},
        {"event": "session_started", "timestamp": 0.0},
        {"event": "action", "timestamp": 0.0, "name": "action_listen"},
        user_event("Hallo", "greet", []),
        {"event": "bot", "timestamp": 0.5, "text": "Hallo!"},
        {"event": "action", "timestamp": 0.5, "name": "action_listen"},
    ]
    if form:
        events.append({"event": "active_loop", "timestamp": 0.6, "name": form})
    events.append(user_event(text, intent, entities))
    # what Rasa's slot extraction set after the message (validation actions look here)
    for name, value in (set_slots or {}).items():
        events.append({"event": "slot", "timestamp": 1.0, "name": name, "value": value})
    return {
        "sender_id": f"bad-input-{next(_counter)}",
        "slots": all_slots,
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.4} if intent else {},
                           "entities": entities, "intent_ranking": []},
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": form} if form else {},
        "latest_action_name": "action_listen",
        "latest_event_time": 1.0,
        "latest_input_channel": "rest",
    }


def global_validation_actions() -> List[str]:
    return [n for n, cls in discovered().items()
            if issubclass(cls, ValidationAction) and not issubclass(cls, FormValidationAction)]


def form_validation_action(form: str) -> Optional[str]:
    name = f"validate_{form}"
    return name if name in discovered() else None


async def as_rasa_would_send(name: str, state: Dict[str, Any]) -> Dict[str, Any]:
    """The tracker `name` sees in Rasa's order: after a user message Rasa runs the global
    slot validation (and, with an active form, the form's validation) before any other
    custom action, and applies their slot events."""
    validators = global_validation_actions()
    form = (state.get("active_loop") or {}).get("name")
    if form and form_validation_action(form):
        validators.append(form_validation_action(form))
    if name in validators:
        return state
    state = json.loads(json.dumps(state))
    for validator in validators:
        result = await run_call(validator, state)
        for event in result.get("events") or []:
            if event.get("event") == "slot" and event.get("name") in state["slots"]:
                state["slots"][event["name"]] = event.get("value")
                state["events"].append(event)
    return state


async def run_action(name: str, state: Dict[str, Any]) -> Dict[str, Any]:
    return await run_call(name, await as_rasa_would_send(name, state))


async def run_call(name: str, state: Dict[str, Any]) -> Dict[str, Any]:
    call = {"next_action": name, "sender_id": state["sender_id"], "tracker": state,
            "domain": domain(), "version": "3.6.2"}
    try:
        result = await asyncio.wait_for(executor().run(call), RUN_TIME_LIMIT)
    except Exception as error:  # noqa: BLE001 - reported with the input that caused it
        text = state["latest_message"]["text"]
        shown = repr(text[:80]) + ("..." if isinstance(text, str) and len(text) > 80 else "") \
            if isinstance(text, str) else repr(text)
        pytest.fail(f"{name} raised {type(error).__name__}: {error} for text {shown}, "
                    f"entities {state['latest_message']['entities']!r:.200}, "
                    f"slots {({k: v for k, v in state['slots'].items() if v is not None})!r:.300}",
                    pytrace=True)
    return result


def check_result(name: str, result: Dict[str, Any], secrets_typed: List[str],
                 state: Optional[Dict[str, Any]] = None) -> None:
    """Well-formed result; the typed secrets appear in no message and in no slot value
    the action introduced (re-setting a value Rasa already extracted is no echo)."""
    assert isinstance(result, dict), (name, result)
    events, responses = result.get("events"), result.get("responses")
    assert isinstance(events, list) and isinstance(responses, list), (name, result)
    for event in events:
        assert isinstance(event, dict) and isinstance(event.get("event"), str), (name, event)
        if event["event"] == "slot":
            assert isinstance(event.get("name"), str), (name, event)
    for message in responses:
        assert isinstance(message, dict), (name, message)
        response = message.get("response") or message.get("template")
        if response:
            assert response in (domain().get("responses") or {}), \
                f"{name} uttered unknown response {response!r}"
        for button in message.get("buttons") or []:
            assert isinstance(button.get("title"), str) and isinstance(button.get("payload"), str)
    dumped = json.dumps(result, ensure_ascii=False, default=str)  # must be serialisable
    json.loads(dumped)
    known = {}
    if state is not None:
        known = dict(state["slots"])
        known.update({e["name"]: e.get("value") for e in state["events"] if e.get("event") == "slot"})
    new_values = [e for e in events if not (e["event"] == "slot" and e.get("name") in known
                                            and e.get("value") == known[e["name"]])]
    shown = json.dumps([responses, new_values], ensure_ascii=False, default=str)
    for secret in secrets_typed:
        assert secret not in shown, f"{name} repeats the password {secret!r}: {shown[:500]}"


def secrets_in(*values: Any) -> List[str]:
    blob = json.dumps(values, ensure_ascii=False, default=str)
    return [s for s in SECRETS if s in blob]


NAMES = action_names()


# ------------------------------------------------------------ the tests
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
async def test_bad_text_outside_a_form(name, kind):
    text = BAD_TEXTS[kind]
    for intent in INTENTS:
        state = tracker_state(text, intent)
        check_result(name, await run_action(name, state), secrets_in(text), state)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
async def test_bad_text_as_answer_to_a_form_question(name, kind):
    text = BAD_TEXTS[kind]
    for form in form_names():
        for requested in list(domain()["forms"][form].get("required_slots") or []):
            for intent in ("inform", None):
                state = tracker_state(text, intent, form=form, requested=requested,
                                      slots={"topic": "setup_client"})
                check_result(name, await run_action(name, state), secrets_in(text), state)


def entity_variants() -> List[Any]:
    names = list(domain().get("entities") or []) + ["no_such_entity"]
    names = [n if isinstance(n, str) else next(iter(n)) for n in names]
    variants: List[Any] = []
    for value in BAD_VALUES:
        variants.append([{"entity": n, "value": value, "start": 0, "end": 3} for n in names])
    variants += [
        [{"entity": "client"}],                         # no value
        [{"value": "outlook"}],                         # no entity name
        [{"entity": None, "value": None}],
        [{"entity": 5, "value": "imap"}],
        [{"entity": "client", "value": "outlook", "start": "x", "end": None, "confidence": "hoch"}],
        [{"entity": "client", "value": v} for v in ("outlook", "thunderbird", "apple_mail", "eudora")],
    ]
    return variants


@pytest.mark.parametrize("name", NAMES)
async def test_entities_of_wrong_types_and_unknown_values(name):
    slot_names = [s for s in (domain().get("slots") or {}) if s in ("client", "protocol", "encryption",
                                                                     "error_code")]
    for entities in entity_variants():
        for form in [None] + form_names():
            requested = "client" if form else None
            # Rasa's extraction would copy entity values into slots of the same name
            set_slots = {e["entity"]: e.get("value") for e in entities
                         if isinstance(e.get("entity"), str) and e["entity"] in slot_names}
            for intent in ("inform", "setup_client", "report_bounce", None):
                state = tracker_state("Outlook IMAP 554", intent, entities=entities,
                                      set_slots=set_slots, form=form, requested=requested)
                check_result(name, await run_action(name, state), secrets_in(entities), state)


# Slots a customer can fill (entity mappings, also through a crafted button payload such
# as `/inform{"protocol": ["imap"]}`) get any JSON value; they arrive as just-extracted
# values, as Rasa sends them. Slots only the actions set get well-typed but stale values:
# a tracker saved before a knowledge-base change may name a guide or step that is gone.
EXTRACTED_STATES = [
    {"client": 5, "protocol": ["imap"], "encryption": {"x": 1}, "error_code": ["554"]},
    {"client": "eudora", "protocol": "ftp", "encryption": "rot13", "error_code": 554},
    {"client": None, "protocol": None, "encryption": None, "error_code": None},
    {"client": True, "protocol": 0.5, "encryption": [], "error_code": {"code": "554"}},
    {"client": "<script>", "protocol": "'; DROP TABLE x; --", "encryption": "😀",
     "error_code": "x" * 5000},
]
STALE_STATES = [
    {},
    {"topic": "no_such_topic", "walkthrough": "no_such_guide", "step": 99.0},
    {"topic": "setup_client", "walkthrough": "guide_outlook_imap", "step": 999.0,
     "failed_attempts": 7.0, "steps_tried": ["no_such_step"]},
    {"topic": "setup_client", "walkthrough": "no_such_guide", "step": 1.0, "client": "outlook",
     "protocol": "imap"},
    {"bounce_category": "unknown", "bounce_pasted": True, "topic": "report_bounce"},
    {"handover_summary": {}, "topic": "report_bounce", "bounce_category": "dnsbl"},
    {"topic": "mailbox_full", "protocol": "pop3", "client": None, "step": 0.0},
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stale", range(len(STALE_STATES)))
@pytest.mark.parametrize("extracted", range(len(EXTRACTED_STATES)))
async def test_slot_values_of_wrong_types_and_unknown_values(name, stale, extracted):
    slot_names = domain().get("slots") or {}
    slots = {k: v for k, v in STALE_STATES[stale].items() if k in slot_names}
    set_slots = {k: v for k, v in EXTRACTED_STATES[extracted].items() if k in slot_names}
    for text in ("ja", "Sommer2024!"):
        for intent in ("affirm", "deny", "human_handoff"):
            for form in [None] + form_names():
                state = tracker_state(text, intent, slots=slots, set_slots=set_slots, form=form,
                                      requested="protocol" if form else None)
                check_result(name, await run_action(name, state), secrets_in(text), state)


@pytest.mark.parametrize("name", NAMES)
async def test_latest_message_of_wrong_shape(name):
    """No text (a tracker before the first message), no latest message, null fields."""
    state = tracker_state("x", "inform")
    state["latest_message"]["text"] = None
    check_result(name, await run_action(name, state), [])
    for latest in ({}, {"text": "Outlook", "intent": None, "entities": None},
                   {"text": None, "intent": {}, "entities": []}):
        state = tracker_state("x", "inform")
        state["latest_message"] = latest
        check_result(name, await run_action(name, state), [])


def test_the_check_catches_an_echoed_password():
    """The secret check is not vacuous: an echo of the typed password is caught."""
    leaked = {"events": [], "responses": [{"text": "Sie schrieben: Kennwort: x7#Lk9q"}]}
    with pytest.raises(AssertionError):
        check_result("demo", leaked, secrets_in("Kennwort: x7#Lk9q"))
    with pytest.raises(AssertionError):
        check_result("demo", {"events": [{"event": "slot", "name": "client", "value": "Sommer2024!"}],
                              "responses": []}, ["Sommer2024!"], tracker_state("Sommer2024!"))
