"""Bounce analyser: classify pasted or raw non-delivery reports.

    from bot.bounce import analyse
    result = analyse(text_or_bytes)      # never raises
    result.to_dict()["category"]         # one of CATEGORIES

Pure Python; the rules live in data/kb/bounce_rules.yml.
"""

from .analyser import MAX_INPUT_BYTES, analyse
from .result import CATEGORIES, PHASES, BounceResult, article_id_for
from .rules import BounceRulesError, RuleSet, load_rules

__all__ = [
    "CATEGORIES",
    "MAX_INPUT_BYTES",
    "PHASES",
    "BounceResult",
    "BounceRulesError",
    "RuleSet",
    "analyse",
    "article_id_for",
    "load_rules",
]
