"""Sanity of the NLU training data and the holdout against the contract."""
from __future__ import annotations

from collections import Counter

import pytest

from ._nlu_files import (
    CANONICAL, CONTRACT_INTENTS, ERROR_CODE, holdout_data, normalise, training_data,
)

MIN_EXAMPLES = 30
MIN_HOLDOUT = 200


def _canonical_value(entity: dict, synonyms: dict) -> str:
    """The value EntitySynonymMapper would produce for this annotation."""
    value = str(entity["value"])
    return synonyms.get(value.lower(), value)


def test_every_contract_intent_has_enough_examples():
    counts = Counter(m.get("intent") for m in training_data().intent_examples)
    too_few = {i: counts.get(i, 0) for i in CONTRACT_INTENTS if counts.get(i, 0) < MIN_EXAMPLES}
    assert not too_few, f"intents with fewer than {MIN_EXAMPLES} examples: {too_few}"


def test_no_intents_outside_the_contract():
    intents = {m.get("intent") for m in training_data().intent_examples}
    extra = intents - set(CONTRACT_INTENTS)
    assert not extra, f"intents not in the contract (ask before adding): {extra}"


def test_no_duplicate_training_examples():
    seen = {}
    clashes = []
    for m in training_data().intent_examples:
        key = normalise(m.get("text"))
        if key in seen and seen[key] != m.get("intent"):
            clashes.append((m.get("text"), seen[key], m.get("intent")))
        seen.setdefault(key, m.get("intent"))
    assert not clashes, f"same text under different intents: {clashes}"


def test_every_annotated_entity_maps_to_a_canonical_value():
    data = training_data()
    synonyms = {k.lower(): v for k, v in data.entity_synonyms.items()}
    bad = []
    for m in data.intent_examples:
        for e in m.get("entities") or []:
            if e["entity"] == "error_code":
                text = m.get("text")[e["start"]:e["end"]]
                if not ERROR_CODE.match(str(e["value"])) or str(e["value"]) != text:
                    bad.append((m.get("text"), e))
            elif e["entity"] in CANONICAL:
                if _canonical_value(e, synonyms) not in CANONICAL[e["entity"]]:
                    bad.append((m.get("text"), e["entity"], e["value"]))
            else:
                bad.append((m.get("text"), "unknown entity", e["entity"]))
    assert not bad, f"entities without a canonical value: {bad}"


def test_every_synonym_targets_a_canonical_value():
    allowed = set().union(*CANONICAL.values())
    bad = {k: v for k, v in training_data().entity_synonyms.items() if v not in allowed}
    assert not bad, f"synonyms to non-contract values: {bad}"


def test_every_entity_type_and_value_is_trained():
    data = training_data()
    synonyms = {k.lower(): v for k, v in data.entity_synonyms.items()}
    seen = {k: set() for k in CANONICAL}
    codes = 0
    for m in data.intent_examples:
        for e in m.get("entities") or []:
            if e["entity"] in CANONICAL:
                seen[e["entity"]].add(_canonical_value(e, synonyms))
            elif e["entity"] == "error_code":
                codes += 1
    missing = {k: CANONICAL[k] - v for k, v in seen.items() if CANONICAL[k] - v}
    assert not missing, f"canonical values never annotated in data/nlu: {missing}"
    assert codes >= 30, f"only {codes} error_code annotations"


def test_holdout_covers_every_intent_and_entity():
    examples = holdout_data().intent_examples
    assert len(examples) >= MIN_HOLDOUT, f"holdout has only {len(examples)} utterances"
    intents = Counter(m.get("intent") for m in examples)
    missing = [i for i in CONTRACT_INTENTS if intents.get(i, 0) < 5]
    assert not missing, f"intents with fewer than 5 holdout utterances: {missing}"
    entities = Counter(e["entity"] for m in examples for e in m.get("entities") or [])
    for entity in list(CANONICAL) + ["error_code"]:
        assert entities[entity] >= 8, f"holdout has only {entities[entity]} {entity} entities"


def test_holdout_values_are_canonical():
    """The holdout names canonical values explicitly (independent of data/nlu synonyms)."""
    bad = []
    for m in holdout_data().intent_examples:
        for e in m.get("entities") or []:
            if e["entity"] == "error_code":
                ok = ERROR_CODE.match(str(e["value"])) and str(e["value"]) == m.get("text")[e["start"]:e["end"]]
            else:
                ok = e["value"] in CANONICAL.get(e["entity"], set())
            if not ok:
                bad.append((m.get("text"), e["entity"], e["value"]))
    assert not bad, f"holdout entities without canonical value: {bad}"


@pytest.mark.parametrize("value", ["Outlook 365", "MS Outlook", "Outlook 2019", "outlok", "Mac Mail",
                                   "Mail auf dem Mac", "Apple Mail", "Windows 10 Mail", "Mail-App",
                                   "TB", "Mozilla", "Thunderbird", "POP", "pop3", "POP3", "IMAP4",
                                   "SSL", "TLS", "SSL/TLS", "STARTTLS", "ohne Verschlüsselung",
                                   "unverschlüsselt", "Eudora", "eM Client", "Gmail-App"])
def test_required_synonyms(value):
    synonyms = {k.lower(): v for k, v in training_data().entity_synonyms.items()}
    allowed = set().union(*CANONICAL.values())
    assert synonyms.get(value.lower(), value.lower()) in allowed, f"{value!r} does not map to a contract value"
