"""Agent assist: passwords are masked before anything else sees the text."""
from bot.assist import prepare
from bot.assist.masking import PLACEHOLDER, fallback_mask, mask

from assist_fakes import FakeBounce


def test_real_redactor_masks_password():
    masked = mask("Hallo, mein Passwort ist Sommer2024! und geht nicht.")
    assert "Sommer2024" not in masked.text
    assert PLACEHOLDER in masked.text
    assert masked.count == 1
    assert not masked.fallback


def test_normal_talk_about_passwords_is_kept():
    text = "Ich habe mein Passwort vergessen. Wie kann ich es ändern?"
    masked = mask(text)
    assert masked.text == text
    assert masked.count == 0


def test_broken_redactor_falls_back_to_masking_whole_lines():
    def broken(_text):
        raise RuntimeError("boom")

    masked = mask("Benutzer: max\nKennwort: Geheim123\nDanke", redactor=broken)
    assert "Geheim123" not in masked.text
    assert masked.fallback
    assert masked.text.splitlines() == ["Benutzer: max", PLACEHOLDER, "Danke"]


def test_fallback_counts_lines():
    assert fallback_mask("pw=abc\npasswort: x").count == 2


def test_prepare_masks_before_nlu_and_bounce():
    seen = []

    def analyser(text):
        seen.append(text)
        return FakeBounce()(text)

    prepared = prepare("Mein Kennwort: Xy7!abcd\nOutlook sendet nicht.", analyser=analyser)
    assert all("Xy7!abcd" not in t for t in prepared.nlu_texts())
    assert "Xy7!abcd" not in seen[0]
    assert "Xy7!abcd" not in prepared.masked.text
    assert prepared.masked.count == 1
