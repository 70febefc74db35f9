"""Ranked, typo- and inflection-tolerant German search over KB articles.

Scoring combines
* BM25 over stems (light stemmer, umlauts folded, stopwords removed), where query terms
  missing from the vocabulary are expanded to similar vocabulary terms (trigram Jaccard)
  and split into known parts (compounds such as "Postausgangsserver"),
* a cosine similarity of character-trigram TF-IDF vectors (robust to typos and compounds),
* a bonus when the query contains a whole keyword phrase of an article.
Everything is pure Python and deterministic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable

from .models import SearchHit
from .text import STOPWORDS, stem, terms, trigrams, words

MAX_QUERY_CHARS = 2000
MAX_QUERY_TERMS = 40
FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.5, "summary": 1.5, "body": 1.0}
COMPOUND_PART_WEIGHT = 0.6
K1, B = 1.2, 0.5
FUZZY_MIN_SIMILARITY = 0.45
FUZZY_MAX_CANDIDATES = 3
TRIGRAM_WEIGHT = 4.0
PHRASE_BONUS = 1.5
MIN_SCORE = 0.5
MIN_PART = 3


class SearchIndex:
    """Index over ``(article_id, title, fields)`` documents; see module docstring."""

    def __init__(self, documents: Iterable[tuple[str, str, dict[str, list[str]]]]) -> None:
        self._ids: list[str] = []
        self._titles: list[str] = []
        phrases: list[tuple[int, frozenset[str]]] = []
        raw_docs: list[Counter[str]] = []
        gram_docs: list[Counter[str]] = []
        for article_id, title, fields in documents:
            self._ids.append(article_id)
            self._titles.append(title)
            counts: Counter[str] = Counter()
            grams: Counter[str] = Counter()
            for name, texts in fields.items():
                weight = FIELD_WEIGHTS[name]
                for text in texts:
                    for term in terms(text):
                        counts[term] += weight
                    for word in words(text):
                        if word not in STOPWORDS:
                            for gram in trigrams(word):
                                grams[gram] += weight
            raw_docs.append(counts)
            gram_docs.append(grams)
            for keyword in fields.get("keywords", []):
                phrase = frozenset(terms(keyword))
                if phrase:
                    phrases.append((len(self._ids) - 1, phrase))

        self._vocab = set().union(*raw_docs) if raw_docs else set()
        # compound parts of indexed words count too (lower weight)
        self._docs = []
        for counts in raw_docs:
            expanded = Counter(counts)
            for term, weight in counts.items():
                for part in self._split(term):
                    expanded[part] += weight * COMPOUND_PART_WEIGHT
            self._docs.append(expanded)
        self._vocab = set().union(*self._docs) if self._docs else set()
        self._vocab_grams = _gram_index(self._vocab)
        self._build_bm25()
        self._build_trigram_vectors(gram_docs)
        # keyword phrases, filed under their rarest term so a query only checks candidates
        self._phrases: dict[str, list[tuple[int, frozenset[str]]]] = defaultdict(list)
        for index, phrase in phrases:
            anchor = min(sorted(phrase), key=lambda t: (-self._idf.get(t, 99.0), t))
            self._phrases[anchor].append((index, phrase))

    # -- building -------------------------------------------------------------
    def _build_bm25(self) -> None:
        n = len(self._docs)
        self._doc_len = [sum(d.values()) for d in self._docs]
        self._avg_len = (sum(self._doc_len) / n) if n else 1.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, doc in enumerate(self._docs):
            for term, tf in doc.items():
                self._postings[term].append((index, tf))

    def _build_trigram_vectors(self, gram_docs: list[Counter[str]]) -> None:
        n = len(gram_docs)
        df: Counter[str] = Counter()
        for doc in gram_docs:
            df.update(doc.keys())
        self._gram_idf = {g: math.log((1 + n) / (1 + c)) + 1.0 for g, c in df.items()}
        self._gram_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, doc in enumerate(gram_docs):
            vector = {g: (1 + math.log(tf)) * self._gram_idf[g] for g, tf in doc.items()}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for gram, value in vector.items():
                self._gram_postings[gram].append((index, value / norm))

    # -- compounds and fuzzy matching --------------------------------------------
    def _split(self, term: str, depth: int = 0) -> list[str]:
        """Split a compound into vocabulary parts ("postausgangsserv" -> postausgang, serv)."""
        if depth > 3 or len(term) < 2 * MIN_PART or term[:1].isdigit():
            return []
        for cut in range(len(term) - MIN_PART, MIN_PART - 1, -1):
            head, tail = term[:cut], term[cut:]
            if head not in self._vocab and stem(head) not in self._vocab:
                continue
            head = head if head in self._vocab else stem(head)
            for rest in (tail, tail[1:] if tail.startswith("s") else None):
                if not rest or len(rest) < MIN_PART:
                    continue
                rest_stem = stem(rest)
                if rest in self._vocab or rest_stem in self._vocab:
                    return [head, rest if rest in self._vocab else rest_stem]
                deeper = self._split(rest, depth + 1)
                if deeper:
                    return [head] + deeper
        return []

    def _similar(self, term: str) -> list[tuple[str, float]]:
        grams = set(trigrams(term))
        overlap: Counter[str] = Counter()
        for gram in grams:
            for candidate in self._vocab_grams.get(gram, ()):
                overlap[candidate] += 1
        scored = []
        for candidate, shared in overlap.items():
            union = len(grams) + len(trigrams(candidate)) - shared
            similarity = shared / union
            if similarity >= FUZZY_MIN_SIMILARITY:
                scored.append((candidate, similarity))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:FUZZY_MAX_CANDIDATES]

    def _expand(self, query_terms: list[str]) -> dict[str, float]:
        weights: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            if weight > weights.get(term, 0.0):
                weights[term] = weight

        for term in query_terms:
            if term in self._vocab:
                add(term, 1.0)
                continue
            parts = self._split(term)
            for part in parts:
                add(part, 0.8)
            if not parts:
                for candidate, similarity in self._similar(term):
                    add(candidate, similarity * similarity)
        return weights

    # -- querying -----------------------------------------------------------------
    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        if not isinstance(query, str) or limit <= 0:
            return []
        query = query[:MAX_QUERY_CHARS]
        query_terms = list(dict.fromkeys(terms(query)))[:MAX_QUERY_TERMS]
        if not query_terms:
            return []
        scores: dict[int, float] = defaultdict(float)
        matched: set[int] = set()
        for term, weight in self._expand(query_terms).items():
            idf = self._idf.get(term, 0.0)
            for index, tf in self._postings.get(term, ()):
                norm = K1 * (1 - B + B * self._doc_len[index] / self._avg_len)
                scores[index] += weight * idf * tf * (K1 + 1) / (tf + norm)
                matched.add(index)
        query_words = [w for w in words(query) if w not in STOPWORDS][:MAX_QUERY_TERMS]
        for index, cosine in self._trigram_cosines(query_words).items():
            scores[index] += TRIGRAM_WEIGHT * cosine
        term_set = set(query_terms)
        bonus: dict[int, float] = {}
        for term in term_set:
            for index, phrase in self._phrases.get(term, ()):
                if term_set.issuperset(phrase):
                    bonus[index] = bonus.get(index, 0.0) + PHRASE_BONUS * len(phrase)
        for index, value in bonus.items():
            scores[index] += value
        hits = [
            SearchHit(self._ids[i], self._titles[i], round(score, 6))
            for i, score in scores.items()
            if score >= MIN_SCORE and (i in matched or score >= 2 * MIN_SCORE)
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.article_id))
        return hits[:limit]

    def _trigram_cosines(self, query_words: list[str]) -> dict[int, float]:
        counts: Counter[str] = Counter()
        for word in query_words:
            counts.update(trigrams(word))
        vector = {g: (1 + math.log(tf)) * self._gram_idf[g] for g, tf in counts.items()
                  if g in self._gram_idf}
        if not vector:
            return {}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        result: dict[int, float] = defaultdict(float)
        if not norm:
            return result
        for gram, value in vector.items():
            for index, doc_value in self._gram_postings[gram]:
                result[index] += value / norm * doc_value
        return result


def _gram_index(vocab: set[str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for term in sorted(vocab):
        for gram in set(trigrams(term)):
            index[gram].append(term)
    return index
