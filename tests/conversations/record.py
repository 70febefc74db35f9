"""Record a real conversation as a new conversation case.

    python -m tests.conversations.record <conversation_id> [--rasa-url URL] [--token TOKEN]
                                         [--out FILE] [--name NAME]

Reads the tracker from Rasa's token-protected HTTP API
(``GET <rasa-url>/conversations/<id>/tracker?token=...``) and writes a case file with
one turn per customer message: the bot's facts as ``must_mention`` checks, the buttons
it offered, the slots after each turn and whether a hand-over happened. Review the
checks before committing: keep facts and key words, drop wording.

Defaults: ``--rasa-url`` from ``RASA_URL`` or http://127.0.0.1:5005, ``--token`` from
``RASA_TOKEN``, ``--out`` ``tests/conversations/cases/recorded-<id>.yml`` (``-`` prints).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from tests.conversations.caseformat import CASES_DIR, CaseFormatError, parse_text, slugify
from tests.conversations.recorder import cases_to_yaml, tracker_to_case
from tests.conversations.runner import RasaClient, RasaError


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conversations.record",
        description="Write a conversation from Rasa's tracker store as a new YAML test case.",
    )
    parser.add_argument("conversation_id", help="the conversation (sender) id")
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--token", default=os.environ.get("RASA_TOKEN"),
                        help="token of Rasa's HTTP API (default: $RASA_TOKEN)")
    parser.add_argument("--out", help="case file to write (default: tests/conversations/cases/"
                                      "recorded-<id>.yml; '-' for standard output)")
    parser.add_argument("--name", help="name of the case (default: 'Aufgezeichnet <id>')")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)

    if not args.token:
        parser.error("the Rasa API token is missing: pass --token or set RASA_TOKEN")
    client = RasaClient(args.rasa_url, args.token, timeout=30)
    try:
        tracker = client.tracker(args.conversation_id)
    except RasaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
    try:
        case = tracker_to_case(tracker, name=args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    out = args.out or str(CASES_DIR / f"recorded-{slugify(args.conversation_id)}.yml")
    header = (f"Aufgezeichnet aus Gespräch {args.conversation_id}.\n"
              "Vor dem Einchecken prüfen: Fakten und Schlüsselwörter behalten, Formulierungen streichen.")
    text = cases_to_yaml([case], header=header)
    try:
        parse_text(text, Path(out if out != "-" else "recorded.yml"))
    except CaseFormatError as exc:  # should not happen; say so instead of writing a broken file
        print(f"error: the recorded case is not valid: {exc}", file=sys.stderr)
        return 3
    if out == "-":
        sys.stdout.write(text)
        return 0
    path = Path(out)
    if path.exists() and not args.force:
        print(f"error: {path} exists; choose another --out or pass --force", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(case['turns'])} turns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
