"""The holdout must never overlap the training data (else its scores mean nothing)."""
from __future__ import annotations

from collections import Counter

from ._nlu_files import holdout_data, normalise, normalise_loose, training_data


def _overlap(norm):
    train = {norm(m.get("text")) for m in training_data().intent_examples}
    return sorted({m.get("text") for m in holdout_data().intent_examples if norm(m.get("text")) in train})


def test_no_holdout_text_in_training_data():
    overlap = _overlap(normalise)
    assert not overlap, f"holdout texts also in data/nlu (lowercase, whitespace collapsed): {overlap}"


def test_no_holdout_text_in_training_data_ignoring_punctuation():
    overlap = _overlap(normalise_loose)
    assert not overlap, f"holdout texts also in data/nlu (ignoring punctuation): {overlap}"


def test_holdout_has_no_duplicates():
    counts = Counter(normalise(m.get("text")) for m in holdout_data().intent_examples)
    dupes = [t for t, n in counts.items() if n > 1]
    assert not dupes, f"duplicate holdout texts: {dupes}"


def test_normalisation_catches_copies():
    # guards the guard: a copy with other case/spacing must be recognised
    assert normalise("  Mein  Postfach\tist VOLL ") == normalise("mein postfach ist voll")
    assert normalise_loose("Hallo!") == normalise_loose("hallo")
    assert normalise("Postfach voll") != normalise("Postfach ist voll")
