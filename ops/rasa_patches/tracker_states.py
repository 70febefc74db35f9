"""A tracker's dialogue states computed once per version of the tracker, not once per
policy.

For every prediction RulePolicy, MemoizationPolicy and TEDPolicy (and the TED cache's
key) each ask the tracker for its past states, and each time Rasa replays the whole
conversation event by event (`generate_all_prior_trackers`): ~7 % of the Rasa server's
time at 16 customers. The states depend only on the tracker's events, the domain, the
two flags and the rule-only data, so the tracker keeps the last answers for its current
events (their number and the identity of the last one: Rasa only ever appends) and hands
out copies, since callers edit the states they get.
"""
from __future__ import annotations

import copy

_MEMO = "_mailhilfe_past_states"  # on a tracker: (number of events, last event, answers)


def install() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.past_states
    if getattr(original, "_mailhilfe_patched", False):
        return

    def past_states(self, domain, omit_unset_slots=False, ignore_rule_only_turns=False,
                    rule_only_data=None):
        events = self.events
        count = len(events)
        last = events[-1] if count else None
        memo = vars(self).get(_MEMO)
        if memo is None or memo[0] != count or memo[1] is not last:
            memo = (count, last, [])
            vars(self)[_MEMO] = memo
        for known_domain, omit, ignore, known_rule_only_data, states in memo[2]:
            if (known_domain is domain and omit == omit_unset_slots and ignore == ignore_rule_only_turns
                    and known_rule_only_data is rule_only_data):
                return copy.deepcopy(states)
        states = original(self, domain, omit_unset_slots=omit_unset_slots,
                          ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
        memo[2].append((domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data,
                        copy.deepcopy(states)))
        return states

    past_states._mailhilfe_patched = True  # type: ignore[attr-defined]
    past_states.original = original  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states
