"""domain.yml, rules and code agree: every intent handled, every response defined."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bot.kb import schema

from dialogue_support import CLIENTS, DOMAIN, ENCRYPTIONS, PROTOCOLS, ROOT

RULES = [r for f in sorted((ROOT / "data" / "rules").glob("*.yml"))
         for r in yaml.safe_load(f.read_text(encoding="utf-8"))["rules"]]
CODE = "\n".join(p.read_text(encoding="utf-8")
                 for d in ("actions", "bot/dialogue", "bot/replies")
                 for p in (ROOT / d).glob("*.py"))


def first_intents(rule):
    steps = rule["steps"]
    first = steps[0]
    if "or" in first:
        return [s["intent"] for s in first["or"]]
    return [first["intent"]] if "intent" in first else []


@pytest.mark.parametrize("intent", schema.INTENTS)
def test_every_contract_intent_is_in_the_domain_and_has_an_unconditional_rule(intent):
    assert intent in DOMAIN["intents"]
    unconditional = [r for r in RULES if intent in first_intents(r) and not r.get("condition")]
    assert unconditional, f"no rule answers {intent}"


def test_contract_slots_and_values():
    slots = DOMAIN["slots"]
    assert slots["client"]["values"] == list(CLIENTS)
    assert slots["protocol"]["values"] == list(PROTOCOLS)
    assert slots["encryption"]["values"] == list(ENCRYPTIONS)
    assert set(slots["bounce_category"]["values"]) == set(schema.BOUNCE_CATEGORIES)
    for name in ("client", "protocol", "encryption", "error_code"):
        assert {"type": "from_entity", "entity": name} in slots[name]["mappings"], name
        assert not any(m.get("conditions") for m in slots[name]["mappings"]), \
            f"{name} must be filled from entities anywhere in the conversation"


def test_every_response_named_in_code_is_defined():
    used = set(re.findall(r"\"(utter_[a-z_]+)\"", CODE))
    used |= {f"utter_part_{p}" for p in re.findall(r"part\(\"([a-z_]+)\"", CODE)}
    missing = {u for u in used if u not in DOMAIN["responses"] and not u.endswith("_")}
    assert not missing, missing


def test_every_custom_action_in_rules_is_declared():
    actions = {s["action"] for r in RULES for s in r["steps"] if "action" in s}
    custom = {a for a in actions if a.startswith("action_") and a != "action_deactivate_loop"}
    assert custom <= set(DOMAIN["actions"]), custom - set(DOMAIN["actions"])


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_button_payloads_use_domain_intents_and_canonical_values(name):
    from bot.replies import get_templates
    # rendered as Rasa renders them ("{{...}}" escapes the braces of JSON payloads)
    for button in get_templates().buttons(name, suggested_intent="receive_problem"):
        button = button.to_dict()
        match = re.fullmatch(r"/([a-z_]+)(\{.*\})?", button["payload"])
        assert match, button
        assert match.group(1) in DOMAIN["intents"], button
        for entity, value in json.loads(match.group(2) or "{}").items():
            assert entity in DOMAIN["entities"]
            allowed = DOMAIN["slots"][entity].get("values")
            assert allowed is None or value in allowed, button


def test_the_bot_never_asks_for_a_password():
    asking = re.compile(r"(nennen|schicken|geben|schreiben|verraten) Sie (mir|uns)[^.?!]*"
                        r"(Passwort|Kennwort)", re.IGNORECASE)
    negated = re.compile(r"\b(nie|niemals|nicht|kein|keine)\b", re.IGNORECASE)
    for name, variants in DOMAIN["responses"].items():
        for match in asking.finditer(variants[0]["text"]):
            assert negated.search(match.group(0)), f"{name}: {match.group(0)}"


def test_responses_use_sie_not_du():
    du = re.compile(r"\b(du|dein|deine|dir|dich)\b", re.IGNORECASE)
    for name, variants in DOMAIN["responses"].items():
        assert not du.search(variants[0]["text"]), name


def test_rasa_sdk_registers_no_abstract_base():
    from actions.common import MailhilfeAction
    import inspect
    assert inspect.isabstract(MailhilfeAction)
