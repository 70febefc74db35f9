"""Quick quality gate for `make test`: the trained model on the holdout.

Uses the already trained `models/mailhilfe.tar.gz` (no training here; the full
evaluation with a fresh training is `make eval-nlu`). Fails when intent macro-F1 or
entity F1 (type + canonical value + overlapping span) drops below 0.90, or when
emoji-only, empty or nonsense input gets an e-mail intent.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "mailhilfe.tar.gz"
MIN_INTENT_MACRO_F1 = 0.90
MIN_ENTITY_F1 = 0.90


def _load_eval_module():
    spec = importlib.util.spec_from_file_location("eval_nlu", ROOT / "scripts" / "eval_nlu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def evaluation():
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first")
    eval_nlu = _load_eval_module()
    result = eval_nlu.evaluate(MODEL, eval_nlu.load_holdout())
    return eval_nlu, result


def _stale_hint() -> str:
    try:
        from ops.train import is_stale

        return " (the model is older than config/data: run `make train`)" if is_stale() else ""
    except Exception:  # pragma: no cover - hint only
        return ""


def test_intent_macro_f1(evaluation):
    _, result = evaluation
    intent = result["intent"]
    worst = "\n".join(f"  {e['gold']} -> {e['predicted']} ({e['confidence']}): {e['text']}"
                      for e in result["worst_intent_errors"][:10])
    assert intent["macro_f1"] >= MIN_INTENT_MACRO_F1, (
        f"intent macro-F1 {intent['macro_f1']:.3f} < {MIN_INTENT_MACRO_F1} "
        f"(accuracy {intent['accuracy']:.3f}){_stale_hint()}\nworst errors:\n{worst}"
    )


def test_entity_f1(evaluation):
    _, result = evaluation
    micro = result["entity"]["micro"]
    per_entity = {k: v["f1"] for k, v in result["entity"]["per_entity"].items()}
    errors = "\n".join(f"  {e['text']}: missed {e['missed']}, spurious {e['spurious']}"
                       for e in result["entity_errors"][:10])
    assert micro["f1"] >= MIN_ENTITY_F1, (
        f"entity F1 {micro['f1']:.3f} < {MIN_ENTITY_F1}, per entity {per_entity}{_stale_hint()}\n{errors}"
    )


def test_every_entity_type_is_found(evaluation):
    _, result = evaluation
    weak = {k: v["f1"] for k, v in result["entity"]["per_entity"].items() if v["f1"] < 0.8}
    assert not weak, f"entity types with F1 < 0.8: {weak}"


def test_nonsense_gets_no_email_intent(evaluation):
    eval_nlu, result = evaluation
    bad = [p for p in result["nonsense_probes"] if p["intent"] not in eval_nlu.CONVERSATION_INTENTS]
    assert not bad, f"emoji/empty/nonsense input classified as an e-mail topic: {bad}"


def test_metric_code_can_fail():
    """The scoring itself: a wrong value or a wrong intent must count as an error."""
    eval_nlu = _load_eval_module()
    gold = [{"entity": "client", "value": "outlook", "start": 4, "end": 11}]
    wrong_value = [{"entity": "client", "value": "Outlook 2013", "start": 4, "end": 16}]
    matched, missed, spurious = eval_nlu.match_entities(gold, wrong_value)
    assert not matched and missed and spurious
    metrics = eval_nlu.intent_metrics(["a", "a", "b"], ["a", "b", "b"])
    assert metrics["accuracy"] == pytest.approx(2 / 3, abs=1e-4)  # reported to 4 decimals
    assert metrics["macro_f1"] < 1.0
