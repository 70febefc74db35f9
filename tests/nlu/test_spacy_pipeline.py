"""The in-repo German spaCy pipeline (ops/build_spacy_de.py, `make spacy`)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops import build_spacy_de as build

MODEL = build.OUTPUT


@pytest.fixture(scope="module")
def nlp():
    if not (MODEL / "meta.json").exists():
        pytest.skip(f"{MODEL} not built: run `make spacy`")
    import spacy

    return spacy.load(MODEL)


def lemmas(nlp, text):
    # Rasa's SpacyNLP (case_sensitive: false) hands over lowercased text
    return [t.lemma_ for t in nlp(text.lower())]


@pytest.mark.parametrize("word, lemma", [
    ("Postfächer", "postfach"), ("Postfaecher", "postfach"), ("Passwörter", "passwort"),
    ("Kennwörter", "kennwort"), ("E-Mails", "e-mail"), ("Anhänge", "anhang"),
    ("loeschen", "löschen"), ("gelöscht", "löschen"), ("Einstellungen", "einstellung"),
    ("weitergeleitet", "weiterleiten"), ("verschickt", "verschicken"), ("groesse", "größe"),
    ("Nachrichten", "nachricht"), ("lang", "lang"),
])
def test_lookup_lemmas(nlp, word, lemma):
    assert lemmas(nlp, word) == [lemma]


def test_capitalised_domain_words_also_work(nlp):
    assert [t.lemma_ for t in nlp("Postfächer Passwörter")] == ["postfach", "passwort"]


@pytest.mark.parametrize("text, tokens", [
    ("IMAP-Konto", ["imap", "-", "konto"]),
    ("SSL-Verschlüsselung", ["ssl", "-", "verschlüsselung"]),
    ("Outlook-Profil", ["outlook", "-", "profil"]),
    ("Outlook2016", ["outlook", "2016"]),
    ("Port 587.", ["port", "587", "."]),
    ("Fehlercode:5.7.26.", ["fehlercode", ":", "5.7.26", "."]),
    ("550-5.7.26", ["550", "-", "5.7.26"]),
    ("SSL/TLS", ["ssl/tls"]),
    ("(SSL/TLS)", ["(", "ssl/tls", ")"]),
    ("ssl / tls", ["ssl", "/", "tls"]),
    # kept whole: ordinary compounds, host names, addresses
    ("E-Mail-Adresse", ["e-mail-adresse"]),
    ("Mail-App", ["mail-app"]),
    ("smtp.dokom.net", ["smtp.dokom.net"]),
    ("support@dokom21.de", ["support@dokom21.de"]),
])
def test_tokenizer_rules(nlp, text, tokens):
    assert [t.text for t in nlp(text.lower())] == tokens


def test_build_is_current_and_idempotent():
    if not (MODEL / "meta.json").exists():
        pytest.skip(f"{MODEL} not built: run `make spacy`")
    assert build.is_current(MODEL), "pipeline is stale: run `make spacy`"
    before = {p: p.stat().st_mtime_ns for p in MODEL.rglob("*") if p.is_file()}
    assert build.main([]) == 0
    after = {p: p.stat().st_mtime_ns for p in MODEL.rglob("*") if p.is_file()}
    assert before == after, "an up-to-date build must not rewrite files"


def test_lemma_table_logic():
    generic = {"Postfach": "Postfach", "Essen": "Essen", "essen": "essen", "Anhänge": "Anhang",
               "gelöscht": "löschen"}
    table = build.build_lemma_table(generic, domain={"postfächer": "postfach"})
    assert table["postfächer"] == "postfach"
    assert table["postfaecher"] == "postfach"      # umlaut-free spelling
    assert table["anhänge"] == "anhang" and table["anhaenge"] == "anhang"
    assert table["geloescht"] == "löschen"
    assert "postfach" not in table                 # identity entries are dropped
    assert "essen" not in table                    # lowercase form wins, and is identity
    kept = build.build_lemma_table(generic, domain={}, keep={"anhänge"})
    assert set(kept) == {"anhänge"}


def test_meta_and_stamp(tmp_path):
    if not (MODEL / "meta.json").exists():
        pytest.skip(f"{MODEL} not built: run `make spacy`")
    meta = json.loads((MODEL / "meta.json").read_text())
    assert meta["lang"] == "de"
    assert meta["pipeline"] == ["lemmatizer", "entity_ruler", "merge_entities"]
    assert json.loads((MODEL / "build.json").read_text())["hash"] == build.build_hash()


@pytest.mark.parametrize("text, token", [
    ("Es läuft ohne SSL", "ohne ssl"),
    ("keine Verschlüsselung eingestellt", "keine verschlüsselung"),
    ("ist nicht verschlüsselt", "nicht verschlüsselt"),
    ("Mail auf dem Mac", "mail auf dem mac"),
    ("mit Mail am MacBook", "mail am macbook"),
])
def test_multiword_names_are_one_token(nlp, text, token):
    assert token in [t.text for t in nlp(text.lower())]


def test_multiword_merge_leaves_other_text_alone(nlp):
    assert [t.text for t in nlp("thunderbird auf dem mac")] == ["thunderbird", "auf", "dem", "mac"]
    assert [t.text for t in nlp("ich bekomme keine mails")] == ["ich", "bekomme", "keine", "mails"]
