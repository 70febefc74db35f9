"""Accuracy on the real, labelled bounces of ../shared/corpora/bounces-sisimai."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bounce.evaluate import TARGET_OVERALL, TARGET_PER_CATEGORY, evaluate, render_markdown

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "bounces-sisimai"

pytestmark = pytest.mark.skipif(
    not (CORPUS / "labels.jsonl").is_file(),
    reason=f"bounce corpus not found at {CORPUS} (it lives outside the repository, in ../shared)",
)


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate(CORPUS)


def test_overall_accuracy(report: dict) -> None:
    assert report["total"] >= 150
    assert report["accuracy"] >= TARGET_OVERALL, render_markdown(report)


def test_accuracy_per_category(report: dict) -> None:
    low = {c: row["accuracy"] for c, row in report["per_category"].items() if row["accuracy"] < TARGET_PER_CATEGORY}
    assert not low, low


def test_every_file_is_fast(report: dict) -> None:
    assert report["slowest_seconds"] < 1.0, report["slowest_file"]
