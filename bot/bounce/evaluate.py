"""Accuracy of the bounce analyser on a labelled corpus.

    python -m bot.bounce.evaluate [--corpus DIR] [--out DIR] [--fail-under 0.95]

The corpus folder holds `labels.jsonl` (one {"file", "category", ...} per
line) and the files it names. Writes `eval.json` and `eval.md` to
`reports/bounce/` and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analyser import analyse
from .result import CATEGORIES
from .rules import load_rules

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "bounces-sisimai"
DEFAULT_OUT = REPO_ROOT / "reports" / "bounce"
TARGET_OVERALL = 0.95
TARGET_PER_CATEGORY = 0.85


@dataclass
class Case:
    file: str
    expected: str
    label: dict[str, Any]


def load_cases(corpus: Path) -> list[Case]:
    cases = []
    with (corpus / "labels.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                label = json.loads(line)
                cases.append(Case(label["file"], label["category"], label))
    return cases


def evaluate(corpus: Path) -> dict[str, Any]:
    cases = load_cases(corpus)
    load_rules()  # time the analysis, not the one-off loading of the rules
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    misclassified = []
    slowest = (0.0, "")
    for case in cases:
        data = (corpus / case.file).read_bytes()
        started = time.perf_counter()
        result = analyse(data).to_dict()
        elapsed = time.perf_counter() - started
        slowest = max(slowest, (elapsed, case.file))
        confusion[case.expected][result["category"]] += 1
        if result["category"] != case.expected:
            misclassified.append(
                {
                    "file": case.file,
                    "expected": case.expected,
                    "got": result["category"],
                    "confidence": result["confidence"],
                    "evidence": result["evidence"],
                    "diagnostic": result["diagnostic"],
                    "label_diagnostic": case.label.get("diagnostic"),
                }
            )
    per_category = {}
    for category in sorted(confusion):
        total = sum(confusion[category].values())
        correct = confusion[category][category]
        per_category[category] = {"total": total, "correct": correct, "accuracy": round(correct / total, 4)}
    total = len(cases)
    correct = total - len(misclassified)
    return {
        "corpus": str(corpus),
        "total": total,
        "correct": correct,
        "accuracy": round(correct / total, 4) if total else 0.0,
        "targets": {"overall": TARGET_OVERALL, "per_category": TARGET_PER_CATEGORY},
        "per_category": per_category,
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "misclassified": misclassified,
        "slowest_seconds": round(slowest[0], 4),
        "slowest_file": slowest[1],
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Bounce analyser: corpus evaluation",
        "",
        f"Corpus: `{report['corpus']}`  ",
        f"Overall accuracy: **{report['accuracy']:.1%}** ({report['correct']}/{report['total']}); "
        f"target ≥ {TARGET_OVERALL:.0%} overall, ≥ {TARGET_PER_CATEGORY:.0%} per category.  ",
        f"Slowest file: {report['slowest_file']} ({report['slowest_seconds']} s)",
        "",
        "## Per category",
        "",
        "| category | correct | total | accuracy |",
        "|---|---:|---:|---:|",
    ]
    for category, row in report["per_category"].items():
        flag = "" if row["accuracy"] >= TARGET_PER_CATEGORY else " ⚠"
        lines.append(f"| {category} | {row['correct']} | {row['total']} | {row['accuracy']:.1%}{flag} |")
    predicted = [c for c in CATEGORIES if any(c in row for row in report["confusion"].values())]
    lines += ["", "## Confusion matrix (rows: expected, columns: predicted)", ""]
    lines.append("| expected \\ predicted | " + " | ".join(predicted) + " |")
    lines.append("|---|" + "---:|" * len(predicted))
    for expected, row in report["confusion"].items():
        lines.append(f"| {expected} | " + " | ".join(str(row.get(c, "")) for c in predicted) + " |")
    lines += ["", "## Misclassified files", ""]
    if not report["misclassified"]:
        lines.append("None.")
    else:
        lines.append("| file | expected | got | evidence | diagnostic |")
        lines.append("|---|---|---|---|---|")
        for row in report["misclassified"]:
            diagnostic = (row["diagnostic"] or "").replace("|", "\\|")[:160]
            evidence = (row["evidence"] or "").replace("|", "\\|")
            lines.append(f"| {row['file']} | {row['expected']} | {row['got']} | {evidence} | {diagnostic} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 below this overall accuracy")
    args = parser.parse_args(argv)
    if not (args.corpus / "labels.jsonl").is_file():
        print(f"corpus not found: {args.corpus / 'labels.jsonl'}", file=sys.stderr)
        return 2
    report = evaluate(args.corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "eval.md").write_text(render_markdown(report), encoding="utf-8")
    print(f"bounce analyser: {report['accuracy']:.1%} overall ({report['correct']}/{report['total']})")
    for category, row in report["per_category"].items():
        mark = "ok" if row["accuracy"] >= TARGET_PER_CATEGORY else "BELOW TARGET"
        print(f"  {category:24} {row['accuracy']:6.1%}  ({row['correct']}/{row['total']})  {mark}")
    print(f"  misclassified: {len(report['misclassified'])}; report: {args.out / 'eval.md'}")
    if args.fail_under is not None and report["accuracy"] < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
