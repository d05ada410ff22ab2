"""Accent-folded lexical index over product names: exact, prefix and typo-tolerant token matches.

Names and queries are folded the same way (accents stripped, ß→ss, apostrophes dropped,
punctuation to spaces, lower case). Each query token is matched against the catalog's
vocabulary exactly, by prefix ("mozz" → mozzarella), by edit distance ("mozarella") and,
for longer tokens, inside compounds ("gummy" → gummibarchen), all with rapidfuzz. A
product's lexical score is the IDF-weighted share of the query it covers, plus a little
for how much of its own name the query covers, so "tofu" prefers *Tofu* to *Longlife
Tofu*. Posting lists are numpy arrays, so a query touches only the products that share a
token with it, which keeps 100k-product catalogs fast.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from db.text import fold as fold_letters

STOPWORDS = frozenset(
    "a an the of some any please our my this that these those more and or for".split()
)
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
QUERY_SHARE = 0.85  # the rest of the lexical score is the share of the name covered
MAX_PREFIX_MATCHES = 50


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: 'Pâté chinois' → 'pate chinois'."""
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", fold_letters(text))).strip()


def query_tokens(folded: str) -> list[str]:
    """Tokens that carry meaning: stop words dropped unless nothing else is left."""
    tokens = folded.split()
    kept = [token for token in tokens if token not in STOPWORDS]
    return kept or tokens


def token_similarity(query_token: str, name_token: str) -> float:
    """How well one typed token matches one vocabulary token, 0..1 (0: no match)."""
    if query_token == name_token:
        return 1.0
    if len(query_token) >= 3 and name_token.startswith(query_token):
        return 0.9 if len(query_token) >= 4 else 0.75
    # A typo changes a word's length by a letter or two; a longer difference is another
    # word sharing letters ("bicycle" is not "cycle").
    if len(query_token) >= 4 and abs(len(query_token) - len(name_token)) <= (
        1 if len(query_token) < 8 else 2
    ):
        cutoff = 75 if len(query_token) <= 4 else 80
        ratio = fuzz.ratio(query_token, name_token, score_cutoff=cutoff)
        if ratio:
            return 0.95 * ratio / 100
    if len(query_token) >= 5 and len(name_token) > len(query_token) + 2:
        partial = fuzz.partial_ratio(query_token, name_token, score_cutoff=80)
        if partial:
            return 0.8 * partial / 100
    return 0.0


@dataclass(frozen=True)
class LexicalHit:
    """One product's lexical match to a query."""

    row: int
    score: float  # 0..1
    coverage: float  # the IDF-weighted share of the query this name matches, 0..1
    exact: bool  # the whole folded query is the product's whole folded name


class LexicalIndex:
    """Immutable index of product names; build a new one when the catalog changes."""

    def __init__(self, names: Sequence[str]) -> None:
        self.size = len(names)
        self.folded = [fold(name) for name in names]
        self.tokens = [tuple(dict.fromkeys(f.split())) for f in self.folded]
        postings: dict[str, list[int]] = defaultdict(list)
        by_name: dict[str, list[int]] = defaultdict(list)
        for row, tokens in enumerate(self.tokens):
            by_name[self.folded[row]].append(row)
            for token in tokens:
                postings[token].append(row)
        self.by_name = dict(by_name)
        self.postings = {token: np.array(rows, dtype=np.int64) for token, rows in postings.items()}
        self.idf = {token: math.log(1 + self.size / len(rows)) for token, rows in postings.items()}
        self.vocab = sorted(self.postings)
        self._max_idf = max(self.idf.values(), default=1.0)

    def match_token(self, token: str) -> dict[str, float]:
        """Vocabulary tokens matching one query token, with their similarity."""
        matches: dict[str, float] = {}
        if token in self.postings:
            matches[token] = 1.0
        if len(token) >= 3:
            start = bisect_left(self.vocab, token)
            for candidate in self.vocab[start : start + MAX_PREFIX_MATCHES]:
                if not candidate.startswith(token):
                    break
                matches.setdefault(candidate, token_similarity(token, candidate))
        if len(token) >= 4:
            for candidate, _, _ in process.extract(
                token, self.vocab, scorer=fuzz.ratio, score_cutoff=75, limit=20
            ):
                matches.setdefault(candidate, token_similarity(token, candidate))
        if len(token) >= 5:
            for candidate, _, _ in process.extract(
                token, self.vocab, scorer=fuzz.partial_ratio, score_cutoff=80, limit=20
            ):
                matches.setdefault(candidate, token_similarity(token, candidate))
        return {candidate: sim for candidate, sim in matches.items() if sim > 0}

    def search(self, query: str, *, limit: int = 50) -> list[LexicalHit]:
        """The best `limit` products by lexical score, best first."""
        folded = fold(query)
        tokens = query_tokens(folded)
        if not tokens or not self.size:
            return []
        matched = [self.match_token(token) for token in tokens]
        weights = np.array([self._weight(m) for m in matched])
        coverage = np.zeros(self.size)
        for weight, matches in zip(weights, matched, strict=True):
            best = np.zeros(self.size)
            for vocab_token, sim in matches.items():
                rows = self.postings[vocab_token]
                np.maximum.at(best, rows, sim)
            coverage += weight * best
        coverage /= weights.sum()
        rows = self._top_rows(coverage, limit)
        exact_rows = set(self.by_name.get(" ".join(tokens), ())) | set(self.by_name.get(folded, ()))
        rows = list(dict.fromkeys([*exact_rows, *rows]))
        hits = [self._hit(row, coverage[row], matched, row in exact_rows) for row in rows]
        return sorted(hits, key=lambda hit: -hit.score)

    def _weight(self, matches: dict[str, float]) -> float:
        # An unmatched token still counts (as a rare word) so that it lowers coverage.
        return max((self.idf[token] for token in matches), default=self._max_idf)

    def _top_rows(self, coverage: np.ndarray, limit: int) -> list[int]:
        nonzero = np.flatnonzero(coverage)
        if len(nonzero) > limit:
            nonzero = nonzero[np.argpartition(-coverage[nonzero], limit)[:limit]]
        return [int(row) for row in nonzero]

    def _hit(
        self, row: int, coverage: float, matched: list[dict[str, float]], exact: bool
    ) -> LexicalHit:
        if exact:
            return LexicalHit(row=row, score=1.0, coverage=1.0, exact=True)
        name_tokens = self.tokens[row]
        covered = sum(1 for token in name_tokens if any(token in m for m in matched))
        name_share = covered / len(name_tokens) if name_tokens else 0.0
        score = QUERY_SHARE * coverage + (1 - QUERY_SHARE) * name_share
        return LexicalHit(row=row, score=float(score), coverage=float(coverage), exact=False)
