"""Evaluate the NLU pipeline on the held-out set (`make eval-nlu`).

Trains NLU on `data/nlu` with `config.yml` into `reports/nlu/models/` (never into
`models/`), parses every utterance of `tests/nlu/holdout.yml` and writes to
`reports/nlu/`:

* `report.json`   all figures (also for the default config with `--with-default`)
* `report.md`     the same, readable: intent accuracy and macro-F1, per-intent P/R/F1,
                  entity P/R/F1 per entity, fallback/threshold table, training time,
                  the 20 worst intent errors and the entity errors with their texts
* `confusion_matrix.png` (and `confusion_matrix_default.png`)

Entity scoring: a predicted entity is correct when entity type and value (after
synonym mapping; the holdout carries the canonical contract values) match a gold
entity whose character span overlaps. So a client found as "Outlook 2013" but not
mapped to `outlook` counts as wrong.

Options: `--with-default` also trains the default Rasa config (`rasa init`'s pipeline,
language de) on the same split and prints both side by side; `--model PATH` scores an
existing model instead of training (e.g. `models/mailhilfe.tar.gz`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

RASA = ROOT / ".venv" / "bin" / "rasa"
DEFAULT_OUT = ROOT / "reports" / "nlu"
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
NLU_DATA = ROOT / "data" / "nlu"
CONFIG = ROOT / "config.yml"
FALLBACK_INTENT = "nlu_fallback"
ENTITY_TYPES = ("client", "protocol", "encryption", "error_code")

# Inputs that must never get an e-mail intent (issue 3): emoji only, empty, nonsense.
NONSENSE_PROBES = [
    "", "   ", "🙂", "😡😡😡", "🤷‍♂️", "🎉🎉", "asdfgh", "qwertzuiop", "jjjjjjj", "xcvbnm",
    "?!?", "....", "hmm", "lorem ipsum dolor", "blubb", "123", "aaaaaaaaaa", "ölkjhg",
]
# The contract's e-mail topic intents (everything but the conversation intents).
CONVERSATION_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "inform", "bot_challenge",
    "human_handoff", "out_of_scope", FALLBACK_INTENT,
}


# --------------------------------------------------------------------------- data

def load_holdout(path: Path = HOLDOUT) -> List[Dict[str, Any]]:
    """Holdout examples as dicts: text, intent, entities [{entity, value, start, end}]."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        examples.append(
            {
                "text": message.get("text"),
                "intent": message.get("intent"),
                "entities": [
                    {k: e[k] for k in ("entity", "value", "start", "end")}
                    for e in message.get("entities") or []
                ],
            }
        )
    return examples


# --------------------------------------------------------------------------- training

def train_nlu(config: Path, out_dir: Path, name: str, nlu: Path = NLU_DATA) -> Tuple[Path, float, float]:
    """Train NLU in a subprocess (no cache, so the time is a cold training).

    Returns the model, the wall-clock seconds and the CPU seconds (user + system) of the
    training process; on a shared machine the CPU time is the steadier figure.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / f"{name}.tar.gz"
    if model.exists():
        model.unlink()
    env = dict(os.environ)
    env["RASA_MAX_CACHE_SIZE"] = "0"  # measure a full training, not a cache hit
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as cache_home:
        env["RASA_CACHE_DIRECTORY"] = cache_home
        cmd = [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(nlu),
               "--out", str(out_dir), "--fixed-model-name", name]
        print(f"Training {name}: {' '.join(cmd[1:])}", flush=True)
        started = time.monotonic()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        log = out_dir / f"{name}.train.log"
        with log.open("w") as handle:
            result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if result.returncode != 0 or not model.exists():
        raise SystemExit(f"training {name} failed (exit {result.returncode}), see {log}")
    print(f"  trained in {seconds:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return model, seconds, cpu


def default_config(path: Path) -> Path:
    """`rasa init`'s pipeline (Rasa's default config) with language de."""
    import rasa.engine.recipes.default_recipe as recipe_module
    from ruamel.yaml import YAML

    source = Path(recipe_module.__file__).parent / "config_files" / "default_config.yml"
    yaml = YAML()
    config = yaml.load(source.read_text())
    config["language"] = "de"
    config["assistant_id"] = "mailhilfe_default_baseline"
    config.pop("policies", None)
    with path.open("w") as handle:
        yaml.dump(config, handle)
    return path


# --------------------------------------------------------------------------- parsing

def parse_all(model: Path, texts: Iterable[str]) -> Tuple[List[Dict[str, Any]], float]:
    """Parse every text with the model; returns the results and the seconds spent
    parsing (model loading excluded)."""
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))

    async def run() -> Tuple[List[Dict[str, Any]], float]:
        await agent.parse_message("Hallo")  # warm-up: first call builds the TF graph
        started = time.monotonic()
        parsed = [await agent.parse_message(text) for text in texts]
        return parsed, time.monotonic() - started

    return asyncio.run(run())


# --------------------------------------------------------------------------- metrics

def _prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}


def intent_metrics(gold: List[str], pred: List[str]) -> Dict[str, Any]:
    labels = sorted(set(gold))
    per_intent = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        per_intent[label] = _prf(tp, fp, fn)
    accuracy = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold)
    macro = {
        k: round(sum(m[k] for m in per_intent.values()) / len(per_intent), 4)
        for k in ("precision", "recall", "f1")
    }
    return {
        "accuracy": round(accuracy, 4),
        "macro_precision": macro["precision"],
        "macro_recall": macro["recall"],
        "macro_f1": macro["f1"],
        "fallback_count": sum(1 for p in pred if p == FALLBACK_INTENT),
        "per_intent": per_intent,
    }


def _overlaps(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def match_entities(gold: List[Dict[str, Any]], pred: List[Dict[str, Any]], with_value: bool = True):
    """Greedy one-to-one matching; returns (matched pairs, unmatched gold, unmatched pred)."""
    unmatched_pred = list(pred)
    matched, missed = [], []
    for g in gold:
        hit = next(
            (p for p in unmatched_pred
             if p["entity"] == g["entity"] and _overlaps(p, g)
             and (not with_value or str(p["value"]) == str(g["value"]))),
            None,
        )
        if hit is None:
            missed.append(g)
        else:
            unmatched_pred.remove(hit)
            matched.append((g, hit))
    return matched, missed, unmatched_pred


def entity_metrics(examples: List[Dict[str, Any]], results: List[Dict[str, Any]], with_value: bool = True):
    counts = {e: Counter() for e in ENTITY_TYPES}
    errors = []
    for example, result in zip(examples, results):
        pred = [
            {k: e.get(k) for k in ("entity", "value", "start", "end")}
            for e in result.get("entities") or []
            if e.get("entity") in ENTITY_TYPES
        ]
        matched, missed, spurious = match_entities(example["entities"], pred, with_value)
        for g, _ in matched:
            counts[g["entity"]]["tp"] += 1
        for g in missed:
            counts[g["entity"]]["fn"] += 1
        for p in spurious:
            counts[p["entity"]]["fp"] += 1
        if missed or spurious:
            errors.append({"text": example["text"], "missed": missed, "spurious": spurious})
    per_entity = {e: _prf(c["tp"], c["fp"], c["fn"]) for e, c in counts.items()}
    total = sum(counts.values(), Counter())
    return {
        "micro": _prf(total["tp"], total["fp"], total["fn"]),
        "macro_f1": round(sum(m["f1"] for m in per_entity.values()) / len(per_entity), 4),
        "per_entity": per_entity,
        "errors": errors,
    }


def fallback_table(gold: List[str], results: List[Dict[str, Any]], probe_results: List[Dict[str, Any]]):
    """What a FallbackClassifier threshold would do, from the raw intent ranking.

    Uses the best non-fallback intent and its confidence (the ranking is computed
    before the FallbackClassifier), so one trained model serves every threshold.
    """
    def top(result):
        ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK_INTENT]
        return (ranking[0]["name"], ranking[0]["confidence"]) if ranking else (None, 0.0)

    rows = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        correct = fallback = wrong = 0
        for g, r in zip(gold, results):
            name, conf = top(r)
            if conf < threshold:
                fallback += 1
            elif name == g:
                correct += 1
            else:
                wrong += 1
        probes_email = sum(
            1 for r in probe_results
            if top(r)[1] >= threshold and top(r)[0] not in CONVERSATION_INTENTS
        )
        rows.append({
            "threshold": threshold, "holdout_correct": correct, "holdout_fallback": fallback,
            "holdout_wrong": wrong, "probes_with_email_intent": probes_email,
        })
    return rows


# --------------------------------------------------------------------------- evaluation

def evaluate(model: Path, examples: List[Dict[str, Any]]) -> Dict[str, Any]:
    texts = [e["text"] for e in examples]
    results, parse_seconds = parse_all(model, texts + NONSENSE_PROBES)
    results, probe_results = results[: len(texts)], results[len(texts):]
    gold = [e["intent"] for e in examples]
    pred = [(r.get("intent") or {}).get("name") or FALLBACK_INTENT for r in results]
    conf = [(r.get("intent") or {}).get("confidence") or 0.0 for r in results]
    intents = intent_metrics(gold, pred)
    entities = entity_metrics(examples, results, with_value=True)
    spans = entity_metrics(examples, results, with_value=False)
    intent_errors = sorted(
        (
            {"text": e["text"], "gold": g, "predicted": p, "confidence": round(c, 3),
             "second": _second(r)}
            for e, g, p, c, r in zip(examples, gold, pred, conf, results) if g != p
        ),
        key=lambda x: -x["confidence"],
    )
    probes = [
        {"text": t, "intent": (r.get("intent") or {}).get("name"),
         "confidence": round((r.get("intent") or {}).get("confidence") or 0.0, 3)}
        for t, r in zip(NONSENSE_PROBES, probe_results)
    ]
    return {
        "model": str(model),
        "examples": len(examples),
        "intent": intents,
        "entity": {k: v for k, v in entities.items() if k != "errors"},
        "entity_span_only": {k: v for k, v in spans.items() if k != "errors"},
        "worst_intent_errors": intent_errors[:20],
        "intent_error_count": len(intent_errors),
        "entity_errors": entities["errors"],
        "fallback_thresholds": fallback_table(gold, results, probe_results),
        "nonsense_probes": probes,
        "parse_ms_per_message": round(1000 * parse_seconds / len(results), 1),
        "_gold": gold,
        "_pred": pred,
    }


def _second(result: Dict[str, Any]) -> Optional[str]:
    ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK_INTENT]
    return f"{ranking[1]['name']} ({ranking[1]['confidence']:.2f})" if len(ranking) > 1 else None


# --------------------------------------------------------------------------- output

def confusion_png(gold: List[str], pred: List[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = sorted(set(gold) | set(pred))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, pred):
        matrix[index[g], index[p]] += 1
    fig, ax = plt.subplots(figsize=(14, 12))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)))
    ax.set_yticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=8)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(report: Dict[str, Any]) -> str:
    ours = report["tuned"]
    base = report.get("default")
    lines = ["# NLU evaluation on the holdout", ""]
    lines.append(f"Holdout: `{HOLDOUT.relative_to(ROOT)}`, {ours['examples']} utterances. "
                 f"Training data: `data/nlu/` ({report['training_examples']} examples).")
    if base and base.get("reused"):
        lines.append(f"Default-config figures are from the last `--with-default` run "
                     f"(holdout of {base['examples']} utterances then).")
    lines.append("")
    head = "| metric | tuned (config.yml) |" + (" default (rasa init, de) |" if base else "")
    lines += [head, "|---|---|" + ("---|" if base else "")]

    def row(name, getter):
        cells = [getter(ours)] + ([getter(base)] if base else [])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("intent accuracy", lambda r: f"{r['intent']['accuracy']:.3f}")
    row("intent macro-F1", lambda r: f"{r['intent']['macro_f1']:.3f}")
    row("predicted nlu_fallback", lambda r: str(r['intent']['fallback_count']))
    row("entity F1 (micro, value-exact)", lambda r: f"{r['entity']['micro']['f1']:.3f}")
    for e in ENTITY_TYPES:
        row(f"entity F1 {e}", lambda r, e=e: f"{r['entity']['per_entity'][e]['f1']:.3f}")
    row("entity F1 (span+type only)", lambda r: f"{r['entity_span_only']['micro']['f1']:.3f}")
    row("training time, wall (s)", lambda r: f"{r.get('training_seconds', float('nan')):.1f}")
    row("training time, CPU (s)", lambda r: f"{r.get('training_cpu_seconds', float('nan')):.1f}")
    row("parse time (ms/message)", lambda r: f"{r['parse_ms_per_message']:.1f}")
    lines.append("")

    extra = " F1 default |" if base else ""
    lines += ["## Per intent (tuned)", "", "| intent | P | R | F1 | n |" + extra,
              "|---|---|---|---|---|" + ("---|" if base else "")]
    for name, m in ours["intent"]["per_intent"].items():
        other = f" {base['intent']['per_intent'].get(name, {}).get('f1', float('nan')):.2f} |" if base else ""
        lines.append(f"| {name} | {m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f} | {m['support']} |{other}")
    lines.append("")
    lines += ["## Per entity (tuned, value-exact)", "", "| entity | P | R | F1 | n |" + extra,
              "|---|---|---|---|---|" + ("---|" if base else "")]
    for name, m in ours["entity"]["per_entity"].items():
        other = f" {base['entity']['per_entity'].get(name, {}).get('f1', float('nan')):.2f} |" if base else ""
        lines.append(f"| {name} | {m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f} | {m['support']} |{other}")
    lines.append("")
    lines += ["## Fallback threshold (tuned model, raw ranking)", "",
              "| threshold | holdout correct | holdout fallback | holdout wrong | nonsense probes with e-mail intent |",
              "|---|---|---|---|---|"]
    for r in ours["fallback_thresholds"]:
        lines.append(f"| {r['threshold']} | {r['holdout_correct']} | {r['holdout_fallback']} | "
                     f"{r['holdout_wrong']} | {r['probes_with_email_intent']} / {len(NONSENSE_PROBES)} |")
    lines.append("")
    lines += ["## Nonsense probes (tuned)", "", "| text | intent | confidence |", "|---|---|---|"]
    for p in ours["nonsense_probes"]:
        lines.append(f"| `{p['text']!r}` | {p['intent']} | {p['confidence']} |")
    lines.append("")
    lines += [f"## 20 worst intent errors (tuned; {ours['intent_error_count']} errors in total)", "",
              "| text | gold | predicted (conf.) | runner-up |", "|---|---|---|---|"]
    for e in ours["worst_intent_errors"]:
        lines.append(f"| {e['text']} | {e['gold']} | {e['predicted']} ({e['confidence']}) | {e['second']} |")
    lines.append("")
    lines += ["## Entity errors (tuned)", "", "| text | missed | spurious |", "|---|---|---|"]
    for e in ours["entity_errors"][:40]:
        fmt = lambda items: ", ".join(f"{i['entity']}={i['value']}" for i in items) or "-"
        lines.append(f"| {e['text']} | {fmt(e['missed'])} | {fmt(e['spurious'])} |")
    lines.append("")
    return "\n".join(lines)


def print_summary(report: Dict[str, Any]) -> None:
    ours, base = report["tuned"], report.get("default")
    cols = [("tuned", ours)] + ([("default", base)] if base else [])
    print()
    print(f"{'':32}" + "".join(f"{name:>12}" for name, _ in cols))
    metrics = [
        ("intent accuracy", lambda r: r["intent"]["accuracy"]),
        ("intent macro-F1", lambda r: r["intent"]["macro_f1"]),
        ("entity F1 (micro)", lambda r: r["entity"]["micro"]["f1"]),
    ] + [(f"entity F1 {e}", lambda r, e=e: r["entity"]["per_entity"][e]["f1"]) for e in ENTITY_TYPES] + [
        ("training wall (s)", lambda r: r.get("training_seconds", float("nan"))),
        ("training CPU (s)", lambda r: r.get("training_cpu_seconds", float("nan"))),
        ("parse ms/message", lambda r: r["parse_ms_per_message"]),
    ]
    for name, getter in metrics:
        print(f"{name:32}" + "".join(f"{getter(r):>12.3f}" for _, r in cols))
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--with-default", action="store_true", help="also train and score rasa init's default pipeline")
    parser.add_argument("--model", type=Path, help="score this model instead of training one")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--holdout", type=Path, default=HOLDOUT)
    args = parser.parse_args(argv)

    from rasa.shared.nlu.training_data.loading import load_data

    args.out.mkdir(parents=True, exist_ok=True)
    examples = load_holdout(args.holdout)
    report: Dict[str, Any] = {
        "holdout": str(args.holdout),
        "training_examples": len(load_data(str(NLU_DATA)).intent_examples),
    }
    models_dir = args.out / "models"
    if args.model:
        model, seconds, cpu = args.model, None, None
    else:
        model, seconds, cpu = train_nlu(args.config, models_dir, "tuned")
    tuned = evaluate(model, examples)
    if seconds is not None:
        tuned["training_seconds"] = round(seconds, 1)
        tuned["training_cpu_seconds"] = round(cpu, 1)
    report["tuned"] = tuned
    confusion_png(tuned.pop("_gold"), tuned.pop("_pred"), args.out / "confusion_matrix.png",
                  "Intent confusion on the holdout (config.yml)")

    if args.with_default:
        cfg = default_config(args.out / "default_config.yml")
        base_model, base_seconds, base_cpu = train_nlu(cfg, models_dir, "default")
        base = evaluate(base_model, examples)
        base["training_seconds"] = round(base_seconds, 1)
        base["training_cpu_seconds"] = round(base_cpu, 1)
        confusion_png(base.pop("_gold"), base.pop("_pred"), args.out / "confusion_matrix_default.png",
                      "Intent confusion on the holdout (default config, de)")
        report["default"] = base
    elif (args.out / "report.json").exists():
        previous = json.loads((args.out / "report.json").read_text())
        if "default" in previous:  # keep the last measured baseline for the side-by-side
            report["default"] = {**previous["default"], "reused": True}

    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (args.out / "report.md").write_text(markdown(report))
    print_summary(report)
    print(f"Report: {(args.out / 'report.md').relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
