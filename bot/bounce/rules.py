"""Loading and checking `data/kb/bounce_rules.yml`.

The file is edited by support staff, so everything is validated with messages
that name the place of the mistake; phrases and regexes are compiled by
`patterns` (safe, fast matchers).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .codes import code_matches, valid_code_pattern
from .patterns import Matcher, PatternError, compile_phrase, compile_regex
from .result import CATEGORIES, PHASES

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "data" / "kb" / "bounce_rules.yml"

RULE_KINDS = ("phrases", "regexes", "enhanced_codes", "smtp_codes", "phases", "dsn_actions")
_KIND_NAMES = {
    "phrases": "phrase",
    "regexes": "regex",
    "enhanced_codes": "enhanced_code",
    "smtp_codes": "smtp_code",
    "phases": "phase",
    "dsn_actions": "dsn_action",
}
# Evidence priority when weights tie: a phrase beats a code, an enhanced code
# beats a basic one.
KIND_TIER = {"phrase": 5, "regex": 5, "dsn_action": 4, "enhanced_code": 3, "phase": 2, "smtp_code": 1}
DEFAULT_WEIGHTS = {
    "phrase": 80.0,
    "regex": 80.0,
    "dsn_action": 60.0,
    "enhanced_code": 50.0,
    "phase": 35.0,
    "smtp_code": 20.0,
}
_GROUP_KEYS = set(RULE_KINDS) | {"weight", "standalone", "note"}


class BounceRulesError(ValueError):
    """The rules file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Rule:
    category: str
    kind: str  # phrase | regex | enhanced_code | smtp_code | phase | dsn_action
    pattern: str
    weight: float
    standalone: bool = False
    matcher: Matcher | None = None

    @property
    def tier(self) -> int:
        return KIND_TIER[self.kind]


@dataclass(frozen=True)
class Variant:
    category: str
    name: str
    matchers: tuple[Matcher, ...]


@dataclass
class RuleSet:
    articles: dict[str, str]
    text_rules: list[Rule] = field(default_factory=list)
    code_rules: list[Rule] = field(default_factory=list)
    phase_rules: list[Rule] = field(default_factory=list)
    action_rules: list[Rule] = field(default_factory=list)
    bounce_markers: list[Matcher] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)

    _code_cache: dict[tuple[str, str], list[Rule]] = field(default_factory=dict, repr=False)

    @property
    def all_rules(self) -> list[Rule]:
        return self.text_rules + self.code_rules + self.phase_rules + self.action_rules

    def rules_for_code(self, kind: str, code: str) -> list[Rule]:
        """Code rules of `kind` ("smtp_code" / "enhanced_code") matching `code`."""
        key = (kind, code)
        found = self._code_cache.get(key)
        if found is None:
            found = [r for r in self.code_rules if r.kind == kind and code_matches(r.pattern, code)]
            if len(self._code_cache) < 4096:
                self._code_cache[key] = found
        return found


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BounceRulesError(f"{where}: expected a list of non-empty strings")
    return value


def _matchers(spec: Any, where: str) -> list[Matcher]:
    if not isinstance(spec, dict) or not set(spec) <= {"phrases", "regexes"} or not spec:
        raise BounceRulesError(f"{where}: expected a mapping with 'phrases' and/or 'regexes'")
    compiled = [_compiled(compile_phrase, p, f"{where}.phrases") for p in _strings(spec.get("phrases", []), f"{where}.phrases")]
    compiled += [_compiled(compile_regex, r, f"{where}.regexes") for r in _strings(spec.get("regexes", []), f"{where}.regexes")]
    return compiled


def _compiled(compile_one, pattern: str, where: str) -> Matcher:  # noqa: ANN001
    try:
        return compile_one(pattern)
    except PatternError as exc:
        raise BounceRulesError(f"{where}: {exc}") from exc


def _group_rules(category: str, group: Any, where: str) -> list[Rule]:
    if not isinstance(group, dict):
        raise BounceRulesError(f"{where}: expected a mapping")
    unknown = set(group) - _GROUP_KEYS
    if unknown:
        raise BounceRulesError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_GROUP_KEYS)}")
    kinds = [k for k in RULE_KINDS if k in group]
    if not kinds or (len(kinds) > 1 and set(kinds) != {"phrases", "regexes"}):
        raise BounceRulesError(
            f"{where}: needs one of {list(RULE_KINDS)} (only 'phrases' and 'regexes' may share a group)"
        )
    weight = group.get("weight", DEFAULT_WEIGHTS[_KIND_NAMES[kinds[0]]])
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 100:
        raise BounceRulesError(f"{where}.weight: expected a number in (0, 100]")
    standalone = group.get("standalone", False)
    if not isinstance(standalone, bool):
        raise BounceRulesError(f"{where}.standalone: expected true or false")
    rules = []
    for plural in kinds:
        rules += _kind_rules(category, plural, group[plural], float(weight), standalone, where)
    return rules


def _kind_rules(category: str, plural: str, patterns: Any, weight: float, standalone: bool, where: str) -> list[Rule]:
    kind = _KIND_NAMES[plural]
    rules = []
    for pattern in _strings(patterns, f"{where}.{plural}"):
        pattern = pattern.strip()
        matcher = None
        if kind == "phrase":
            matcher = _compiled(compile_phrase, pattern, f"{where}.{plural}")
        elif kind == "regex":
            matcher = _compiled(compile_regex, pattern, f"{where}.{plural}")
        elif kind in ("enhanced_code", "smtp_code"):
            if not valid_code_pattern(pattern, kind == "enhanced_code"):
                raise BounceRulesError(f"{where}.{plural}: {pattern!r} is not a valid code pattern")
        elif kind == "phase" and pattern not in PHASES:
            raise BounceRulesError(f"{where}.phases: {pattern!r} is not one of {list(PHASES)}")
        elif kind == "dsn_action":
            pattern = pattern.lower()
        rules.append(Rule(category, kind, pattern, weight, standalone, matcher))
    return rules


def build_rules(data: Any) -> RuleSet:
    """Validate parsed YAML and compile it."""
    if not isinstance(data, dict):
        raise BounceRulesError("top level: expected a mapping")
    categories = data.get("categories")
    if not isinstance(categories, dict):
        raise BounceRulesError("categories: expected a mapping of category -> {article_id}")
    articles: dict[str, str] = {}
    for name in CATEGORIES:
        entry = categories.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("article_id"), str):
            raise BounceRulesError(f"categories.{name}: missing, or without article_id")
        articles[name] = entry["article_id"]
    extra = set(categories) - set(CATEGORIES)
    if extra:
        raise BounceRulesError(f"categories: {sorted(extra)} are not contract categories")

    ruleset = RuleSet(articles=articles)
    ruleset.bounce_markers = _matchers(data.get("bounce_markers"), "bounce_markers")

    rules_data = data.get("rules")
    if not isinstance(rules_data, dict):
        raise BounceRulesError("rules: expected a mapping of category -> list of rule groups")
    for category, groups in rules_data.items():
        if category not in CATEGORIES or category == "unknown":
            raise BounceRulesError(f"rules.{category}: not a contract category (unknown has no rules)")
        if not isinstance(groups, list):
            raise BounceRulesError(f"rules.{category}: expected a list of rule groups")
        for number, group in enumerate(groups):
            for rule in _group_rules(category, group, f"rules.{category}[{number}]"):
                if rule.kind in ("phrase", "regex"):
                    ruleset.text_rules.append(rule)
                elif rule.kind == "phase":
                    ruleset.phase_rules.append(rule)
                elif rule.kind == "dsn_action":
                    ruleset.action_rules.append(rule)
                else:
                    ruleset.code_rules.append(rule)

    variants = data.get("variants", [])
    if not isinstance(variants, list):
        raise BounceRulesError("variants: expected a list")
    for number, entry in enumerate(variants):
        where = f"variants[{number}]"
        if not isinstance(entry, dict) or entry.get("category") not in CATEGORIES or not entry.get("name"):
            raise BounceRulesError(f"{where}: needs 'category' (a contract category) and 'name'")
        matchers = _matchers(entry.get("when_any"), f"{where}.when_any")
        ruleset.variants.append(Variant(entry["category"], str(entry["name"]), tuple(matchers)))
    return ruleset


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE: dict[tuple[str, float], RuleSet] = {}
_LOCK = threading.Lock()


def load_rules(path: str | os.PathLike[str] | None = None) -> RuleSet:
    """Load (and cache until the file changes) the rules file."""
    target = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        mtime = target.stat().st_mtime
    except OSError as exc:
        raise BounceRulesError(f"{target}: cannot read rules file ({exc})") from exc
    key = (str(target), mtime)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
    try:
        data = yaml.load(target.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BounceRulesError(f"{target}: cannot parse YAML ({exc})") from exc
    try:
        ruleset = build_rules(data)
    except BounceRulesError as exc:
        raise BounceRulesError(f"{target}: {exc}") from exc
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = ruleset
    return ruleset
