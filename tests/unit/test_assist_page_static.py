"""The assist page's files: no inline code (CSP), no HTML sinks for customer text, no CDN."""
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
HTML = (STATIC / "assist.html").read_text(encoding="utf-8")
JS = (STATIC / "assist.js").read_text(encoding="utf-8")
CSS = (STATIC / "assist.css").read_text(encoding="utf-8")


def test_no_inline_scripts_styles_or_handlers():
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", HTML, re.S):
        assert "src=" in match.group(1) and not match.group(2).strip()
    assert "<style" not in HTML
    assert not re.search(r"\sstyle=", HTML)
    assert not re.search(r"\son[a-z]+=", HTML)


def test_no_html_sinks_in_the_script():
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setAttribute(\"on", ".style.cssText"):
        assert sink not in JS, sink


def test_no_third_party_resources():
    for text in (HTML, JS, CSS):
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?://", text)
        assert "@import" not in text and "url(http" not in text


def test_token_is_kept_in_session_storage_only():
    assert "sessionStorage" in JS
    assert "localStorage" not in JS and "document.cookie" not in JS


def test_page_is_german_and_loads_its_own_files():
    assert '<html lang="de">' in HTML
    assert 'src="/assist/assist.js"' in HTML and 'href="/assist/assist.css"' in HTML
