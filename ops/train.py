"""Train the Rasa model only when its inputs changed.

The fingerprint covers everything that goes into the model (config, domain, NLU,
rules, stories, the in-repo spaCy pipeline, the pinned requirements). When it matches
the one stored beside `models/mailhilfe.tar.gz`, nothing is trained; otherwise
`rasa train` runs (its cache in `.rasa/` makes partial retrains fast).
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, List

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models"
MODEL_NAME = "mailhilfe"
MODEL = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT = MODEL_DIR / f"{MODEL_NAME}.fingerprint"
INPUTS = ["config.yml", "domain.yml", "data/nlu", "data/rules", "data/stories", ".spacy", "requirements.txt"]


def input_files(paths: Iterable[str] = INPUTS) -> List[Path]:
    files: List[Path] = []
    for name in paths:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
    return files


def fingerprint(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def is_stale() -> bool:
    if not MODEL.exists() or not FINGERPRINT.exists():
        return True
    return FINGERPRINT.read_text().strip() != fingerprint(input_files())


def train(force: bool = False) -> int:
    if not force and not is_stale():
        print(f"Model {MODEL.relative_to(ROOT)} is up to date; not training.")
        return 0
    current = fingerprint(input_files())
    started = time.monotonic()
    cmd = [
        str(ROOT / ".venv" / "bin" / "rasa"), "train",
        "--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu", "data/rules", "data/stories",
        "--out", str(MODEL_DIR), "--fixed-model-name", MODEL_NAME,
    ]
    print("Training:", " ".join(cmd[1:]), flush=True)
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(current + "\n")
    print(f"Trained {MODEL.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even when nothing changed")
    parser.add_argument("--check", action="store_true", help="exit 1 when the model is stale, train nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = is_stale()
        print("stale" if stale else "up to date")
        return 1 if stale else 0
    return train(force=args.force)


if __name__ == "__main__":
    sys.exit(main())
