"""Write the conversation test report: ``reports/conversations/report.md`` and ``report.html``."""
from __future__ import annotations

import datetime as _dt
import html
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from tests.conversations.runner import CaseResult, TurnResult, render_bot, render_case

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "reports" / "conversations"


def _by_file(results: Sequence[CaseResult]) -> "OrderedDict[str, List[CaseResult]]":
    grouped: "OrderedDict[str, List[CaseResult]]" = OrderedDict()
    for result in sorted(results, key=lambda r: (r.case.file.name, r.case.line or 0)):
        grouped.setdefault(result.case.file.name, []).append(result)
    return grouped


def _summary(results: Sequence[CaseResult]) -> Dict[str, float]:
    return {
        "total": len(results),
        "passed": sum(1 for r in results if r.passed),
        "failed": sum(1 for r in results if not r.passed),
        "turns": sum(len(r.turns) for r in results),
        "seconds": sum(r.seconds for r in results),
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(results: Sequence[CaseResult], rasa_url: str = "",
                    format_errors: Sequence[str] = (), generated: Optional[str] = None) -> str:
    generated = generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    s = _summary(results)
    lines = [
        "# Conversation tests",
        "",
        f"Generated {generated}" + (f" against {rasa_url}" if rasa_url else "") + ".",
        "",
        f"**{s['passed']} of {s['total']} cases passed**, {s['failed']} failed "
        f"({s['turns']} turns, {s['seconds']:.1f} s conversation time).",
        "",
    ]
    if format_errors:
        lines += ["## Invalid case files", ""]
        lines += [f"- `{_md_cell(e)}`" for e in format_errors]
        lines.append("")
    lines += ["## Overview", "", "| file | case | result | turns | first failing turn | seconds |",
              "|---|---|---|---|---|---|"]
    for file_name, group in _by_file(results).items():
        for r in group:
            status = "passed" if r.passed else "**FAILED**"
            lines.append(
                f"| {file_name} | {_md_cell(r.case.name)} | {status} | {len(r.turns)}/{len(r.case.turns)} "
                f"| {r.first_failure or ''} | {r.seconds:.1f} |"
            )
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", "## Failures", ""]
        for r in sorted(failed, key=lambda r: (r.case.file.name, r.case.line or 0)):
            lines += [f"### {r.case.file.name}: {r.case.name}", "", "```text", render_case(r).rstrip(), "```", ""]
    lines += ["", "## Transcripts of passed cases", ""]
    for r in sorted((r for r in results if r.passed), key=lambda r: (r.case.file.name, r.case.line or 0)):
        lines += [f"<details><summary>{html.escape(r.case.file.name)}: {html.escape(r.case.name)}</summary>",
                  "", "```text", render_case(r).rstrip(), "```", "", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.failed{color:#b3261e;font-weight:bold}
details{border:1px solid #ddd;border-radius:4px;margin:.5rem 0;padding:.3rem .6rem}
details.failed-case{border-color:#b3261e}
summary{cursor:pointer}
.turn{margin:.6rem 0 .6rem 1rem}
.customer{background:#eef3ff;padding:.3rem .5rem;border-radius:4px;white-space:pre-wrap}
.bot{background:#f5f5f5;padding:.3rem .5rem;border-radius:4px;white-space:pre-wrap;margin-top:.2rem}
.fail{color:#b3261e}.meta{color:#666;font-size:.9em}
"""


def _html_turn(t: TurnResult) -> str:
    turn = t.turn
    parts = [f'<div class="turn"><div class="meta">Turn {turn.index}'
             + (f" (line {turn.line})" if turn.line else "")
             + (' — <span class="passed">ok</span>' if t.passed else ' — <span class="failed">FAILED</span>')
             + "</div>"]
    if turn.button is not None:
        customer = f"[klickt „{turn.button.source}“]" + (f" → {t.sent}" if t.sent else "")
    else:
        customer = turn.user or ""
    parts.append(f'<div class="customer">Kunde: {html.escape(customer)}</div>')
    if t.error:
        parts.append(f'<div class="fail">ERROR: {html.escape(t.error)}</div>')
    else:
        parts.append(f'<div class="bot">{html.escape(render_bot(t))}</div>')
        if turn.slots:
            shown = {name: t.slots.get(name, "<no such slot>") for name in turn.slots}
            parts.append(f'<div class="meta">Slots: {html.escape(repr(shown))}</div>')
        if turn.handover is not None:
            parts.append(f'<div class="meta">Hand-over: {"ja" if t.handover else "nein"}</div>')
        if t.failures:
            parts.append("<ul>" + "".join(f'<li class="fail">{html.escape(f)}</li>' for f in t.failures) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def html_report(results: Sequence[CaseResult], rasa_url: str = "",
                format_errors: Sequence[str] = (), generated: Optional[str] = None) -> str:
    generated = generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    s = _summary(results)
    out = [
        "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">",
        "<title>Conversation tests</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>Conversation tests</h1>",
        f"<p class=\"meta\">Generated {html.escape(generated)}"
        + (f" against {html.escape(rasa_url)}" if rasa_url else "") + "</p>",
        f"<p><strong>{s['passed']} of {s['total']} cases passed</strong>, {s['failed']} failed "
        f"({s['turns']} turns, {s['seconds']:.1f} s conversation time).</p>",
    ]
    if format_errors:
        out.append("<h2>Invalid case files</h2><ul>")
        out += [f'<li class="fail"><code>{html.escape(e)}</code></li>' for e in format_errors]
        out.append("</ul>")
    out.append("<h2>Overview</h2><table><tr><th>file</th><th>case</th><th>result</th><th>turns</th>"
               "<th>first failing turn</th><th>seconds</th></tr>")
    for file_name, group in _by_file(results).items():
        for r in group:
            anchor = html.escape(r.case.test_id)
            out.append(
                f"<tr><td>{html.escape(file_name)}</td><td><a href=\"#{anchor}\">{html.escape(r.case.name)}</a></td>"
                f"<td class=\"{r.status}\">{r.status}</td><td>{len(r.turns)}/{len(r.case.turns)}</td>"
                f"<td>{r.first_failure or ''}</td><td>{r.seconds:.1f}</td></tr>"
            )
    out.append("</table><h2>Cases</h2>")
    for file_name, group in _by_file(results).items():
        out.append(f"<h3>{html.escape(file_name)}</h3>")
        for r in group:
            cls = "failed-case" if not r.passed else ""
            opened = " open" if not r.passed else ""
            out.append(
                f'<details id="{html.escape(r.case.test_id)}" class="{cls}"{opened}><summary>'
                f'<span class="{r.status}">{r.status}</span> {html.escape(r.case.name)} '
                f'<span class="meta">{html.escape(r.case.location)} · {html.escape(r.sender_id)}</span></summary>'
            )
            if r.case.description:
                out.append(f"<p>{html.escape(r.case.description)}</p>")
            out += [_html_turn(t) for t in r.turns]
            skipped = len(r.case.turns) - len(r.turns)
            if skipped > 0:
                out.append(f'<p class="meta">{skipped} later turn(s) not played.</p>')
            if r.error:
                out.append(f'<pre class="fail">{html.escape(r.error)}</pre>')
            out.append("</details>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_reports(results: Sequence[CaseResult], out_dir: Path = REPORT_DIR, rasa_url: str = "",
                  format_errors: Sequence[str] = ()) -> List[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    md = out_dir / "report.md"
    page = out_dir / "report.html"
    md.write_text(markdown_report(results, rasa_url, format_errors, generated), encoding="utf-8")
    page.write_text(html_report(results, rasa_url, format_errors, generated), encoding="utf-8")
    return [md, page]
