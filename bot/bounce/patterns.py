"""Compiling the rules' phrases and regexes into fast, safe matchers.

- Phrases are matched literally, case-insensitively, with flexible
  whitespace/hyphens between words, ä/ae, ö/oe, ü/ue, ß/ss and straight/curly
  apostrophes treated alike, as whole words.
- Regexes may not nest quantifiers ("(a+)+") or use unbounded ".*" / ".+",
  so no rule can backtrack catastrophically.
- Every matcher carries literals that any match must contain; the regex only
  runs when one occurs in the text (most rules are skipped that way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .decoding import fold


class PatternError(ValueError):
    """A phrase or regex that cannot be used."""


@dataclass(frozen=True)
class Matcher:
    """A compiled pattern plus a cheap pre-check.

    Every match contains one of `literals` (lower case); when none occurs in
    the folded text the regex is not run at all. Phrases run on the folded
    text without IGNORECASE and without a leading look-behind, so the regex
    engine can jump to their first literal; the word boundary in front is
    checked here instead.
    """

    regex: re.Pattern[str]
    literals: tuple[str, ...] = ()  # a match contains at least one of these (lower case)
    on_folded: bool = False
    word_start: bool = False

    def search(self, text: str, lowered: str | None = None) -> re.Match[str] | None:
        if self.literals or self.on_folded:
            if lowered is None:
                lowered = fold(text)
            if self.literals and not any(literal in lowered for literal in self.literals):
                return None
        if not self.on_folded:
            return self.regex.search(text)
        assert lowered is not None
        position = 0
        while True:
            found = self.regex.search(lowered, position)
            if found is None or not self.word_start:
                return found
            start = found.start()
            if start == 0 or not (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
                return found
            position = start + 1


_UMLAUTS = {
    "ä": "(?:ä|ae)",
    "ö": "(?:ö|oe)",
    "ü": "(?:ü|ue)",
    "ß": "(?:ß|ss)",
    "'": "['’`´]?",
    "’": "['’`´]?",
}


def phrase_pattern(phrase: str, leading_boundary: bool = True) -> str:
    """The regular expression a phrase stands for (on lower-case text)."""
    tokens = [t for t in re.split(r"[\s_\-]+", fold(phrase.strip()).lower()) if t]
    if not tokens:
        raise PatternError("empty phrase")
    body = r"[\s_\-]{0,3}".join("".join(_UMLAUTS.get(c, re.escape(c)) for c in token) for token in tokens)
    first, last = tokens[0][0], tokens[-1][-1]
    prefix = r"(?<!\w)" if leading_boundary and re.match(r"\w", first) else ""
    suffix = r"(?!\w)" if re.match(r"\w", last) else ""
    return prefix + body + suffix


def phrase_literal(phrase: str) -> str | None:
    """Longest plain ASCII piece of a phrase: any match must contain it."""
    pieces = re.findall(r"[a-z0-9]+", phrase.lower())
    best = max(pieces, key=len, default="")
    return best if len(best) >= 2 else None


def compile_phrase(phrase: str) -> Matcher:
    literal = phrase_literal(phrase)
    return Matcher(
        re.compile(phrase_pattern(phrase, leading_boundary=False)),
        (literal,) if literal else (),
        on_folded=True,
        word_start=bool(re.match(r"\w", phrase.strip())),
    )


try:  # the regex parser moved in Python 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_MIN_LITERAL = 3


def _literal_sets(items) -> tuple[str, ...] | None:  # noqa: ANN001 - parser internals
    """Strings of which every match of the parsed sequence contains one."""
    candidates: list[tuple[str, ...]] = []
    run = ""
    for op, arg in list(items):
        if op is _sre_constants.LITERAL and arg < 128 and chr(arg).isalnum() or op is _sre_constants.LITERAL and chr(arg) in " -'":
            run += chr(arg).lower()
            continue
        if len(run.strip()) >= _MIN_LITERAL:
            candidates.append((run,))
        run = ""
        found: tuple[str, ...] | None = None
        if op is _sre_constants.SUBPATTERN:
            found = _literal_sets(arg[-1])
        elif op is _sre_constants.BRANCH:
            branches = [_literal_sets(branch) for branch in arg[1]]
            if branches and all(branches):
                found = tuple(sorted({literal for branch in branches for literal in branch}))  # type: ignore[union-attr]
        elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT) and arg[0] >= 1:
            found = _literal_sets(arg[2])
        if found:
            candidates.append(found)
    if len(run.strip()) >= _MIN_LITERAL:
        candidates.append((run,))
    if not candidates:
        return None
    return max(candidates, key=lambda literals: (min(len(x.strip()) for x in literals), -len(literals)))


def regex_literals(pattern: str) -> tuple[str, ...]:
    """Pre-check strings for a regex (empty when none can be derived)."""
    try:
        found = _literal_sets(_sre_parse.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - a pre-check is optional
        return ()
    if not found or any(len(x.strip()) < _MIN_LITERAL for x in found):
        return ()
    return tuple(x.strip() if x == x.strip() else x for x in found)


_QUANTIFIER_AFTER = re.compile(r"[*+?]|\{\d*,?\d*\}")


def check_regex_safety(pattern: str) -> str | None:
    """Return why `pattern` could backtrack badly, or None when it is safe."""
    if re.search(r"(?<!\\)\.[*+]", pattern):
        return "unbounded '.*' or '.+' (use a bounded repeat such as '.{0,60}')"
    stack: list[bool] = []  # per open group: contains a repeat
    index = 0
    length = len(pattern)
    in_class = False
    while index < length:
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            index += 1
            continue
        if char == "[":
            in_class = True
            index += 1
            if index < length and pattern[index] == "]":
                index += 1
            continue
        if char == "(":
            stack.append(False)
        elif char == ")":
            inner_repeats = stack.pop() if stack else False
            quantifier = _QUANTIFIER_AFTER.match(pattern, index + 1)
            repeats = bool(quantifier) and quantifier.group(0) not in ("?",) and not quantifier.group(0).startswith("{0,1}")
            if inner_repeats and repeats:
                return "a repeated group contains a repeat (nested quantifiers)"
            if stack and (inner_repeats or repeats):
                stack[-1] = True
        elif char in "*+" or (char == "{" and re.match(r"\{\d*,?\d*\}", pattern[index:])):
            if stack:
                stack[-1] = True
        index += 1
    return None


def compile_regex(pattern: str) -> Matcher:
    """A case-insensitive regex rule; refused when it could backtrack badly."""
    problem = check_regex_safety(pattern)
    if problem:
        raise PatternError(f"regex {pattern!r} is not allowed: {problem}")
    try:
        return Matcher(re.compile(pattern, re.IGNORECASE), regex_literals(pattern))
    except re.error as exc:
        raise PatternError(f"regex {pattern!r} does not compile: {exc}") from exc
