"""German text normalisation for search: umlauts, tokens, a light stemmer, trigrams."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_TOKEN = re.compile(r"\d+(?:\.\d+)+|[a-z0-9]+")
_FOLD_STEM = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_SUFFIXES = ("ungen", "ung", "en", "em", "er", "es", "e", "n", "s")
_MIN_STEM = 4

STOPWORDS = frozenset("""
a ab aber alle als also am an auch auf aus bei bin bis bitte da dann das dass dem den denn der
des die dies diese diesem diesen dieser doch dort du durch ein eine einem einen einer eines er
es etwa euch fuer gibt habe haben hat hatte hier ich ihm ihn ihr ihre ihrem ihren ihrer im in
ist ja jetzt kann koennen koennte man mein meine meinem meinen meiner mich mir mit muss nach
nein noch nun nur ob oder schon sehr sein seine sich sie sind so soll ueber um und uns unser
unsere vom von vor war warum was weil welche welchem welchen welcher welches wenn wer werden
wie wieso wir wird wo woher wurde zu zum zur hallo guten tag danke gerne bzw z b the a of to
is and
""".split())


def fold(text: str) -> str:
    """Lower-case, write umlauts as ae/oe/ue/ss and drop other accents."""
    text = text.lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Folded word tokens; dotted codes such as ``5.7.26`` stay one token."""
    return _TOKEN.findall(fold(text))


def stem(word: str) -> str:
    """A light German stemmer: umlaut folding plus at most two suffix strips."""
    if word[:1].isdigit():
        return word
    for old, new in _FOLD_STEM:
        word = word.replace(old, new)
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
                word = word[: -len(suffix)]
                break
        else:
            break
    return word


def terms(text: str) -> list[str]:
    """Stems of the non-stopword tokens of ``text``."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def trigrams(word: str) -> list[str]:
    """Character trigrams of one folded word, padded so that word edges count."""
    padded = f" {word} "
    return [padded[i:i + 3] for i in range(len(padded) - 2)]
