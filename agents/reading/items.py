"""Items: which quantity belongs to which product phrase, inside one segment of a message.

A segment ("Gnocchi di nonna Alice x8 and Outback Lager x24", "20 unidades de queso
manchego y diez cajas de cerveza") is cut at its quantities (`agents.reading.numbers`).
Each quantity says which way it binds: a prefix form ("12 tofu", "diez cajas de") to the
words after it, a postfix form ("tofu x12", "tofu - 12", "tofu (qty 12)") to the words
before it, a bare number to whichever side the segment's shape says. The words a quantity
binds to, less connectors ("and", "und", "y", "et", "e"), order cues ("wants",
"möchte") and courtesy, are the product phrase. Words no quantity claims are returned as
leftovers, so the caller can search them or name them: nothing is dropped here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from agents.reading.lexicon import words
from agents.reading.numbers import QuantitySpan, find_quantities
from agents.reading.text import fold

Action = Literal["set", "add", "remove"]
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&", re.UNICODE)


@dataclass
class Ask:
    """One thing a message asks for: a product phrase and its quantity (None: not given).

    `source` is the segment as written, for naming it in a reply; `refused` says why a
    quantity that was written cannot be used ("not a whole number", "negative").
    """

    phrase: str
    quantity: int | None
    raw_quantity: str | None = None
    action: Action = "set"
    factor: float | None = None  # "double the tarte": the new quantity is current × factor
    source: str = ""
    unit: str | None = None
    refused: str | None = None
    reference: str | None = None  # "it", "that", "first", "last": a line of the draft
    replaces: str | None = None  # "swap the biscuits for X": X takes the biscuits' quantity
    same_quantity: bool = False  # "the same amount of X": the quantity of the line just named


@dataclass
class SegmentItems:
    """What one segment holds: its asks, and the runs of words no quantity claimed."""

    asks: list[Ask] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    customer_phrase: str | None = None  # "Acme Widgets" of "Acme Widgets wants 5 tofu"


@functools.cache
def _phrases(kind: str) -> tuple[str, ...]:
    """Folded phrases of a lexicon kind, longest first (so "as well as" beats "as")."""
    return tuple(sorted(words(kind), key=len, reverse=True))


@functools.cache
def _edge_phrases(kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for kind in kinds for p in _phrases(kind) if p)


def _strip_edges(text: str, kinds: tuple[str, ...]) -> str:
    """Remove words of `kinds` from both ends of `text` (repeatedly), keeping the middle."""
    text = text.strip(_EDGE_CHARS)
    phrases = _edge_phrases(kinds)
    changed = True
    while changed and text:
        changed = False
        folded = fold(text)
        for phrase in phrases:
            if not phrase:
                continue
            if folded.startswith(phrase) and _boundary(folded, len(phrase)):
                text = text[len(phrase) :].strip(_EDGE_CHARS)
                changed = True
                break
            if folded.endswith(phrase) and _boundary(folded, len(folded) - len(phrase) - 1):
                text = text[: len(text) - len(phrase)].strip(_EDGE_CHARS)
                changed = True
                break
    return text


def _boundary(folded: str, index: int) -> bool:
    """True when `index` is outside the text or not a letter/digit (a word boundary)."""
    return index < 0 or index >= len(folded) or not folded[index].isalnum()


# Punctuation that never starts or ends a product name ("12 // tofu", "tofu =").
_EDGE_CHARS = " \t,;:.!?-–—()[]\"'/=*•_~<>"
WEAK_MARKERS = frozenset({":", "-", "–", "—", "‐"})
EDGE_WORDS = ("correction", "connector", "order_cue", "courtesy", "filler", "of", "unit")


def tidy(phrase: str) -> str:
    """A product phrase without connectors, cues, courtesy or articles at its ends."""
    return _strip_edges(phrase, EDGE_WORDS)


def has_words(text: str) -> bool:
    """True when `text` has a letter that is not part of a lexicon edge word."""
    return bool(re.search(r"[^\W\d_]", tidy(text)))


_TERM = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


@dataclass(frozen=True)
class NameTerms:
    """Numbers that are part of product names, as the catalog spells them: "Xerox 1967",
    "Lumia 925", "Galaxy Note 3", "USB 2.0". Each is a (word, number) or (number, word)
    pair of neighbouring words in a name, folded."""

    pairs: frozenset[tuple[str, str]] = frozenset()
    # (word before, word after) a comma inside a name: "Tennsco Lockers, Gray".
    commas: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def from_names(cls, names: list[str]) -> NameTerms:
        pairs: set[tuple[str, str]] = set()
        commas: set[tuple[str, str]] = set()
        for name in names:
            tokens = _TERM.findall(fold(name))
            for left, right in zip(tokens, tokens[1:], strict=False):
                if _numeric(left) != _numeric(right):
                    pairs.add((left, right))
            for before, after in re.findall(r"([^\W_]+)\s*,\s*([^\W_]+)", fold(name)):
                commas.add((before, after))
        return cls(frozenset(pairs), frozenset(commas))

    def joins(self, before: str, after: str) -> bool:
        """True when a comma between these two texts is one inside a product name."""
        left, right = _TERM.findall(fold(before))[-1:], _TERM.findall(fold(after))[:1]
        return bool(left and right) and (left[0], right[0]) in self.commas

    def spells(self, text: str) -> bool:
        """True when `text` holds a number written the way a product name writes it."""
        tokens = _TERM.findall(fold(text))
        return any(pair in self.pairs for pair in zip(tokens, tokens[1:], strict=False))

    def names_number(self, segment: str, span: QuantitySpan) -> bool:
        """True when the span's number is written as part of a product name here."""
        number = _TERM.findall(fold(span.raw))
        digits = [t for t in number if _numeric(t)]
        if len(digits) != 1 or not self.pairs:
            return False
        before = _TERM.findall(fold(segment[: span.start]))
        after = _TERM.findall(fold(segment[span.end :]))
        return (bool(before) and (before[-1], digits[0]) in self.pairs) or (
            bool(after) and (digits[0], after[0]) in self.pairs
        )


# Number words that product names use as words ("HTC One Mini", "Two-Pocket Folder").
_NAME_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten".split())


def _numeric(token: str) -> bool:
    return token[0].isdigit() or token in _NAME_NUMBER_WORDS


def read_items(segment: str, names: NameTerms | None = None) -> SegmentItems:
    """The asks of one segment, each quantity bound to its product phrase.

    `names`: numbers the catalog writes inside product names; such a number ("10 Xerox
    1967") stays part of the phrase, as long as another quantity is left.
    """
    spans = find_quantities(segment)
    if names is not None and len(spans) > 1:
        inside = [span for span in spans if names.names_number(segment, span)]
        if len(inside) < len(spans):
            spans = [span for span in spans if span not in inside]
    elif names is not None and len(spans) == 1 and spans[0].refused:
        spans = [span for span in spans if not names.names_number(segment, span)]
    spans = sorted(spans + _huge_numbers(segment, spans), key=lambda span: span.start)
    restated = _restatements(segment, spans)
    for span in restated:  # blanked, so "(2)" does not stay in the product phrase
        end = span.end + (segment[span.end : span.end + 1] == ")")
        segment = segment[: span.start] + " " * (end - span.start) + segment[end:]
    spans = [span for span in spans if span not in restated]
    for span in [span for span in spans if _pronoun_one(segment, span)]:
        segment = segment[: span.start] + " " * (span.end - span.start) + segment[span.end :]
        spans.remove(span)
    if not spans:
        phrase = tidy(segment)
        return SegmentItems(leftovers=[phrase] if has_words(phrase) else [])
    chunks = _chunks(segment, spans)
    sides = _sides(spans, chunks)
    out = SegmentItems()
    claimed: set[int] = set()
    for index, (span, side) in enumerate(zip(spans, sides, strict=True)):
        chunk_index = index if side == "left" else index + 1
        phrase = chunks[chunk_index]
        if chunk_index in claimed:
            phrase = ""
        claimed.add(chunk_index)
        phrase = _split_cue(phrase, out) if chunk_index == 0 else phrase
        out.asks.extend(_asks(span, phrase, segment))
    for chunk_index, chunk in enumerate(chunks):
        if chunk_index in claimed:
            continue
        rest = _split_cue(chunk, out) if chunk_index == 0 else chunk
        who = _FOR.match(rest.strip(" ,;:.-"))
        if who and who["who"][:1].isupper() and out.customer_phrase is None:
            out.customer_phrase = who["who"].strip()  # "Tofu x5 for Globex Corporation"
        elif has_words(rest):
            out.leftovers.append(tidy(rest))
    return out


_FOR = re.compile(r"^(?:for|fur|für|para|pour|per|pra)\s+(?P<who>\S.*)$", re.IGNORECASE)


_HUGE = re.compile(r"(?<![\w.,/+-])(?:\d{7,}|\d+(?:\.\d+)?e\d+)(?![\w.,/-])", re.IGNORECASE)


def _huge_numbers(segment: str, spans: list[QuantitySpan]) -> list[QuantitySpan]:
    """ "wants 99999999999999999999 tofu", "1e12 tofu": too big for a phone number in an
    order line once the noise is gone; read as the quantity it is meant as (which the
    caller refuses as over the limit), never dropped."""
    found = []
    for match in _HUGE.finditer(segment):
        if any(span.start <= match.start() < span.end for span in spans):
            continue
        value = min(int(float(match.group())), 10**18)
        span = QuantitySpan(match.start(), match.end(), value, match.group(), "either", "digits")
        found.append(span)
    return found


def _restatements(segment: str, spans: list[QuantitySpan]) -> list[QuantitySpan]:
    """ "two (2) Konbu", "2 (two) Konbu": the second writing of one quantity."""
    found: list[QuantitySpan] = []
    for previous, span in zip(spans, spans[1:], strict=False):
        between = segment[previous.end : span.start]
        if span.value is not None and span.value == previous.value and not between.strip(" ("):
            found.append(span)
    return found


def _pronoun_one(segment: str, span: QuantitySpan) -> bool:
    """ "the Outback one", "the blue ones": "one" after "the <words>" is no quantity."""
    if fold(span.raw).strip() not in ("one", "ones") or segment[span.end :].strip(" .!?"):
        return False
    before = fold(segment[: span.start]).split()
    return len(before) >= 2 and before[0] in ("the", "that", "this")


def _chunks(segment: str, spans: list[QuantitySpan]) -> list[str]:
    """The text before, between and after the quantity spans: len(spans) + 1 chunks."""
    bounds = [0, *[x for span in spans for x in (span.start, span.end)], len(segment)]
    return [segment[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


def _sides(spans: list[QuantitySpan], chunks: list[str]) -> list[str]:
    """For each quantity, "left" or "right": the side whose words are its product."""
    words_at = [has_words(chunk) for chunk in chunks]
    sides: list[str] = []
    for index, span in enumerate(spans):
        before, after = words_at[index], words_at[index + 1]
        weak = span.marker in WEAK_MARKERS and before and after
        # "called: 8 konbu", "again - 24 biscuits": a colon or dash with words on both
        # sides binds the way the segment is shaped, as a bare number does.
        if span.binds in ("left", "right") and not weak:
            side = span.binds
            if side == "left" and not before and after:
                side = "right"  # "x12 tofu": a postfix form with nothing before it
            if side == "right" and not after and before:
                side = "left"  # "tofu 12 Stück": a prefix form at the end
        elif not before or not after:
            side = "right" if after else "left"
        elif not words_at[-1]:
            side = "left"  # "tofu 12 ikura 3": the segment ends with a quantity
        else:
            side = "right"  # "15 tofu 9 chowder", "called: 8 konbu"
        sides.append(side)
    _settle_conflicts(spans, sides, words_at)
    return sides


def _settle_conflicts(spans: list[QuantitySpan], sides: list[str], words_at: list[bool]) -> None:
    """Two quantities claiming one chunk: a bare number yields to the side with words."""
    for index in range(len(spans) - 1):
        if sides[index] == "right" and sides[index + 1] == "left":
            # "12 tofu x3"? rare; a bare number next gives way.
            if spans[index + 1].binds == "either" and words_at[index + 2]:
                sides[index + 1] = "right"
            elif spans[index].binds == "either" and words_at[index]:
                sides[index] = "left"


def _split_cue(chunk: str, out: SegmentItems) -> str:
    """ "Acme Widgets wants <...>": keep what follows the last order cue; note who before."""
    folded = fold(chunk)
    best: tuple[int, int] | None = None
    for cue in _phrases("order_cue") + _phrases("add"):
        for match in re.finditer(rf"(?<![\w]){re.escape(cue)}(?![\w])", folded):
            if best is None or match.end() > best[1]:
                best = (match.start(), match.end())
    if best is None:
        return chunk
    before = tidy(chunk[: best[0]])
    if before and has_words(before) and out.customer_phrase is None:
        out.customer_phrase = before
    return chunk[best[1] :]


_EACH = re.compile(r"^(?:each|je|cada|chacun|chaque|ciascuno|di ciascuno)\s+(?:of\s+|de\s+|di\s+)?")


def _asks(span: QuantitySpan, phrase: str, segment: str) -> list[Ask]:
    """One ask per product the quantity applies to ("a dozen each of A and B": two)."""
    raw = phrase.strip(" ,;:.")
    each = _EACH.match(fold(raw))
    text = tidy(raw[each.end() :] if each else raw)
    parts = [tidy(p) for p in split_at_connectors(text)] if each else [text]
    return [
        Ask(
            phrase=part,
            quantity=span.value if span.refused is None else None,
            raw_quantity=span.raw,
            source=segment.strip(),
            unit=span.unit,
            refused=span.refused,
        )
        for part in parts
        if part or span.value is not None
    ]


@functools.cache
def connector_pattern() -> re.Pattern[str]:
    """A connector between words ("and", "und", "y", "et", "&"), from the lexicon, once."""
    connectors = "|".join(re.escape(c) for c in _phrases("connector") if c.strip())
    return re.compile(rf"\s+(?:{connectors})\s+", re.IGNORECASE)


def split_at_connectors(text: str) -> list[str]:
    """ "Geitost and Flotemysost", "A, B y C": the parts between commas and connectors."""
    return [
        part
        for piece in re.split(r"\s*,\s*", text)
        for part in connector_pattern().split(piece)
        if part and part.strip()
    ]
