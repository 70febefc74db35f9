"""The YAML format of conversation cases: loading, strict validation and text matching.

A case file (``tests/conversations/cases/<topic>.yml``) looks like this::

    cases:
      - name: Outlook mit IMAP einrichten
        description: optional free text
        turns:
          - user: Ich möchte Outlook einrichten
            buttons: [IMAP, POP3]
            slots: {client: outlook}
          - button: IMAP
            must_mention: [imap.dokom.net, "993", "re:SSL\\s*/\\s*TLS"]
            must_not_mention: [weiterleiten]
            slots: {protocol: imap}
            handover: false

Everything is checked strictly: unknown keys, wrong types, bad regular expressions,
duplicate keys and duplicate case names are reported with file, line, case and turn.
This module does not import Rasa and needs no running bot.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"

REGEX_PREFIX = "re:"
FILE_KEYS = ("cases", "topic")
CASE_KEYS = ("name", "description", "turns")
TURN_KEYS = ("user", "button", "must_mention", "must_not_mention", "buttons", "slots", "handover", "note")
#: Slot values a check may name: plain YAML scalars or null.
SlotValue = Union[str, int, float, bool, None]


class CaseFormatError(ValueError):
    """A case file violates the format. The message names file, line, case and turn."""


# ---------------------------------------------------------------------------
# YAML loading with line numbers and duplicate-key detection
# ---------------------------------------------------------------------------
class _LineDict(dict):
    """A mapping that remembers the line it started on (1-based)."""

    line: int = 0


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(key, line)
        self.key = key
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys and records line numbers of mappings."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(obj: Any) -> Optional[int]:
    return getattr(obj, "line", None) or None


# ---------------------------------------------------------------------------
# Text matching
# ---------------------------------------------------------------------------
_MARKDOWN_CHARS = re.compile(r"[*`]")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """What plain-text checks compare: no Markdown emphasis, one space, case folded."""
    text = _MARKDOWN_CHARS.sub("", text or "")
    return _WHITESPACE.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class Pattern:
    """One thing to look for: plain text (case-insensitive) or a regular expression."""

    source: str
    regex: Optional[re.Pattern] = None

    @classmethod
    def parse(cls, raw: str) -> "Pattern":
        if raw.startswith(REGEX_PREFIX):
            expression = raw[len(REGEX_PREFIX):].strip()
            if not expression:
                raise ValueError(f"{raw!r}: the regular expression after 're:' is empty")
            try:
                return cls(raw, re.compile(expression, re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"{raw!r} is not a valid regular expression: {exc}") from None
        if not raw.strip():
            raise ValueError("an empty text cannot be checked")
        return cls(raw, None)

    @property
    def is_regex(self) -> bool:
        return self.regex is not None

    def search(self, text: str) -> bool:
        """True when the pattern occurs in ``text``.

        Plain text: case-insensitive substring after :func:`normalise`; a pattern that
        starts or ends with a digit must not touch further digits ("25" does not match
        "250" or "2025"). Regex: ``re.search`` with IGNORECASE on the normalised text
        (Markdown ``*``/backticks removed, whitespace collapsed, original case kept).
        """
        if self.regex is not None:
            flat = _WHITESPACE.sub(" ", _MARKDOWN_CHARS.sub("", text or "")).strip()
            return self.regex.search(flat) is not None
        needle = normalise(self.source)
        haystack = normalise(text)
        if not needle:
            return False
        prefix = r"(?<!\d)" if needle[0].isdigit() else ""
        suffix = r"(?!\d)" if needle[-1].isdigit() else ""
        return re.search(prefix + re.escape(needle) + suffix, haystack) is not None

    def equals(self, text: str) -> bool:
        """Whole-text match (for button titles): regex fullmatch or normalised equality."""
        if self.regex is not None:
            flat = _WHITESPACE.sub(" ", _MARKDOWN_CHARS.sub("", text or "")).strip()
            return self.regex.fullmatch(flat) is not None
        return normalise(self.source) == normalise(text)

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Mention:
    """A must_mention item: one pattern, or alternatives of which one must occur."""

    alternatives: Tuple[Pattern, ...]

    def search(self, text: str) -> bool:
        return any(p.search(text) for p in self.alternatives)

    def __str__(self) -> str:
        if len(self.alternatives) == 1:
            return repr(self.alternatives[0].source)
        return "one of " + " / ".join(repr(p.source) for p in self.alternatives)


# ---------------------------------------------------------------------------
# The case model
# ---------------------------------------------------------------------------
@dataclass
class Turn:
    index: int  # 1-based
    user: Optional[str] = None
    button: Optional[Pattern] = None
    must_mention: List[Mention] = field(default_factory=list)
    must_not_mention: List[Pattern] = field(default_factory=list)
    #: None: no check; True: some button; False: no button; list: these titles.
    buttons: Union[None, bool, List[Pattern]] = None
    slots: Dict[str, SlotValue] = field(default_factory=dict)
    handover: Optional[bool] = None
    note: str = ""
    line: Optional[int] = None

    def describe_input(self) -> str:
        if self.button is not None:
            return f"[Button {self.button.source!r}]"
        return self.user or ""


@dataclass
class Case:
    name: str
    turns: List[Turn]
    file: Path
    description: str = ""
    line: Optional[int] = None

    @property
    def location(self) -> str:
        where = _display_path(self.file)
        return f"{where}:{self.line}" if self.line else where

    @property
    def test_id(self) -> str:
        """ASCII id used by pytest (``setup/outlook-mit-imap-einrichten``)."""
        return f"{self.file.stem}/{slugify(self.name)}"


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def slugify(text: str) -> str:
    """``Outlook × IMAP (Größe)`` -> ``outlook-imap-groesse``: ASCII, for test ids and file names."""
    text = text.translate(_TRANSLITERATION).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return text.strip("-") or "case"


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parents[2]))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
class _Context:
    """Builds error messages that say where a problem is."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.case: Optional[str] = None
        self.case_index: Optional[int] = None
        self.turn: Optional[int] = None

    def error(self, message: str, line: Optional[int] = None) -> CaseFormatError:
        where = _display_path(self.file)
        if line:
            where += f":{line}"
        parts = [where]
        if self.case_index is not None:
            parts.append(f"case {self.case!r}" if self.case else f"case #{self.case_index}")
        if self.turn is not None:
            parts.append(f"turn {self.turn}")
        return CaseFormatError(": ".join(parts) + ": " + message)


def _suggest(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r} (allowed: {', '.join(allowed)}){hint}"


def _text(value: Any, what: str, ctx: _Context, line: Optional[int]) -> str:
    """A text value; numbers are accepted as text, yes/no booleans are not."""
    if isinstance(value, bool):
        raise ctx.error(
            f"{what}: YAML read this as {value!r}; put the text in quotes (e.g. \"ja\", \"nein\")", line
        )
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise ctx.error(f"{what}: expected text, got {type(value).__name__} {value!r}", line)
    if not value.strip():
        raise ctx.error(f"{what}: must not be empty", line)
    return value


def _pattern(value: Any, what: str, ctx: _Context, line: Optional[int]) -> Pattern:
    raw = _text(value, what, ctx, line)
    try:
        return Pattern.parse(raw)
    except ValueError as exc:
        raise ctx.error(f"{what}: {exc}", line) from None


def _text_list(value: Any, key: str, ctx: _Context, line: Optional[int]) -> list:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [value]  # a single text is accepted as a one-item list
    if not isinstance(value, list) or not value:
        raise ctx.error(f"{key}: expected a non-empty list of texts", line)
    return value


def _parse_turn(raw: Any, index: int, ctx: _Context, case_line: Optional[int]) -> Turn:
    ctx.turn = index
    if not isinstance(raw, dict):
        raise ctx.error(
            f"expected a block with 'user:' or 'button:' and checks, got {type(raw).__name__} {raw!r}",
            case_line,
        )
    line = _line(raw)
    for key in raw:
        if key not in TURN_KEYS:
            raise ctx.error(_suggest(key, TURN_KEYS), line)
    has_user = "user" in raw
    has_button = "button" in raw
    if has_user == has_button:
        raise ctx.error("each turn needs exactly one of 'user:' (what the customer types) "
                        "or 'button:' (title of a button to click)", line)
    turn = Turn(index=index, line=line)
    if has_user:
        turn.user = _text(raw["user"], "user", ctx, line)
    else:
        if index == 1:
            raise ctx.error("'button:' needs buttons offered by the bot in the previous turn; "
                            "the first turn must be 'user:'", line)
        turn.button = _pattern(raw["button"], "button", ctx, line)

    if "must_mention" in raw:
        for i, item in enumerate(_text_list(raw["must_mention"], "must_mention", ctx, line), 1):
            what = f"must_mention item {i}"
            if isinstance(item, list):
                if not item:
                    raise ctx.error(f"{what}: an empty list of alternatives", line)
                alternatives = tuple(_pattern(alt, what, ctx, line) for alt in item)
            else:
                alternatives = (_pattern(item, what, ctx, line),)
            turn.must_mention.append(Mention(alternatives))
    if "must_not_mention" in raw:
        for i, item in enumerate(_text_list(raw["must_not_mention"], "must_not_mention", ctx, line), 1):
            if isinstance(item, list):
                raise ctx.error(f"must_not_mention item {i}: list every forbidden text as its own item", line)
            turn.must_not_mention.append(_pattern(item, f"must_not_mention item {i}", ctx, line))
    if "buttons" in raw:
        value = raw["buttons"]
        if isinstance(value, bool):
            turn.buttons = value
        else:
            items = _text_list(value, "buttons", ctx, line)
            turn.buttons = []
            for i, item in enumerate(items, 1):
                if isinstance(item, list):
                    raise ctx.error(f"buttons item {i}: expected a button title, got a list", line)
                turn.buttons.append(_pattern(item, f"buttons item {i}", ctx, line))
    if "slots" in raw:
        slots = raw["slots"]
        if not isinstance(slots, dict) or not slots:
            raise ctx.error("slots: expected a block of 'slot_name: value' lines", line)
        for name, value in slots.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ctx.error(f"slots: {name!r} is not a slot name", line)
            if isinstance(value, (dict, list)):
                raise ctx.error(f"slots: {name}: expected a single value or null, got {value!r}", line)
            if isinstance(value, str) and value.startswith(REGEX_PREFIX):
                _pattern(value, f"slots: {name}", ctx, line)  # validate the regex now
            turn.slots[name] = value
    if "handover" in raw:
        if not isinstance(raw["handover"], bool):
            raise ctx.error(f"handover: expected true or false, got {raw['handover']!r}", line)
        turn.handover = raw["handover"]
    if "note" in raw:
        turn.note = _text(raw["note"], "note", ctx, line)
    return turn


def parse_case(raw: Any, file: Path, index: int = 1) -> Case:
    """Validate one case mapping (as read from YAML) and return a :class:`Case`."""
    ctx = _Context(file)
    ctx.case_index = index
    if not isinstance(raw, dict):
        raise ctx.error(f"expected a case block with name and turns, got {type(raw).__name__} {raw!r}")
    line = _line(raw)
    if isinstance(raw.get("name"), str):
        ctx.case = raw["name"]
    for key in raw:
        if key not in CASE_KEYS:
            raise ctx.error(_suggest(key, CASE_KEYS), line)
    if "name" not in raw:
        raise ctx.error("missing 'name:'", line)
    name = _text(raw["name"], "name", ctx, line).strip()
    if "::" in name or "\n" in name:
        raise ctx.error("name: must be one line without '::'", line)
    description = _text(raw["description"], "description", ctx, line) if "description" in raw else ""
    turns_raw = raw.get("turns")
    if not isinstance(turns_raw, list) or not turns_raw:
        raise ctx.error("'turns:' must be a non-empty list", line)
    turns = [_parse_turn(t, i, ctx, line) for i, t in enumerate(turns_raw, 1)]
    ctx.turn = None
    if not any(_has_checks(t) for t in turns):
        raise ctx.error("the case checks nothing: add must_mention, must_not_mention, buttons, "
                        "slots or handover to at least one turn", line)
    return Case(name=name, turns=turns, file=file, description=description.strip(), line=line)


def _has_checks(turn: Turn) -> bool:
    return bool(turn.must_mention or turn.must_not_mention or turn.slots
                or turn.buttons is not None or turn.handover is not None)


def parse_text(text: str, file: Path) -> List[Case]:
    """Parse the text of a case file; raises :class:`CaseFormatError`."""
    ctx = _Context(file)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ctx.error(f"the key {exc.key!r} appears twice in the same block", exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ctx.error(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ctx.error("the file must start with 'cases:' followed by a list of cases")
    for key in data:
        if key not in FILE_KEYS:
            raise ctx.error(_suggest(key, FILE_KEYS), _line(data))
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise ctx.error("'cases:' must be a non-empty list", _line(data))
    cases = [parse_case(raw, file, i) for i, raw in enumerate(raw_cases, 1)]
    seen: Dict[str, Case] = {}
    for case in cases:
        key = slugify(case.name)
        if key in seen:
            raise CaseFormatError(
                f"{case.location}: case {case.name!r}: the name is already used (or differs only in "
                f"punctuation/case) at {seen[key].location}; give every case its own name"
            )
        seen[key] = case
    return cases


def load_file(path: Path) -> List[Case]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFormatError(f"{_display_path(path)}: cannot read: {exc}") from None
    return parse_text(text, path)


def case_files(directory: Path = CASES_DIR) -> List[Path]:
    return sorted(p for p in Path(directory).glob("*.yml") if p.is_file()) + sorted(
        p for p in Path(directory).glob("*.yaml") if p.is_file()
    )


def load_all(directory: Path = CASES_DIR) -> Tuple[List[Case], List[CaseFormatError]]:
    """All cases of a directory, plus one error per invalid file (valid files still load)."""
    cases: List[Case] = []
    errors: List[CaseFormatError] = []
    for path in case_files(directory):
        try:
            cases.extend(load_file(path))
        except CaseFormatError as exc:
            errors.append(exc)
    seen: Dict[str, Case] = {}
    for case in cases:
        if case.test_id in seen:  # same file stem in .yml and .yaml
            errors.append(CaseFormatError(f"{case.location}: duplicate test id {case.test_id!r}"))
        seen[case.test_id] = case
    return cases, errors


def iter_patterns(case: Case) -> Iterable[Pattern]:
    for turn in case.turns:
        for mention in turn.must_mention:
            yield from mention.alternatives
        yield from turn.must_not_mention
