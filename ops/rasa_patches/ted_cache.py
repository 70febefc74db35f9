"""TEDPolicy predictions from a bounded cache keyed by the dialogue states TED is fed.

Without end-to-end stories TED sees only the last `max_history` dialogue states (intent,
entity names, featurised slots, active loop, previous action), and its output is a pure
function of them for a loaded model. Conversations of a support bot repeat the same
states all the time, yet Rasa runs TensorFlow for every prediction: profiled at one
customer, TED's TensorFlow call was about a third of the Rasa server's CPU per message.

The cache is per policy instance (one loaded model, one domain), holds at most
`RASA_TED_CACHE_SIZE` entries (default 4096; 0 switches it off) and keeps the
least-recently-used ones. It is used only where the output cannot depend on anything
else: TED trained without text features (no end-to-end stories) and with a bounded
`max_history`. On a hit Rasa still computes the states (as it would), and only the
featurisation and the TensorFlow call are skipped.
"""
from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

logger = logging.getLogger(__name__)

DEFAULT_SIZE = 4096
REPORT_EVERY = 1000  # lookups between two log lines with the hit rate
_ATTRIBUTE = "_mailhilfe_prediction_cache"


class PredictionCache:
    """Least-recently-used (probabilities, is_end_to_end, diagnostic data) per states key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: "OrderedDict[str, Tuple[tuple, bool, Any]]" = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Optional[Tuple[tuple, bool, Any]]:
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return entry

    def report_now(self) -> bool:
        return (self.hits + self.misses) % REPORT_EVERY == 0

    def summary(self) -> str:
        lookups = self.hits + self.misses
        rate = self.hits / lookups if lookups else 0.0
        return (f"TED prediction cache: {lookups} lookups, {rate:.0%} hits, "
                f"{len(self.entries)} of {self.size} entries")

    def put(self, key: str, entry: Tuple[tuple, bool, Any]) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def cache_size(environ: Dict[str, str] = os.environ) -> int:
    raw = environ.get("RASA_TED_CACHE_SIZE", "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        return max(0, int(raw))
    except ValueError:
        raise SystemExit(f"RASA_TED_CACHE_SIZE must be a whole number, not {raw!r}")


def is_cacheable(policy) -> bool:
    """Output depends on the sliced states alone: no text features, bounded history."""
    from rasa.shared.nlu.constants import TEXT

    return (policy.model is not None
            and not policy.only_e2e
            and TEXT not in (policy.fake_features or {})
            and getattr(policy.featurizer, "max_history", None) is not None)


def cache_of(policy, size: int) -> Optional[PredictionCache]:
    if size <= 0 or not is_cacheable(policy):
        return None
    cache = getattr(policy, _ATTRIBUTE, None)
    if cache is None:
        cache = PredictionCache(size)
        setattr(policy, _ATTRIBUTE, cache)
    return cache


def states_key(policy, tracker, domain, rule_only_data) -> str:
    states = policy._prediction_states(tracker, domain, use_text_for_last_user_input=False,
                                       rule_only_data=rule_only_data)
    return json.dumps(states, sort_keys=True, default=list)


def install() -> None:
    from rasa.core.policies.ted_policy import TEDPolicy

    original = TEDPolicy.predict_action_probabilities
    if getattr(original, "_mailhilfe_patched", False):
        return
    size = cache_size()

    def predict_action_probabilities(self, tracker, domain, rule_only_data=None,
                                     precomputations=None, **kwargs):
        cache = cache_of(self, size)
        if cache is None:
            return original(self, tracker, domain, rule_only_data=rule_only_data,
                            precomputations=precomputations, **kwargs)
        key = states_key(self, tracker, domain, rule_only_data)
        entry = cache.get(key)
        if cache.report_now():
            logger.info(cache.summary())
        if entry is None:
            prediction = original(self, tracker, domain, rule_only_data=rule_only_data,
                                  precomputations=precomputations, **kwargs)
            if prediction.events or prediction.optional_events:
                return prediction  # not a pure function of the states: never cached
            entry = (tuple(prediction.probabilities), prediction.is_end_to_end_prediction,
                     prediction.diagnostic_data)
            cache.put(key, entry)
            return prediction
        probabilities, is_end_to_end, diagnostic_data = entry
        return self._prediction(list(probabilities), is_end_to_end_prediction=is_end_to_end,
                                diagnostic_data=diagnostic_data)

    predict_action_probabilities._mailhilfe_patched = True  # type: ignore[attr-defined]
    predict_action_probabilities.original = original  # type: ignore[attr-defined]
    TEDPolicy.predict_action_probabilities = predict_action_probabilities
