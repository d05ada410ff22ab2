"""Fuzzy customer lookup: find the customer a salesperson means, however they wrote it.

Staff name customers by full company name, a short form ("Alfreds", "Bon app"), without
accents or case ("la maison d'asie"), with typos ("Alfred Futterkiste"), by 5-letter code
("ALFKI") or by contact ("Maria Anders"). `CustomerIndex` folds every name once (accents,
case, apostrophes, articles and legal suffixes such as GmbH or S.A. removed) and scores
references with rapidfuzz. `lookup` resolves a bare reference; `find_in` spots a customer
named anywhere in a whole order message, using only phrases that name exactly one
customer and never a word of a product name (so "Laughing Lumberjack Lager" is not
"Laughing Bacchus"). Weak or tied evidence gives no `best` match: the agent asks instead.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Customer, Product
from db.text import fold as fold_letters

# A best match needs at least this score, and a lead of AMBIGUITY_MARGIN over the runner-up.
MATCH_THRESHOLD = 0.75
AMBIGUITY_MARGIN = 0.05
CANDIDATE_FLOOR = 0.5
# Token similarity (rapidfuzz ratio, 0-100) for a misspelt word to count as the word.
TOKEN_CUTOFF = 85.0
DOMAIN_CUTOFF = 90.0  # an email domain that spells a company name (by_domain)
# Strength of each kind of reference inside a longer message (find_in).
FULL_NAME, CONTACT, CODE, PART_OF_NAME, ONE_WORD = 1.0, 0.95, 0.95, 0.9, 0.85
FIND_THRESHOLD = 0.8
# A first name alone ("Maria") is a hint, never enough for a match on its own.
FIRST_NAME_ONLY = 0.6

# Articles and conjunctions in the company names' languages; dropped from names and queries.
STOP_WORDS = frozenset(
    "the a an and of la le les l el los las die der das du de d del des do da dos et y e und "
    "och en".split()
)
# Legal forms, written with or without dots ("S.A.", "SpA", "Ltda.").
_LEGAL_FORMS = re.compile(
    r"\b(?:s\.?\s?p\.?\s?a|s\.?\s?a\.?\s?s|s\.?\s?a|s\.?\s?r\.?\s?l|gmbh|ltda|ltd|inc|corp|"
    r"co|hb|ab|ag|kg|llc|plc|bv|nv|oy)\b\.?"
)
# Trade words shared by many names: a run made only of these names nobody ("all night").
GENERIC_WORDS = frozenset(
    """
    restaurant restaurante market markets marktstand store import imports importadora
    delikatessen delicatessen delicateses gourmet specialites comidas grocery grocers
    supermarkt supermercado hipermercados trading holdings food beverages wine cellars
    bistro cozinha cocina provisioners all night beer ale cheese
    """.split()
)
# Everyday words that are fine inside a longer run ("Great Lakes", "Split Rail") but name
# no customer on their own ("a quick order", "the old one").
COMMON_WORDS = GENERIC_WORDS | frozenset(
    """
    great island canyon white seven big quick stop save lot old world north south around
    horn eastern connection lakes split rail head clover seas fils pere mehr para mar frutos
    tipica preparadas llevar helados vinhos alcools monde entier stock mineiro comercial
    centro carnes riuniti alimentari lonesome pine chinese lazy bottom dollar chop shop lets
    inter mere grande familia
    """.split()
)
_APOSTROPHES = "'’`´"
_ELISION = re.compile(rf"\b[dl][{_APOSTROPHES}](?=\w)")
_CODE = re.compile(r"\b[A-Z]{5}\b")


def fold(text: str) -> str:
    """Lower case, accents and apostrophes removed, punctuation turned into spaces."""
    text = _ELISION.sub("", fold_letters(text))
    text = re.sub(f"[{_APOSTROPHES}]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def name_tokens(text: str) -> tuple[str, ...]:
    """The words that carry a name: folded, without articles and legal forms."""
    folded = fold(_LEGAL_FORMS.sub(" ", fold_keep_dots(text)))
    return tuple(word for word in folded.split() if word not in STOP_WORDS)


def fold_keep_dots(text: str) -> str:
    """Like fold, but keeps dots so legal forms such as "S.p.A." can still be recognised."""
    return fold_letters(text)


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: str
    company_name: str
    contact_name: str | None
    city: str | None
    country: str | None
    score: float  # 0..1


@dataclass(frozen=True)
class CustomerLookup:
    query: str
    best: CustomerMatch | None
    candidates: list[CustomerMatch]
    ambiguous: bool


@dataclass(frozen=True)
class _Entry:
    """One customer with its folded names."""

    customer_id: str
    company_name: str
    contact_name: str | None
    city: str | None
    country: str | None
    name: tuple[str, ...]
    contact: tuple[str, ...]

    def match(self, score: float) -> CustomerMatch:
        return CustomerMatch(
            self.customer_id,
            self.company_name,
            self.contact_name,
            self.city,
            self.country,
            round(min(1.0, max(0.0, score)), 4),
        )


def _entry(row: Customer | Sequence[str | None]) -> _Entry:
    if isinstance(row, Customer):
        fields = (row.customer_id, row.company_name, row.contact_name, row.city, row.country)
    else:
        fields = (*tuple(row), None, None, None)[:5]
    customer_id, company, contact, city, country = fields
    if not customer_id or not company:
        raise ValueError(f"a customer needs an id and a company name, got {row!r}")
    return _Entry(
        customer_id=str(customer_id),
        company_name=str(company),
        contact_name=contact,
        city=city,
        country=country,
        name=name_tokens(str(company)),
        contact=tuple(fold(contact).split()) if contact else (),
    )


class CustomerIndex:
    """Every customer's names, folded once, ready for fast fuzzy lookups.

    `product_names` (the catalog) keeps product words from ever counting as a customer
    reference in `find_in`; `load` reads both tables.
    """

    def __init__(
        self,
        customers: Sequence[Customer] | Sequence[tuple],
        *,
        product_names: Iterable[str] = (),
    ) -> None:
        self._build([_entry(row) for row in customers], list(product_names))

    @classmethod
    def load(cls, *, session: Session) -> CustomerIndex:
        """Build the index from the customers and products tables."""
        customers = session.scalars(select(Customer).order_by(Customer.customer_id)).all()
        products = session.scalars(select(Product.name)).all()
        return cls(customers, product_names=products)

    def refresh(self, *, session: Session) -> None:
        """Rebuild from the database (after customers or products changed)."""
        fresh = CustomerIndex.load(session=session)
        self.__dict__.update(fresh.__dict__)

    def __len__(self) -> int:
        return len(self._entries)

    def _build(self, entries: list[_Entry], product_names: list[str]) -> None:
        self._entries = {entry.customer_id: entry for entry in entries}
        self._product_words = {word for name in product_names for word in fold(name).split()}
        self._names = [" ".join(entry.name) for entry in entries]
        self._contacts = [" ".join(entry.contact) for entry in entries]
        self._order = [entry.customer_id for entry in entries]
        self._vocabulary = _vocabulary(entries)
        # City and country names ("ship to Paris") never name a customer on their own.
        places = {
            word
            for e in entries
            for place in (e.city, e.country)
            if place
            for word in fold(place).split()
        }
        self._phrases = _phrases(entries, self._product_words | places)
        self._max_phrase = max((len(phrase) for phrase in self._phrases), default=1)
        self._lower_codes = _lowercase_codes(entries, self._product_words)

    # ---- lookup: the text is only the customer reference ----

    def lookup(self, text: str, k: int = 5) -> CustomerLookup:
        """Resolve a bare customer reference (name, short name, code or contact)."""
        code = text.strip().upper()
        if code in self._entries:
            match = self._entries[code].match(1.0)
            return CustomerLookup(text, match, [match], ambiguous=False)
        scores = self._score_reference(text)
        ranked = sorted(
            (self._entries[cid].match(score) for cid, score in scores.items()),
            key=lambda match: (-match.score, match.company_name),
        )
        candidates = [match for match in ranked if match.score >= CANDIDATE_FLOOR][: max(1, k)]
        return _decide(text, candidates)

    def _score_reference(self, text: str) -> dict[str, float]:
        tokens = name_tokens(text)
        query = " ".join(tokens)
        scores: dict[str, float] = defaultdict(float)
        if not query:
            return scores
        for pool, weight in ((self._names, 1.0), (self._contacts, 0.97)):
            for _, similarity, index in process.extract(
                query, pool, scorer=fuzz.ratio, score_cutoff=60, limit=None
            ):
                cid = self._order[index]
                scores[cid] = max(scores[cid], weight * similarity / 100)
        for cid, score in self._partial_scores(tokens).items():
            scores[cid] = max(scores[cid], score)
        return scores

    def _partial_scores(self, tokens: tuple[str, ...]) -> dict[str, float]:
        """Customers whose name (or contact) holds every word of the reference."""
        hits = [self._token_hits(token) for token in tokens]
        if not hits or not all(hits):
            return {}
        common = set.intersection(*(set(hit) for hit in hits))
        return {cid: self._partial_score(cid, hits) for cid in common}

    def _token_hits(self, token: str) -> dict[str, list[tuple[str, float]]]:
        """customer_id -> [(name word, similarity 0..1)] for the words `token` may be."""
        found: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for word, similarity in self._similar_words(token):
            for cid in self._vocabulary[word]:
                found[cid].append((word, similarity))
        return found

    def _similar_words(self, token: str) -> list[tuple[str, float]]:
        words: dict[str, float] = {}
        if token in self._vocabulary:
            words[token] = 1.0
        if len(token) >= 4:
            for word, similarity, _ in process.extract(
                token,
                self._vocabulary.keys(),
                scorer=fuzz.ratio,
                score_cutoff=TOKEN_CUTOFF,
                limit=None,
            ):
                words.setdefault(word, similarity / 100)
            for word in self._vocabulary:
                if word.startswith(token) and word != token:
                    words.setdefault(word, 0.9)  # "deli" for "delicatessen"
        return list(words.items())

    def _partial_score(self, cid: str, hits: list[dict[str, list[tuple[str, float]]]]) -> float:
        entry = self._entries[cid]
        by_name = _cover(entry.name, cid, hits)
        by_contact = _cover(entry.contact, cid, hits) * 0.97
        if by_contact and entry.contact[-1] not in {w for hit in hits for w, _ in hit[cid]}:
            by_contact = FIRST_NAME_ONLY  # "Maria": a first name alone is only a hint
        return max(by_name, by_contact)

    def by_domain(self, domain: str) -> CustomerMatch | None:
        """The customer an email domain spells ("ernsthandel.at", "folk-och-fa.se"), if one
        clearly does: the domain's name part against each company name without spaces."""
        stem = re.sub(r"[^a-z0-9]", "", fold(domain).split("@")[-1].rsplit(".", 1)[0])
        if len(stem) < 5:
            return None
        best: tuple[float, str] | None = None
        for cid, entry in self._entries.items():
            joined = "".join(entry.name)
            score = fuzz.ratio(stem, joined) if joined else 0.0
            if stem in joined and len(stem) >= 0.6 * len(joined):
                score = max(score, 95.0)
            if score >= DOMAIN_CUTOFF and (best is None or score > best[0]):
                best = (score, cid)
        return self._entries[best[1]].match(best[0] / 100) if best else None

    # ---- find_in: a customer named anywhere in a longer message ----

    def find_in(self, message: str) -> CustomerMatch | None:
        """The customer a whole order message names, or None when none is named with confidence."""
        scores = self._phrase_scores(message)
        for code in _CODE.findall(message):
            if code in self._entries:
                scores[code] = max(scores.get(code, 0.0), CODE)
        if not scores:
            return None
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        cid, score = ranked[0]
        if score < FIND_THRESHOLD:
            return None
        if len(ranked) > 1 and ranked[1][1] >= min(FIND_THRESHOLD, score - AMBIGUITY_MARGIN):
            return None  # two customers named, or no clear winner: the agent asks
        return self._entries[cid].match(score)

    def _phrase_scores(self, message: str) -> dict[str, float]:
        words = name_tokens(message)
        spelled = [self._correct(word) for word in words]
        scores: dict[str, float] = {}
        for start in range(len(spelled)):
            for size in range(1, self._max_phrase + 1):
                window = spelled[start : start + size]
                if len(window) < size:
                    break
                phrase = tuple(word for word, _ in window)
                similarity = min(s for _, s in window)
                for cid, strength in self._phrases.get(phrase, ()):
                    scores[cid] = max(scores.get(cid, 0.0), strength * similarity)
        for word in words:
            cid = self._lower_codes.get(word)
            if cid is not None:
                scores[cid] = max(scores.get(cid, 0.0), ONE_WORD)
        return scores

    def _correct(self, word: str) -> tuple[str, float]:
        """A misspelt name word -> (the name word, similarity); other words unchanged."""
        if word in self._vocabulary or word in self._product_words or len(word) < 4:
            return word, 1.0
        found = process.extractOne(
            word, self._vocabulary.keys(), scorer=fuzz.ratio, score_cutoff=TOKEN_CUTOFF
        )
        return (found[0], found[1] / 100) if found else (word, 1.0)


def _cover(words: tuple[str, ...], cid: str, hits: list[dict[str, list]]) -> float:
    """How well the reference's words (`hits`) cover `words`, 0 when one of them is missing."""
    matched = [max((s for w, s in hit[cid] if w in words), default=0.0) for hit in hits]
    if not words or min(matched) == 0.0:
        return 0.0
    used = {w for hit in hits for w, _ in hit[cid] if w in words}
    coverage = sum(len(w) for w in used) / sum(len(w) for w in words)
    return 0.75 + 0.25 * min(1.0, coverage) * sum(matched) / len(matched)


def _decide(query: str, candidates: list[CustomerMatch]) -> CustomerLookup:
    if not candidates:
        return CustomerLookup(query, None, [], ambiguous=False)
    top = candidates[0]
    ambiguous = len(candidates) > 1 and candidates[1].score > top.score - AMBIGUITY_MARGIN
    confident = top.score >= MATCH_THRESHOLD and not ambiguous
    return CustomerLookup(query, top if confident else None, candidates, ambiguous)


def _vocabulary(entries: Iterable[_Entry]) -> dict[str, set[str]]:
    """Every word of a company or contact name -> the customers whose names hold it."""
    vocabulary: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        for word in (*entry.name, *entry.contact):
            vocabulary[word].add(entry.customer_id)
    return dict(vocabulary)


def _phrases(entries: list[_Entry], excluded: set[str]) -> dict[tuple[str, ...], list]:
    """Phrases that name one customer inside a message -> [(customer_id, strength)].

    The full name and the contact's full name always count; a run of two or more words of
    the name counts when no other customer's names contain it; a single word only when it
    is also distinctive: not common, not a place and not a word of any product name.
    """
    phrases: dict[tuple[str, ...], list[tuple[str, float]]] = defaultdict(list)
    for entry in entries:
        for phrase, strength in _candidate_phrases(entry, excluded):
            if strength < FULL_NAME and _owners(phrase, entries) != {entry.customer_id}:
                continue
            phrases[phrase].append((entry.customer_id, strength))
    return dict(phrases)


def _candidate_phrases(entry: _Entry, excluded: set[str]) -> list[tuple[tuple, float]]:
    name = entry.name
    found: list[tuple[tuple, float]] = [(name, FULL_NAME)]
    if len(entry.contact) >= 2:
        found.append((entry.contact, CONTACT))
    for size in range(2, len(name)):
        for start in range(len(name) - size + 1):
            run = name[start : start + size]
            if not set(run) <= GENERIC_WORDS:
                found.append((run, PART_OF_NAME))
    if len(name) > 1:
        found += [
            ((word,), ONE_WORD)
            for word in name
            if len(word) >= 4 and word not in COMMON_WORDS and word not in excluded
        ]
    return found


def _owners(phrase: tuple[str, ...], entries: Iterable[_Entry]) -> set[str]:
    return {
        entry.customer_id
        for entry in entries
        if _contains(entry.name, phrase) or _contains(entry.contact, phrase)
    }


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def _lowercase_codes(entries: list[_Entry], product_words: set[str]) -> dict[str, str]:
    """Codes that may also be written in lower case ("bonap"): those that are no word's start.

    "anton" starts "Chef Anton's" and "frank" starts "Frankfurter", so those two count
    only in capitals (ANTON, FRANK).
    """
    words = product_words | {word for entry in entries for word in entry.name}
    codes = {entry.customer_id.lower(): entry.customer_id for entry in entries}
    return {
        code: cid
        for code, cid in codes.items()
        if not any(word.startswith(code) for word in words) and code not in STOP_WORDS
    }


def find_customer(*, session: Session, name_or_code: str) -> CustomerLookup:
    """Look a customer up by name, short name, code or contact (builds a fresh index)."""
    return CustomerIndex.load(session=session).lookup(name_or_code)
