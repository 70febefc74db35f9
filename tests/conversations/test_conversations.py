"""Conversation regression tests: every case in ``tests/conversations/cases/*.yml`` is a test.

The cases run against the real stack (session fixture ``live_stack``). All selected
cases are submitted to a small thread pool as soon as the first one is needed, so they
run concurrently while pytest reports them one by one. At the end of the session the
report is written to ``reports/conversations/report.md`` and ``report.html``.

Environment:
- ``CONVERSATION_WORKERS`` (default 4): conversations played at the same time.
- ``CONVERSATION_TIMEOUT`` (default 90): seconds per HTTP request to Rasa.
- ``CONVERSATIONS_RASA_URL`` + ``CONVERSATIONS_RASA_TOKEN``: use an already running
  Rasa server (e.g. from ``make run``) instead of starting the stack.
"""
from __future__ import annotations

import os

import pytest

from tests.conversations.caseformat import Case, case_files, load_all, load_file, CaseFormatError
from tests.conversations.report import write_reports
from tests.conversations.runner import ConcurrentRunner, render_case

CASES, FORMAT_ERRORS = load_all()


@pytest.fixture(scope="session")
def conversation_runner(request):
    external_url = os.environ.get("CONVERSATIONS_RASA_URL")
    if external_url:
        rasa_url, token = external_url, os.environ.get("CONVERSATIONS_RASA_TOKEN")
    else:
        stack = request.getfixturevalue("live_stack")
        rasa_url, token = stack.rasa_url, stack.rasa_token
    runner = ConcurrentRunner(
        rasa_url,
        token,
        workers=int(os.environ.get("CONVERSATION_WORKERS", "4")),
        timeout=float(os.environ.get("CONVERSATION_TIMEOUT", "90")),
    )
    # Submit every case pytest selected (respects -k, node ids, -m) so they run in parallel.
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "callspec", None) is not None and isinstance(item.callspec.params.get("case"), Case)
    ]
    runner.submit_all(selected)
    try:
        yield runner
    finally:
        runner.shutdown()
        results = runner.finished()
        if results:
            paths = write_reports(results, rasa_url=rasa_url, format_errors=[str(e) for e in FORMAT_ERRORS])
            terminal = request.config.pluginmanager.get_plugin("terminalreporter")
            if terminal is not None:
                terminal.write_line(f"conversation report: {paths[0]} and {paths[1]}")


# Cases that fail with the current model because of known NLU mistakes. They still run and
# are reported in full; an unexpected pass shows up as XPASS. Remove an entry once fixed.
KNOWN_ISSUES: dict = {}  # test_id -> reason; such a case runs as a non-strict xfail


def case_param(case: Case):
    reason = KNOWN_ISSUES.get(case.test_id)
    marks = [pytest.mark.xfail(reason=f"known issue: {reason}", strict=False)] if reason else []
    return pytest.param(case, id=case.test_id, marks=marks)


@pytest.mark.stack
@pytest.mark.parametrize("case", [case_param(c) for c in CASES])
def test_conversation(case: Case, conversation_runner: ConcurrentRunner) -> None:
    result = conversation_runner.result(case)
    if not result.passed:
        pytest.fail(render_case(result), pytrace=False)


@pytest.mark.stack
@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_case_file_is_valid(path) -> None:
    """An invalid case file fails here (its valid siblings still run)."""
    try:
        load_file(path)
    except CaseFormatError as exc:
        pytest.fail(str(exc), pytrace=False)
