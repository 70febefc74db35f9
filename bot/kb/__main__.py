"""Command line: ``python -m bot.kb validate [DIR]`` or ``python -m bot.kb search QUERY...``."""

from __future__ import annotations

import sys

from . import KBError, load_kb


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("validate", "search"):
        print("usage: python -m bot.kb validate [DIR] | search QUERY...", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        kb = load_kb(rest[0] if command == "validate" and rest else None)
    except KBError as exc:
        print(f"KB error: {exc}", file=sys.stderr)
        return 1
    if command == "validate":
        print(f"OK: {len(kb.articles())} articles, {len(kb.contradictions)} contradictions")
        return 0
    for hit in kb.search(" ".join(rest), limit=5):
        print(f"{hit.score:8.3f}  {hit.article_id:38}  {hit.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
