"""Build the German spaCy pipeline used by Rasa's SpacyNLP: `.spacy/de_mailhilfe`.

Run with `make spacy` (`.venv/bin/python -m ops.build_spacy_de`). The pipeline has no
statistical parts and no word vectors, which keeps it small and quick to load; it
adds only what the Rasa pipeline in `config.yml` uses:

* a German tokenizer (`spacy.blank("de")`) with a few extra rules for how customers
  write about e-mail: a trailing dot after a number is split off ("Port 587." ->
  "587" "."), a colon or '#' between a word and a number is split ("Fehlercode:5.7.26"),
  a hyphen after a protocol, encryption or client name is split ("IMAP-Konto",
  "SSL-Verschlüsselung", "Outlook-Profil") so the name is a token of its own that
  entity extraction can tag, and a version number glued to a client name is split
  ("Outlook2016"), while "SSL/TLS" stays one token;
* multi-word setting names merged into one token (spaCy's built-in entity_ruler +
  merge_entities, so loading needs no custom code): "ohne SSL", "keine
  Verschlüsselung", "nicht verschlüsselt" (encryption `none`) and "Mail auf dem Mac"
  (client `apple_mail`). As single tokens they are tagged as one entity; as several
  tokens DIET tended to cut "ohne SSL" into "ohne" + "SSL" (= ssl_tls, the opposite);
* a lookup lemmatizer whose table comes from spacy-lookups-data, rewritten for the way
  Rasa calls it: Rasa's SpacyNLP lowercases the text first (`case_sensitive: false`),
  so every key is lowercase. The table also gets spellings without umlauts
  ("postfaecher", "loeschen", "groesse"), which customers type on keyboards without
  them, and a small list of e-mail words the generic table lacks ("Postfächer",
  "Passwörter", "E-Mails", ...). To keep the Rasa server's memory small (the full
  table costs ~130 MB of RAM), only forms that occur in spacy-lookups-data's German
  frequency list (its 1M most frequent word forms) are kept, ~100k entries, plus the
  domain words; identity entries are dropped (a missing key returns the word itself).

The build is idempotent: `build.json` in the output records a hash of everything that
goes into the pipeline; when it matches, nothing is rewritten (so `ops.train`, which
fingerprints `.spacy/`, does not retrain for nothing). `--force` rebuilds anyway.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Set

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / ".spacy" / "de_mailhilfe"
PIPELINE_NAME = "mailhilfe"
BUILD_VERSION = "3"  # bump when the logic below changes in a way the hash cannot see

# Words whose surface forms the generic lookup table lacks or gets wrong. Keys are
# inflected forms (any case), values the lemma. Keep this to e-mail vocabulary.
DOMAIN_LEMMAS: Dict[str, str] = {
    # mailbox, password, address
    "postfach": "postfach", "postfächer": "postfach", "postfaches": "postfach",
    "postfachs": "postfach", "postfächern": "postfach", "mailbox": "postfach",
    "mailboxen": "postfach", "mailboxes": "postfach",
    "passwörter": "passwort", "passworts": "passwort", "passwortes": "passwort",
    "passwörtern": "passwort", "kennwörter": "kennwort", "kennworts": "kennwort",
    "kennwortes": "kennwort", "kennwörtern": "kennwort",
    "e-mails": "e-mail", "emails": "e-mail", "email": "e-mail", "mails": "mail",
    "e-mail-adressen": "e-mail-adresse", "mailadressen": "mailadresse",
    "emailadressen": "e-mail-adresse", "emailadresse": "e-mail-adresse",
    "e-mailadressen": "e-mail-adresse", "e-mailadresse": "e-mail-adresse",
    "adressen": "adresse", "accounts": "account", "konten": "konto", "kontos": "konto",
    "weiterleitungen": "weiterleitung", "fehlermeldungen": "fehlermeldung",
    "anhänge": "anhang", "anhängen": "anhang", "anhangs": "anhang", "dateianhänge": "dateianhang",
    "attachments": "attachment", "ordnern": "ordner", "entwürfe": "entwurf",
    "spams": "spam", "spammails": "spammail", "spam-mails": "spam-mail",
    "viren": "virus", "einstellungen": "einstellung", "servereinstellungen": "servereinstellung",
    "kontoeinstellungen": "kontoeinstellung", "zugangsdaten": "zugangsdaten",
    "sonderzeichen": "sonderzeichen", "umlaute": "umlaut", "zeichen": "zeichen",
    "weiterleitungsadressen": "weiterleitungsadresse",
    # verbs customers use about mail
    "verschicke": "verschicken", "verschickst": "verschicken", "verschickt": "verschicken",
    "verschicken": "verschicken", "abrufen": "abrufen", "rufe": "rufen",
    "empfange": "empfangen", "empfängt": "empfangen", "empfangen": "empfangen",
    "einrichten": "einrichten", "eingerichtet": "einrichten", "anlegen": "anlegen",
    "angelegt": "anlegen", "löschen": "löschen", "lösche": "löschen", "gelöscht": "löschen",
    "weiterleiten": "weiterleiten", "weitergeleitet": "weiterleiten", "leite": "leiten",
    "ankommen": "ankommen", "angekommen": "ankommen", "kommen": "kommen",
    "senden": "senden", "sende": "senden", "sendet": "senden", "gesendet": "senden",
    "ändern": "ändern", "geändert": "ändern", "ändere": "ändern",
    "funktioniert": "funktionieren", "funzt": "funktionieren", "klappt": "klappen",
    "geklappt": "klappen",
    # fixes of wrong generic entries
    "lang": "lang", "lange": "lang", "größe": "größe", "groß": "groß", "es": "es",
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_UMLAUTS = set("äöüß")


def transliterate(word: str) -> str:
    """'löschen' -> 'loeschen', 'größe' -> 'groesse'."""
    return word.translate(_TRANSLIT)


def _generic_table() -> Dict[str, str]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "de_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _frequent_forms() -> Set[str]:
    """Lowercased (and umlaut-free) word forms of the German frequency list."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "de_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        forms = {form.lower() for form in json.load(handle)}
    return forms | {transliterate(form) for form in forms} | {f.replace("ß", "ss") for f in forms}


def build_lemma_table(
    generic: Dict[str, str],
    domain: Dict[str, str] = DOMAIN_LEMMAS,
    keep: Optional[Set[str]] = None,
) -> Dict[str, str]:
    """Lowercase lemma table: generic entries, umlaut-free spellings, domain words.

    `keep`, when given, limits the generic entries to these (lowercase) forms; domain
    words are always kept.

    A lowercase original key wins over a capitalised one ("essen" the verb over "Essen"
    the noun) because Rasa hands over lowercased text and verbs/adjectives are more
    often written in lowercase anyway.
    """
    table: Dict[str, str] = {}
    lowercase_first = sorted(generic.items(), key=lambda kv: kv[0] != kv[0].lower())
    for form, lemma in lowercase_first:
        key = form.lower()
        if key not in table:
            table[key] = lemma.lower()
    for form, lemma in domain.items():
        table[form.lower()] = lemma.lower()
    # Spellings without umlauts / sharp s, for the inflected forms and for the lemmas
    # themselves ("loeschen" -> "löschen"). Never overwrite a real word.
    words = set(table) | set(table.values())
    for word in sorted(words):
        if not (_UMLAUTS & set(word)):
            continue
        lemma = table.get(word, word)
        for variant in (transliterate(word), word.replace("ß", "ss")):
            if variant != word and variant not in table:
                table[variant] = lemma
    domain_forms = {form.lower() for form in domain}
    domain_forms |= {transliterate(form) for form in domain_forms}
    return {
        form: lemma
        for form, lemma in table.items()
        if form != lemma and (keep is None or form in keep or form in domain_forms)
    }


def _case_variants(form: str) -> Iterable[str]:
    yield form
    yield form[:1].upper() + form[1:]


def _ci(word: str) -> str:
    """Case-insensitive regex for a fixed word (usable inside a look-behind)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# Names that customers glue to another word with a hyphen ("IMAP-Konto").
HYPHEN_SPLIT_NAMES = ["imap", "imap4", "pop", "pop3", "smtp", "ssl", "tls", "starttls",
                      "outlook", "thunderbird"]
_NO = ["ohne", "keine", "kein", "keiner"]
_ENCRYPTION_WORDS = ["verschlüsselung", "verschluesselung", "ssl", "tls", "ssl/tls", "tls/ssl",
                     "starttls", "verbindungssicherheit"]
# Word sequences that become one token (label only used for merging, not as entity).
MULTIWORD_PATTERNS = [
    [{"LOWER": {"IN": _NO}}, {"LOWER": {"IN": _ENCRYPTION_WORDS}}],
    [{"LOWER": "ohne"}, {"LOWER": {"IN": ["jede", "jegliche"]}},
     {"LOWER": {"IN": ["verschlüsselung", "verschluesselung"]}}],
    [{"LOWER": "nicht"}, {"LOWER": {"IN": ["verschlüsselt", "verschluesselt"]}}],
    [{"LOWER": "mail"}, {"LOWER": {"IN": ["auf", "am", "vom", "für", "fuer", "unter"]}},
     {"LOWER": {"IN": ["dem", "der"]}, "OP": "?"},
     {"LOWER": {"IN": ["mac", "macbook", "imac", "macos"]}}],
]

# Tokens that must not be split at their slash / backslash.
KEEP_WHOLE = ["SSL/TLS", "TLS/SSL", "SSL\\TLS"]
# Client names that customers glue to a version number ("Outlook2016").
VERSION_SPLIT_NAMES = ["outlook", "thunderbird"]


def build(output: Path = OUTPUT) -> None:
    import spacy
    from spacy.lookups import Lookups
    from spacy.symbols import ORTH
    from spacy.util import compile_infix_regex, compile_suffix_regex

    nlp = spacy.blank("de")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = (
        "German tokenizer + lookup lemmatizer for the Mailhilfe e-mail support bot "
        "(built by ops/build_spacy_de.py)"
    )

    suffixes = list(nlp.Defaults.suffixes) + [r"(?<=[0-9])\."]
    infixes = list(nlp.Defaults.infixes)
    infixes.append(r"(?<=[A-Za-zÄÖÜäöüß])[:#](?=[0-9])")
    infixes.extend(rf"(?<={_ci(name)})-(?=[A-Za-zÄÖÜäöüß0-9])" for name in HYPHEN_SPLIT_NAMES)
    # zero-width split between a client name and a glued version number
    infixes.extend(rf"(?<={_ci(name)})(?=[0-9])" for name in VERSION_SPLIT_NAMES)
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # "SSL/TLS" is one setting (the FAQ's and the mail programs' name for it), so one
    # token: entity extraction then cannot cut it into "SSL" + "TLS".
    for special in KEEP_WHOLE:
        for variant in {special, special.lower(), special.upper()}:
            nlp.tokenizer.add_special_case(variant, [{ORTH: variant}])

    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    table = build_lemma_table(_generic_table(), keep=_frequent_forms())
    for form, lemma in DOMAIN_LEMMAS.items():  # direct callers may not lowercase
        for variant in _case_variants(form):
            if variant != lemma:
                table.setdefault(variant, lemma)
    lookups = Lookups()
    lookups.add_table("lemma_lookup", table)
    lemmatizer.initialize(lookups=lookups)

    ruler = nlp.add_pipe("entity_ruler", config={"validate": True})
    ruler.add_patterns([{"label": "MULTIWORD", "pattern": p} for p in MULTIWORD_PATTERNS])
    nlp.add_pipe("merge_entities")

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        staging = Path(tmp) / output.name
        nlp.to_disk(staging)
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)


def build_hash() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(f"{BUILD_VERSION}|{version('spacy')}|{version('spacy-lookups-data')}".encode())
    return digest.hexdigest()


def is_current(output: Path = OUTPUT) -> bool:
    stamp = output / "build.json"
    if not (output / "meta.json").exists() or not stamp.exists():
        return False
    try:
        return json.loads(stamp.read_text())["hash"] == build_hash()
    except (ValueError, KeyError):
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the German spaCy pipeline for Rasa.")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.force and is_current(args.output):
        print(f"spaCy pipeline {args.output} is up to date.")
        return 0
    build(args.output)
    (args.output / "build.json").write_text(json.dumps({"hash": build_hash()}) + "\n")
    print(f"Built spaCy pipeline into {args.output}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
