"""`python -m bot.bounce FILE|-`: print the analysis of one bounce as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from .analyser import MAX_INPUT_BYTES, analyse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.bounce",
        description="Classify a non-delivery report (raw message or pasted text).",
    )
    parser.add_argument("file", help="file with the bounce, or '-' for standard input")
    parser.add_argument("--rules", help="rules file (default: data/kb/bounce_rules.yml)")
    parser.add_argument("--compact", action="store_true", help="one line of JSON")
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES)
        else:
            with open(args.file, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    result = analyse(data, args.rules).to_dict()
    print(json.dumps(result, ensure_ascii=False, indent=None if args.compact else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
