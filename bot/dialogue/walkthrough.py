"""Walkthrough state machine: which step comes next and when to hand over.

A *plan* is the ordered list of stages for the customer's concern, rebuilt from the
knowledge base on every turn (client, protocol and the chosen article are in slots, so
only the position has to be remembered). Two kinds of stages:

* ``do``: an instruction ("enter these settings"). *Ja* -> next stage (after the last one
  the walkthrough is done); *Nein* -> hints and the same stage again; after
  :data:`MAX_FAILED_ATTEMPTS` failures -> hand-over.
* ``check``: a possible fix ("check your firewall"). *Ja* -> solved; *Nein* -> the next
  fix; when none is left -> hand-over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Optional

from . import topics

DO = "do"
CHECK = "check"

NEXT = "next"          # show the next stage
RETRY = "retry"        # same stage again, with hints
DONE = "done"          # all instructions followed: finished
SOLVED = "solved"      # a fix helped: finished
HANDOVER = "handover"  # give the case to a human

MAX_FAILED_ATTEMPTS = 2


@dataclass(frozen=True)
class Stage:
    """One message of a walkthrough plus the yes/no question after it."""

    article_id: str
    kind: str                         # DO | CHECK
    title: str
    lines: tuple[str, ...] = ()       # steps shown as a numbered list
    text: str = ""                    # single step text (checklists)
    question: Optional[str] = None    # question from the KB (checklists)
    hints: tuple[str, ...] = ()       # shown when a DO stage failed
    number: int = 1                   # position within its article
    total: int = 1

    @property
    def label(self) -> str:
        """Short name for the hand-over summary (KB text only, never user text)."""
        return self.title if self.kind == DO or not self.text else _shorten(self.text)


@dataclass(frozen=True)
class Plan:
    topic: str
    article_id: str                   # main article (stored in slot ``walkthrough``)
    stages: tuple[Stage, ...]

    def stage(self, index: int) -> Optional[Stage]:
        return self.stages[index] if 0 <= index < len(self.stages) else None


@dataclass(frozen=True)
class Progress:
    step: int = 0
    failed_attempts: int = 0
    steps_tried: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Outcome:
    kind: str
    progress: Progress
    stage: Optional[Stage]            # the stage to show next (NEXT, RETRY), else None


def answer(plan: Plan, progress: Progress, affirmed: bool) -> Outcome:
    """The customer answered the question after stage ``progress.step`` with Ja/Nein."""
    current = plan.stage(progress.step)
    if current is None:
        return Outcome(SOLVED if affirmed else HANDOVER, progress, None)
    if current.kind == DO:
        if affirmed:
            return _advance(plan, progress, finished=DONE)
        failed = progress.failed_attempts + 1
        tried = _with(progress.steps_tried, current.label)
        progress = replace(progress, failed_attempts=failed, steps_tried=tried)
        if failed >= MAX_FAILED_ATTEMPTS:
            return Outcome(HANDOVER, progress, None)
        return Outcome(RETRY, progress, current)
    if affirmed:
        return Outcome(SOLVED, progress, None)
    progress = replace(progress, steps_tried=_with(progress.steps_tried, current.label))
    return _advance(plan, progress, finished=HANDOVER)


def _advance(plan: Plan, progress: Progress, finished: str) -> Outcome:
    following = plan.stage(progress.step + 1)
    if following is None:
        return Outcome(finished, progress, None)
    return Outcome(NEXT, replace(progress, step=progress.step + 1), following)


def _with(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return items if item in items else items + (item,)


def _shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- plans from the knowledge base -------------------------------------------------------------

def build_plan(kb, topic: Optional[str], *, client: Optional[str] = None,
               protocol: Optional[str] = None, article_id: Optional[str] = None) -> Optional[Plan]:
    """The walkthrough for a topic, or None when the topic has none (one-shot answers)."""
    if topic == topics.SETUP:
        guide = kb.guide(client or "other", protocol or "imap")
        return Plan(topic, guide.id, tuple(guide_stages(guide)))
    if topic == topics.SEND_PROBLEM:
        return _send_plan(kb, client or "other", article_id)
    if topic in (topics.RECEIVE_PROBLEM, topics.LOGIN_PROBLEM):
        problem_id = article_id or topics.PROBLEM_CANDIDATES[topic][0]
        return Plan(topic, problem_id, tuple(problem_stages(kb.problem(problem_id))))
    if topic == topics.MAILBOX_FULL:
        return _mailbox_full_plan(kb, protocol, client)
    if topic == topics.BOUNCE and article_id:
        article = kb.article(article_id)
        return Plan(topic, article.id, (Stage(article.id, CHECK, article.title),))
    return None


def guide_stages(guide, last_is_check: bool = False) -> list[Stage]:
    groups = [g for g in guide.step_groups if g.steps]
    stages = [
        Stage(guide.id, DO, group.title, lines=tuple(group.steps), hints=tuple(guide.pitfalls),
              number=index, total=len(groups))
        for index, group in enumerate(groups, start=1)
    ]
    if last_is_check and stages:
        stages[-1] = replace(stages[-1], kind=CHECK)
    return stages


def problem_stages(problem, steps=None) -> list[Stage]:
    """Each fix of a checklist as a CHECK stage.

    Steps that are only a diagnostic question ("Kommt eine Fehlermeldung zurück?") are
    left out: the bot asks after every fix whether the problem is solved instead. The
    KB's per-step ``question`` is diagnostic too (not a yes/no "solved?"), so it is not
    used as the walkthrough question.
    """
    steps = [s for s in (problem.steps if steps is None else steps)
             if not s.text.rstrip().endswith("?")]
    return [
        Stage(problem.id, CHECK, problem.title, text=step.text, number=index, total=len(steps))
        for index, step in enumerate(steps, start=1)
    ]


def _send_plan(kb, client: str, article_id: Optional[str]) -> Plan:
    stages: list[Stage] = []
    try:
        stages += guide_stages(kb.guide(client, "smtp"), last_is_check=True)
    except KeyError:
        pass
    problem_id = article_id or topics.PROBLEM_CANDIDATES[topics.SEND_PROBLEM][0]
    stages += problem_stages(kb.problem(problem_id))
    return Plan(topics.SEND_PROBLEM, problem_id, tuple(stages))


_PROTOCOL_MENTION = {"imap": re.compile(r"\bIMAP\b"), "pop3": re.compile(r"\bPOP3?\b")}


def steps_for_protocol(steps, protocol: Optional[str]) -> list:
    """Drop the steps that name only the other retrieval protocol."""
    if protocol not in _PROTOCOL_MENTION:
        return list(steps)
    others = [rx for name, rx in _PROTOCOL_MENTION.items() if name != protocol]
    return [s for s in steps if not any(rx.search(s.text) for rx in others)]


def _mentions_other_protocol(text: str, protocol: Optional[str]) -> bool:
    return any(rx.search(text) for name, rx in _PROTOCOL_MENTION.items() if name != protocol)


def _mailbox_full_plan(kb, protocol: Optional[str], client: Optional[str]) -> Plan:
    """Instructions, not alternatives: shown as whole groups, each with "Hat das geklappt?".

    POP3: first stop keeping copies on the server (the FAQ's cause), then free space.
    IMAP: delete, empty the trash / expunge, check in the Webagent.
    """
    problem = kb.problem("problem_mailbox_full")
    variant = next((v for v in problem.variants if v.key == protocol), None)
    steps = variant.steps if variant is not None else steps_for_protocol(problem.steps, protocol)
    stages: list[Stage] = []
    if protocol == "pop3":
        stages += leave_copy_stages(kb, client)
        steps = [s for s in steps if not _PROTOCOL_MENTION["pop3"].search(s.text)]
    hints = tuple(n for n in problem.notes if not _mentions_other_protocol(n, protocol))
    stages.append(Stage(problem.id, DO, problem.title,
                        lines=tuple(s.text for s in steps if not s.text.rstrip().endswith("?")),
                        hints=hints))
    total = len(stages)
    stages = [replace(stage, number=index, total=total) for index, stage in enumerate(stages, 1)]
    return Plan(topics.MAILBOX_FULL, problem.id, tuple(stages))


def leave_copy_stages(kb, client: Optional[str]) -> list[Stage]:
    """How to stop keeping copies on the server with POP3 (FAQ steps + notes for the client)."""
    procedure = kb.procedure("proc_pop3_leave_copy")
    lines = [step.text for step in procedure.steps]
    lines += [note for note in procedure.notes if client and kb.resolve_client(note) == client]
    return [Stage(procedure.id, DO, procedure.title, lines=tuple(lines),
                  hints=tuple(n for n in procedure.notes if n not in lines))]


def choose_problem(kb, topic: str, text: str, client: Optional[str] = None) -> str:
    """The troubleshooting article of ``topic`` that best fits the customer's words."""
    candidates = [c for c in topics.PROBLEM_CANDIDATES.get(topic, ()) if kb.has_article(c)]
    if not candidates:
        raise KeyError(f"no troubleshooting article for topic {topic!r}")
    if text:
        for hit in kb.search(text, limit=8):
            if hit.article_id in candidates:
                return hit.article_id
    if client == "windows_mail" and "problem_windows_mail_no_access" in candidates:
        return "problem_windows_mail_no_access"
    return candidates[0]
