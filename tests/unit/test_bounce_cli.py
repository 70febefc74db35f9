"""`python -m bot.bounce FILE|-` and `python -m bot.bounce.evaluate`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.bounce import CATEGORIES

REPO = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "bounce_samples"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, input=stdin, capture_output=True, timeout=60, check=False
    )


def test_cli_with_a_file() -> None:
    proc = run("-m", "bot.bounce", str(SAMPLES / "faq_c_relay_remote.txt"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["category"] == "relay_denied"
    assert result["evidence"] == "Relay access denied"
    assert {"category", "confidence", "smtp_code", "enhanced_code", "recipients", "remote_host", "phase",
            "diagnostic", "evidence", "is_bounce", "article_id"} <= set(result)


def test_cli_with_stdin_bytes() -> None:
    raw = (SAMPLES / "nul_characters_postfix.eml").read_bytes()
    proc = run("-m", "bot.bounce", "-", stdin=raw)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["category"] == "nul_characters"


def test_cli_stdin_with_binary_garbage() -> None:
    proc = run("-m", "bot.bounce", "-", "--compact", stdin=b"\xff\xfe\x00\x80garbage\x00")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1
    assert json.loads(proc.stdout)["category"] in CATEGORIES


def test_cli_non_bounce() -> None:
    proc = run("-m", "bot.bounce", "-", stdin="Wie richte ich Outlook ein?".encode())
    result = json.loads(proc.stdout)
    assert (result["category"], result["is_bounce"]) == ("unknown", False)


def test_cli_missing_file() -> None:
    proc = run("-m", "bot.bounce", str(SAMPLES / "does-not-exist.eml"))
    assert proc.returncode == 2
    assert b"cannot read" in proc.stderr


def test_evaluate_writes_reports(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "eml").mkdir(parents=True)
    (corpus / "eml" / "a.eml").write_bytes((SAMPLES / "gmail_5_7_26.eml").read_bytes())
    (corpus / "eml" / "b.eml").write_text("550 5.1.1 User unknown", encoding="utf-8")
    (corpus / "labels.jsonl").write_text(
        '{"file": "eml/a.eml", "category": "sender_auth"}\n{"file": "eml/b.eml", "category": "dnsbl"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = run("-m", "bot.bounce.evaluate", "--corpus", str(corpus), "--out", str(out), "--fail-under", "0.9")
    assert proc.returncode == 1  # 50 % < 90 %
    assert b"50.0% overall" in proc.stdout
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert report["accuracy"] == 0.5
    assert report["confusion"]["dnsbl"] == {"recipient_unknown": 1}
    assert report["misclassified"][0]["file"] == "eml/b.eml"
    assert report["misclassified"][0]["evidence"] == "User unknown"
    markdown = (out / "eval.md").read_text(encoding="utf-8")
    assert "Confusion matrix" in markdown and "eml/b.eml" in markdown


def test_evaluate_without_corpus(tmp_path: Path) -> None:
    proc = run("-m", "bot.bounce.evaluate", "--corpus", str(tmp_path / "missing"), "--out", str(tmp_path))
    assert proc.returncode == 2
    assert b"corpus not found" in proc.stderr
