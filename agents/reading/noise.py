"""Ignorable text in a pasted email or chat message: what must never become an order line.

`classify_lines()` labels every line of a cleaned message as content, greeting, closing,
signature, email header (with its fields: sender name and address, subject, PO number...),
quoted reply or blank. `find_noise()` finds, inside one line, the numbers that are not
quantities of goods (phones, dates, times, PO / order / reference numbers, e-mail addresses,
URLs, postal addresses, money, percentages, VAT ids, IBANs), each span covering its label and
its number so that a caller can cut it out. `strip_courtesy()` takes greetings and thanks off
either end of a content line. The words (greetings, closings, header labels, months, street
words...) are data in the lexicon under `noise_*` kinds; only the shapes of numbers are
regular expressions here. Nothing here knows the catalog, so the signature rule is
conservative: after a closing, a line is a signature only when it carries nothing order-like
(no digit outside a noise span, no order cue, number or unit word, not long prose); "Thanks!
Also 5 konbu please" and a "PS: add 3 tofu" after the name stay content.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.reading.lexicon import words
from agents.reading.text import fold

LineKind = Literal["content", "greeting", "closing", "signature", "header", "quote", "blank"]
NoiseKind = Literal[
    "phone",
    "date",
    "time",
    "po_number",
    "reference",
    "order_number",
    "email",
    "url",
    "postal_address",
    "money",
    "percent",
    "vat_id",
    "iban",
]
Courtesy = Literal["greeting", "thanks", "closing"]


@dataclass(frozen=True)
class NoiseSpan:
    """`segment[start:end]` is ignorable; `value` is its number or address without the label."""

    start: int
    end: int
    kind: NoiseKind
    value: str


@dataclass(frozen=True)
class LineInfo:
    """One line of a message: `message[start:end] == text`; header lines carry `fields`."""

    index: int
    text: str
    start: int
    end: int
    kind: LineKind
    fields: dict[str, str] = field(default_factory=dict)


# --- text shape: accents off, case kept, one character per character ---------------------


class _ShapeTable(dict[int, str]):
    def __missing__(self, code: int) -> str:
        ch = chr(code)
        out = fold(ch)
        if len(out) == 1 and ch.isupper() and len(out.upper()) == 1:
            out = out.upper()
        self[code] = out if len(out) == 1 else ch
        return self[code]


_SHAPE = _ShapeTable()
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_BOUNDARY = frozenset(",:;!?.()[]–—-")


def _shape(text: str) -> str:
    """`text` with accents removed and case kept, aligned character for character."""
    return text if text.isascii() else text.translate(_SHAPE)


def shape(text: str) -> str:
    """`text` with accents removed and case kept, aligned character for character: what
    the patterns built by `alternation` match (offsets are the original text's)."""
    return _shape(text)


_fold_word = functools.lru_cache(maxsize=16384)(fold)


@dataclass(frozen=True)
class _Tokens:
    """A segment's words (folded) with their offsets and capitalisation."""

    text: str
    spans: tuple[tuple[int, int], ...]
    words: tuple[str, ...]
    capital: tuple[bool, ...]

    @classmethod
    def of(cls, text: str) -> _Tokens:
        shape = _shape(text)
        found = list(_TOKEN.finditer(shape))
        return cls(
            text,
            tuple(m.span() for m in found),
            tuple(_fold_word(m.group()) for m in found),
            tuple(m.group()[0].isupper() for m in found),
        )

    def __len__(self) -> int:
        return len(self.words)

    def gap(self, k: int) -> str:
        """The text before word k (after the last word when k == len)."""
        start = self.spans[k - 1][1] if k else 0
        end = self.spans[k][0] if k < len(self) else len(self.text)
        return self.text[start:end]

    def boundary(self, k: int) -> bool:
        """Punctuation (or the end) between word k-1 and word k."""
        return k >= len(self) or any(ch in _BOUNDARY for ch in self.gap(k))

    def has_digit(self, lo: int, hi: int) -> bool:
        return any(ch.isdigit() for word in self.words[lo:hi] for ch in word)


@functools.lru_cache(maxsize=1024)
def _tokens(text: str) -> _Tokens:
    return _Tokens.of(text)


class _Phrases:
    """Folded phrases as word tuples, matched longest first at or ending at a position."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.first: dict[str, list[tuple[str, ...]]] = {}
        self.last: dict[str, list[tuple[str, ...]]] = {}
        for entry in entries:
            toks = tuple(_TOKEN.findall(entry))
            if toks:
                self.first.setdefault(toks[0], []).append(toks)
                self.last.setdefault(toks[-1], []).append(toks)
        for table in (self.first, self.last):
            for options in table.values():
                options.sort(key=len, reverse=True)

    def at(self, seq: Sequence[str], i: int) -> int:
        """Length of the longest phrase starting at seq[i] (0: none)."""
        for toks in self.first.get(seq[i], ()) if i < len(seq) else ():
            if tuple(seq[i : i + len(toks)]) == toks:
                return len(toks)
        return 0

    def ending(self, seq: Sequence[str], j: int, lo: int = 0) -> int:
        """Length of the longest phrase ending just before seq[j], starting at lo or later."""
        for toks in self.last.get(seq[j - 1], ()) if j > lo else ():
            if j - len(toks) >= lo and tuple(seq[j - len(toks) : j]) == toks:
                return len(toks)
        return 0

    def anywhere(self, seq: Sequence[str]) -> bool:
        return any(self.at(seq, i) for i in range(len(seq)))

    def whole(self, seq: Sequence[str]) -> bool:
        return bool(seq) and self.at(seq, 0) == len(seq)


@dataclass(frozen=True)
class _Vocab:
    greeting: _Phrases
    wellwish: _Phrases
    thanks: _Phrases
    closing: _Phrases
    thanks_for: frozenset[str]
    joiner: frozenset[str]
    addressee: frozenset[str]
    honorific: frozenset[str]
    device: _Phrases
    original: _Phrases
    forwarded: _Phrases
    quote_verb: _Phrases
    disclaimer: _Phrases
    order_cue: _Phrases
    header: dict[str, str]  # folded label -> "from" / "to" / "cc" / "date" / "subject" / "other"


@functools.cache
def _vocab() -> _Vocab:
    header = {
        label: group
        for group in ("other", "cc", "date", "subject", "to", "from")
        for label in words(f"noise_header_{group}")
    }
    return _Vocab(
        greeting=_Phrases(words("noise_greeting")),
        wellwish=_Phrases(words("noise_wellwish")),
        thanks=_Phrases(words("noise_thanks")),
        closing=_Phrases(words("noise_closing")),
        thanks_for=words("noise_thanks_for"),
        joiner=words("noise_joiner"),
        addressee=words("noise_addressee") | words("noise_honorific"),
        honorific=words("noise_honorific"),
        device=_Phrases(words("noise_device")),
        original=_Phrases(words("noise_original_message")),
        forwarded=_Phrases(words("noise_forwarded")),
        quote_verb=_Phrases(words("noise_quote_verb")),
        disclaimer=_Phrases(words("noise_disclaimer")),
        order_cue=_Phrases(words("noise_order_cue") | words("unit")),
        header=header,
    )


# --- numbers that are not quantities ------------------------------------------------------


_DIGRAPHS = (("ss", "ß"), ("ae", "æ"), ("oe", "œ"))


def _alt(entries: Iterable[str]) -> str:
    """A regex alternation of folded words, longest first, each ending at a word edge."""
    parts = []
    for entry in sorted(set(entries), key=len, reverse=True):
        body = r"\s*".join(re.escape(piece) for piece in entry.split())
        for plain, letter in _DIGRAPHS:  # fold() spells "ß" "ss"; the shaped text keeps "ß"
            body = body.replace(plain, f"(?:{plain}|{letter})")
        parts.append(body + (r"(?!\w)" if entry[-1].isalnum() else ""))
    return "(?:" + "|".join(parts) + ")" if parts else "(?!x)x"


def alternation(entries: Iterable[str]) -> str:
    """A regex alternation of folded words and phrases, longest first, each ending at a
    word edge, for `shape`d text (so "ß" matches "ss")."""
    return _alt(entries)


def _lex(*kinds: str) -> str:
    return _alt(entry for kind in kinds for entry in words(kind))


_ID = r"(?=[\w/.-]*\d)[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*"
_PHONE_BODY = r"\+?\(?\d[\d\s()./-]{4,}\d"
_AFTER_NUMBER_OK = re.compile(r"\s+[a-z][a-z]{2,}")


@dataclass(frozen=True)
class _Rule:
    """One shape of noise; it runs only on lines holding one of `needs` (words or marks)."""

    kind: NoiseKind
    pattern: re.Pattern[str]
    priority: int  # breaks ties between equally long spans: lower wins
    check: Callable[[re.Match[str], str], bool] | None = None
    needs: frozenset[str] = frozenset()  # folded words; empty: always run
    marks: tuple[str, ...] = ()  # or folded substrings ("€", "strasse")

    def applies(self, seen: frozenset[str], folded: str) -> bool:
        if not self.needs and not self.marks:
            return True
        return not self.needs.isdisjoint(seen) or any(mark in folded for mark in self.marks)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_ok(match: re.Match[str], _: str) -> bool:
    return 7 <= _digits(match.group("id")) <= 15


def _labelled_phone_ok(match: re.Match[str], _: str) -> bool:
    return 5 <= _digits(match.group("id")) <= 16


def _day_month(a: int, b: int) -> bool:
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= b <= 31 and 1 <= a <= 12)


def _date_ok(match: re.Match[str], _: str) -> bool:
    parts = [int(p) for p in re.findall(r"\d+", match.group())]
    if parts[0] > 31:  # 2026-12-15
        return 1 <= parts[1] <= 12 and 1 <= parts[2] <= 31
    return _day_month(parts[0], parts[1])


def _short_date_ok(match: re.Match[str], shape: str) -> bool:
    a, b = (p for p in re.findall(r"\d+", match.group()))
    return _day_month(int(a), int(b)) and max(len(a), len(b)) == 2


def _time_ok(match: re.Match[str], _: str) -> bool:
    parts = [int(p) for p in re.findall(r"\d+", match.group())]
    return parts[0] <= 24 and (len(parts) < 2 or parts[1] < 60)


def _weak_ok(match: re.Match[str], shape: str) -> bool:
    """A reference after a bare "order" / "invoice": long, or shaped, and not a quantity."""
    ident = match.group("id")
    if _digits(ident) < 4:
        return False
    rest = shape[match.end() :]
    return bool(re.search(r"[A-Za-z/-]", ident)) or not re.match(r"\s*[^\W\d_]", rest)


def _street_ok(match: re.Match[str], shape: str) -> bool:
    """Not "Via UPS 2 boxes": an address is not followed by lower-case words."""
    return not _AFTER_NUMBER_OK.match(shape, match.end())


def _capital_street_ok(match: re.Match[str], shape: str) -> bool:
    first = shape[match.start()]
    return (first.isupper() or not first.isalpha()) and _street_ok(match, shape)


def _city_words(text: str) -> list[str]:
    return [fold(w) for w in _TOKEN.findall(text)]


@functools.cache
def _cities() -> _Phrases:
    return _Phrases(words("noise_city"))


def _known_city(city: str) -> bool:
    seq = _city_words(city)
    return any(_cities().at(seq, i) for i in range(min(2, len(seq))))


def _postal5_ok(match: re.Match[str], shape: str) -> bool:
    code, city = match.group("code"), match.group("city")
    first = _city_words(city)[:1]
    if first and (first[0] in words("unit") or _vocab().order_cue.at(first, 0)):
        return False
    return code.startswith("0") or int(code) % 500 != 0 or _known_city(city)


def _postal4_ok(match: re.Match[str], shape: str) -> bool:
    return bool(match.group("cc")) or _known_city(match.group("city"))


def _us_zip_ok(match: re.Match[str], _: str) -> bool:
    """ "Portland OR 97219", but not "Ipoh Coffee, PO 10250": PO is a label, not a state."""
    return fold(match.group("state")) not in words("noise_label_po_number")


def _iban_ok(match: re.Match[str], _: str) -> bool:
    return 15 <= len(re.sub(r"\s", "", match.group("id"))) <= 34


def _vat_ok(match: re.Match[str], _: str) -> bool:
    return _digits(match.group("id")) >= 5


def _words_of(*kinds: str) -> frozenset[str]:
    """Every folded word in the entries of `kinds`: a line must hold one for the rule to run."""
    return frozenset(
        tok for kind in kinds for entry in words(kind) for tok in _TOKEN.findall(entry)
    )


def _rx(pattern: str, ignore: bool = True) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore else 0)


@functools.cache
def _rules() -> tuple[_Rule, ...]:
    return tuple(
        sorted(
            [*_label_rules(), *_amount_rules(), *_date_rules(), *_address_rules(), *_phone_rules()],
            key=lambda rule: rule.priority,
        )
    )


def _label_rules() -> list[_Rule]:
    marker = _lex("noise_marker")

    verb = _lex("noise_label_verb")

    def labelled(kind: NoiseKind, key: str) -> _Rule:
        # "PO 4471-B", "PO number: 4711-A", "the PO is 7781", "Bestellnummer lautet 4711"
        pattern = (
            rf"(?<!\w){_lex(key)}(?:\s?[.:#])?(?:\s?{marker})?(?:\s{verb})?\s?[:#.]?\s?"
            rf"(?P<id>{_ID})"
        )
        return _Rule(kind, _rx(pattern), 4, needs=_words_of(key))

    rules = [
        _Rule("email", _rx(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), 0, marks=("@",)),
        _Rule(
            "url",
            _rx(r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]]"),
            1,
            marks=("www.", "http"),
        ),
        _Rule(
            "iban",
            _rx(
                r"(?<![A-Za-z0-9])(?:(?i:iban)\s?:?\s?)?(?P<id>[A-Z]{2}\d{2}"
                r"(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?)(?![A-Za-z0-9])",
                ignore=False,
            ),
            2,
            _iban_ok,
        ),
        _Rule(
            "iban",
            _rx(
                rf"(?<!\w){_lex('noise_label_bank')}(?:\s?{marker})?\s?[.:]?\s?"
                r"(?P<id>[A-Z0-9]{0,4}\d[\d -]{4,30}\d)"
            ),
            2,
            _vat_ok,
            needs=_words_of("noise_label_bank"),
        ),
        _Rule(
            "vat_id",
            _rx(
                rf"(?<!\w){_lex('noise_label_vat')}(?:\s?{marker})?\s?[.:#]?\s?"
                r"(?P<id>[A-Z]{0,3}[\s-]?\d[\d\s.-]{3,15}\d[A-Z]?)(?![\w])"
            ),
            3,
            _vat_ok,
            needs=_words_of("noise_label_vat"),
        ),
        _Rule(
            "vat_id",
            _rx(
                r"(?<![A-Za-z0-9])(?P<id>ATU\d{8}|DE\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|"
                r"FR[A-Z0-9]{2}\d{9}|IT\d{11}|PT\d{9}|BE0?\d{9,10}|NL\d{9}B\d{2}|"
                r"GB\d{9}(?:\d{3})?|CHE-?\d{3}\.?\d{3}\.?\d{3})(?![A-Za-z0-9])",
                ignore=False,
            ),
            3,
        ),
        labelled("po_number", "noise_label_po_number"),
        labelled("order_number", "noise_label_order_number"),
        labelled("reference", "noise_label_reference"),
    ]
    for kind, weak in (
        ("order_number", "noise_label_order_number_weak"),
        ("reference", "noise_label_reference_weak"),
    ):
        needs = _words_of(weak)
        rules.append(
            _Rule(
                kind,
                _rx(
                    rf"(?<!\w){_lex(weak)}\s?(?:{marker}|#)\s?[:#.]?\s?"
                    rf"(?P<id>{_ID})"
                ),
                4,
                needs=needs,
            )
        )
        rules.append(
            _Rule(kind, _rx(rf"(?<!\w){_lex(weak)}\s?:?\s?(?P<id>{_ID})"), 5, _weak_ok, needs=needs)
        )
    return rules


def _amount_rules() -> list[_Rule]:
    money, percent = _lex("noise_currency"), _lex("noise_percent")
    symbols = ("$", "€", "£", "¥")
    money_needs = _words_of("noise_currency")
    return [
        _Rule(
            "money",
            _rx(
                rf"(?:[$€£¥]|(?<!\w){money})\s?\d+(?:[.,'\s]\d{{3}})*"
                r"(?:[.,]\d{1,2})?(?![\d])"
            ),
            6,
            needs=money_needs,
            marks=symbols,
        ),
        _Rule(
            "money",
            _rx(
                r"(?<![\w.,])\d+(?:[.,']\d{3})*(?:[.,]\d{1,2}|,-)?\s?"
                rf"(?:[$€£¥]|{money})"
            ),
            6,
            needs=money_needs,
            marks=symbols,
        ),
        _Rule(
            "percent",
            _rx(rf"(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:%|{percent})"),
            7,
            needs=_words_of("noise_percent"),
            marks=("%",),
        ),
    ]


def _date_rules() -> list[_Rule]:
    months, joiner = _lex("noise_month"), _lex("noise_date_joiner")
    suffix = _lex("noise_time_suffix")
    ordinal = r"(?:st|nd|rd|th|er|o|a|e|\.)?"
    month_needs = _words_of("noise_month")
    return [
        _Rule(
            "date",
            _rx(r"(?<![\d.,/])\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\d.,/]\d)"),
            8,
            _date_ok,
        ),
        _Rule("date", _rx(r"(?<![\d.,/])\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?![\d])"), 8, _date_ok),
        _Rule("date", _rx(r"(?<![\w.,/])\d{1,2}/\d{1,2}(?![\d/])"), 9, _short_date_ok),
        _Rule("date", _rx(r"(?<![\w.,/])\d{1,2}\.\d{1,2}\.(?![\d])"), 9, _short_date_ok),
        _Rule(
            "date",
            _rx(
                rf"(?<![\w.,])\d{{1,2}}{ordinal}\s(?:{joiner}\s)?{months}\.?"
                rf"(?:,?\s(?:{joiner}\s)?\d{{4}})?"
            ),
            8,
            needs=month_needs,
        ),
        _Rule(
            "date",
            _rx(
                rf"(?<!\w){months}\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?!\d)"
                r"(?:,?\s\d{4})?"
            ),
            8,
            needs=month_needs,
        ),
        _Rule(
            "time",
            _rx(
                r"(?<![\d.,:])\d{1,2}:\d{2}(?::\d{2})?(?:\s?(?:am|pm|a\.m\.|p\.m\.)"
                rf"|\s?{suffix})?(?![\d])"
            ),
            9,
            _time_ok,
            marks=(":",),
        ),
        _Rule("time", _rx(r"(?<![\d.,])\d{1,2}h\d{2}(?!\d)"), 9, _time_ok, marks=("h",)),
        _Rule(
            "time",
            _rx(r"(?<![\d.,])\d{1,2}(?:am|pm|\s(?:pm|a\.m\.|p\.m\.))(?!\w)"),
            9,
            _time_ok,
            marks=("am", "pm", "a.m.", "p.m."),
        ),
        _Rule(
            "time",
            _rx(rf"(?<![\d.,])\d{{1,2}}\s?{suffix}"),
            10,
            _time_ok,
            needs=_words_of("noise_time_suffix"),
            marks=("h",),
        ),
    ]


def _name_word() -> str:
    """A word of a street or city name: capitalised, or a particle ("de la", "il", "l'")."""
    return rf"(?:[A-Z][\w'.-]*|(?i:[ld]'\w+|{_lex('noise_name_particle')}))"


def _address_rules() -> list[_Rule]:
    prefix, suffix, marker = (
        _lex("noise_street_prefix"),
        _lex("noise_street_suffix"),
        _lex("noise_marker"),
    )
    compound, unit, floor = (
        _lex("noise_street_compound"),
        _lex("noise_address_unit"),
        _lex("noise_floor"),
    )
    number = r"\d{1,5}(?:\s?[a-zA-Z](?!\w))?(?:[-/]\d{1,5})?(?!\w)"
    name = _name_word()
    city = rf"(?P<city>[A-Z][\w'.-]*(?:\s{name}){{0,3}})"
    prefix_needs, suffix_needs = (
        _words_of("noise_street_prefix"),
        _words_of("noise_street_suffix"),
    )
    compound_marks = tuple(
        sorted({fold(entry).rstrip(".") for entry in words("noise_street_compound")})
    )

    def rule(
        pattern: str, check: Callable[[re.Match[str], str], bool] | None = None, **trigger: Any
    ) -> _Rule:
        return _Rule("postal_address", _rx(pattern, ignore=False), 10, check, **trigger)

    return [
        rule(rf"(?<!\w)[A-Z][a-zß]*?(?i:{compound})\s?{number}", _street_ok, marks=compound_marks),
        rule(
            rf"(?<!\w)(?:[A-Z][\w'.-]*\s){{1,3}}(?i:{suffix})\.?\s?{number}",
            _street_ok,
            needs=suffix_needs,
        ),
        rule(
            rf"(?<![\w.,])\d{{1,5}}[A-Za-z]?\s(?:[A-Z][\w'.-]*\s){{1,3}}(?i:{suffix})\.?",
            _street_ok,
            needs=suffix_needs,
        ),
        rule(
            rf"(?<!\w)(?i:{prefix})\s?{name}(?:\s{name}){{0,5}},?\s"
            rf"(?:(?i:{marker})\s?)?{number}",
            _capital_street_ok,
            needs=prefix_needs,
        ),
        rule(
            rf"(?<![\w.,])\d{{1,4}}(?:\s?(?:bis|ter))?,?\s(?i:{prefix})"
            rf"(?:\s{name}){{1,5}}",
            _street_ok,
            needs=prefix_needs,
        ),
        rule(
            rf"(?<!\w)(?i:{unit})\.?\s?(?:(?i:{marker})\s?)?\d{{1,6}}[A-Za-z]?(?!\w)",
            needs=_words_of("noise_address_unit"),
        ),
        rule(
            rf"(?<![\w.,])\d{{1,3}}(?:st|nd|rd|th|o|a|er|e|\.|°)\s?(?i:{floor})",
            needs=_words_of("noise_floor"),
        ),
        rule(rf"(?<![\w.-])(?:[A-Z]{{1,2}}-)?(?P<code>\d{{5}})\s{city}", _postal5_ok),
        rule(rf"(?<![\w.-])(?:(?P<cc>[A-Z]{{1,3}})-)?(?P<code>\d{{4}})\s{city}", _postal4_ok),
        rule(r"(?<![\w-])\d{4,5}-\d{3}(?:\s[A-Z][\w'.-]*(?:\s[A-Z][\w'.-]*){0,2})?(?![\w-])"),
        rule(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}(?![A-Za-z0-9])"),
        rule(
            r"(?<!\w)[A-Z][\w.'-]*(?:\s[A-Z][\w.'-]*)*,?\s(?P<state>[A-Z]{2})\s\d{5}(?:-\d{4})?(?!\d)",
            _us_zip_ok,
        ),
        rule(r"(?<![A-Za-z0-9])[A-Z]\d[A-Z]\s?\d[A-Z]\d(?![A-Za-z0-9])"),
        rule(r"(?<![\w-])S-\d{3}\s?\d{2}(?:\s[A-Z][\w'.-]*)?", marks=("s-",)),
    ]


def _phone_rules() -> list[_Rule]:
    single = [w for w in words("noise_label_phone") if len(w) == 1]
    labels = _alt(w for w in words("noise_label_phone") if len(w) > 1)
    needs = _words_of("noise_label_phone")
    return [
        _Rule(
            "phone",
            _rx(
                rf"(?<!\w){labels}(?:\s?[.:])?\s?(?:\([^\W\d_]+\)\s?)?[:.]?\s?"
                rf"(?P<id>{_PHONE_BODY})"
            ),
            5,
            _labelled_phone_ok,
            needs=needs,
        ),
        _Rule(
            "phone",
            _rx(rf"(?<!\w){_alt(single)}\s?:\s?(?P<id>{_PHONE_BODY})"),
            5,
            _labelled_phone_ok,
            needs=frozenset(single),
        ),
        _Rule(
            "phone",
            _rx(
                rf"(?<!\w){_lex('noise_label_extension')}\s?[.:]?\s?\d{{1,6}}"
                r"(?!\d)"
            ),
            5,
            needs=_words_of("noise_label_extension"),
        ),
        _Rule(
            "phone",
            _rx(
                r"(?<![\w+])(?P<id>\+\d{1,3}(?:[\s.-]?\(\d{1,4}\))?"
                r"(?:[\s./-]?\d{1,5}){2,6})(?!\d)"
            ),
            11,
            _phone_ok,
            marks=("+",),
        ),
        _Rule(
            "phone",
            _rx(r"(?<![\w.,])(?P<id>00\d{1,3}(?:[\s./-]\d{1,5}){2,6})(?!\d)"),
            11,
            _phone_ok,
            marks=("00",),
        ),
        _Rule(
            "phone",
            _rx(
                r"(?<![\w.,])(?P<id>\(\d{1,5}\)\s?\d{2,8}(?:[\s.-]\d{2,5}){0,3})"
                r"(?!\d)"
            ),
            11,
            _phone_ok,
            marks=("(",),
        ),
        _Rule(
            "phone",
            _rx(r"(?<![\w.,/-])(?P<id>0\d{1,5}[\s/-]\d{3,}(?:[\s-]\d{2,})*)(?!\d)"),
            11,
            _phone_ok,
            marks=("0",),
        ),
        _Rule(
            "phone",
            _rx(r"(?<![\w.,/-])(?P<id>\d{2,4}(?:[.-]\d{2,4}){2,4})(?![\d.,/-]?\d)"),
            11,
            _phone_ok,
            marks=(".", "-"),
        ),
        _Rule(
            "phone", _rx(r"(?<![\w.,/-])(?P<id>\d{3}-\d{4})(?![\d-])"), 11, _phone_ok, marks=("-",)
        ),
    ]


_MAYBE_NOISE = re.compile(r"\d|@|www\.|https?:", re.IGNORECASE)
_Candidate = tuple[int, int, int, NoiseKind, str]


@functools.cache
def _weekday_before() -> re.Pattern[str]:
    return _rx(rf"(?<!\w){_lex('noise_weekday')}\.?,?\s$")


def find_noise(segment: str) -> list[NoiseSpan]:
    """Every number-bearing span of `segment` that is not a quantity of goods, by offset.

    >>> [(s.kind, s.value) for s in find_noise("Tel. +43 7675 3425, PO 4471-B")]
    [('phone', '+43 7675 3425'), ('po_number', '4471-B')]
    """
    if not _MAYBE_NOISE.search(segment):
        return []
    shape, folded = _shape(segment), fold(segment)
    seen = frozenset(_tokens(segment).words)
    found: list[_Candidate] = []
    for rule in _rules():
        if not rule.applies(seen, folded):
            continue
        for match in rule.pattern.finditer(shape):
            if match.end() > match.start() and (rule.check is None or rule.check(match, shape)):
                group = "id" if "id" in rule.pattern.groupindex else 0
                value = segment[match.start(group) : match.end(group)]
                found.append((match.start(), match.end(), rule.priority, rule.kind, value))
    chosen: list[_Candidate] = []
    for cand in sorted(found, key=lambda c: (c[0] - c[1], c[2], c[0])):
        if all(cand[1] <= other[0] or cand[0] >= other[1] for other in chosen):
            chosen.append(cand)
    return [
        _with_weekday(NoiseSpan(s, e, kind, value.strip()), shape)
        for s, e, _, kind, value in sorted(chosen)
    ]


def _with_weekday(span: NoiseSpan, shape: str) -> NoiseSpan:
    """ "Mon, 3 Dec 2026": the weekday belongs to the date."""
    if span.kind != "date":
        return span
    match = _weekday_before().search(shape, max(0, span.start - 16), span.start)
    return NoiseSpan(match.start(), span.end, "date", span.value) if match else span


# --- courtesy: greetings and thanks at either end of a line --------------------------------


@dataclass(frozen=True)
class _Courtesy:
    start: int  # what is left is text[start:end]
    end: int
    leading: tuple[Courtesy, ...]
    trailing: tuple[Courtesy, ...]


def _name_like(toks: _Tokens, k: int) -> bool:
    word = toks.words[k]
    return not any(ch.isdigit() for ch in word) and (toks.capital[k] or word in _vocab().addressee)


def _abbreviation(toks: _Tokens, k: int) -> bool:
    """ "Ms. Anders": the dot after a title does not end the name."""
    return toks.gap(k).strip() == "." and toks.words[k - 1] in _vocab().honorific


def _addressee(toks: _Tokens, i: int) -> int:
    """After a greeting word: the name or "team" / "Herr Müller" it is addressed to."""
    n = len(toks)
    if i >= n or toks.boundary(i):
        return i
    e = i + 1
    while e < n and (not toks.boundary(e) or _abbreviation(toks, e)):
        e += 1
    run = range(i, e)
    if e - i <= 5 and all(_name_like(toks, k) for k in run):
        return e
    if e == n and e - i <= 2 and not toks.has_digit(i, e):
        if not _vocab().order_cue.anywhere(toks.words[i:e]):
            return e  # "hi maria"
    k = i
    while k < n and k - i < 4 and toks.words[k] in _vocab().addressee:
        honorific = toks.words[k] in _vocab().honorific
        k += 1
        while honorific and k < n and toks.capital[k] and not toks.has_digit(k, k + 1):
            k += 1
    return k


def _thanks_for(toks: _Tokens, j: int) -> int:
    """ "Thanks for the quick reply." — the reason, to the clause end, when it has no digits."""
    if j >= len(toks) or toks.words[j] not in _vocab().thanks_for:
        return j
    e = j + 1
    while e < len(toks) and not any(ch in ".!?,;:" for ch in toks.gap(e)):
        e += 1
    return j if toks.has_digit(j, e) else e


def _name_tail(toks: _Tokens, j: int) -> bool:
    """A short signed name after a closing on the same line ("Best regards, Maria")."""
    rest = range(j, len(toks))
    return (
        0 < len(rest) <= 4
        and all(_name_like(toks, k) for k in rest)
        and not (_vocab().order_cue.anywhere(toks.words[j:]))
    )


def _chain(toks: _Tokens, j: int) -> int:
    """ "Thanks and best regards": more thanks or closings joined to the first."""
    vocab = _vocab()
    while j < len(toks):
        k = j + 1 if toks.words[j] in vocab.joiner else j
        m = max(vocab.thanks.at(toks.words, k), vocab.closing.at(toks.words, k))
        if not m:
            return j
        j = k + m
    return j


def _leading(toks: _Tokens) -> tuple[int, list[Courtesy]]:
    vocab, seq, i, kinds = _vocab(), toks.words, 0, []
    while i < len(toks):
        g = max(vocab.greeting.at(seq, i), vocab.wellwish.at(seq, i))
        t, c = vocab.thanks.at(seq, i), vocab.closing.at(seq, i)
        if g and g >= max(t, c):
            i = _addressee(toks, i + g)
            kinds.append("greeting")
            continue
        if not max(t, c):
            break
        j = _thanks_for(toks, _chain(toks, i + max(t, c)))
        if _name_tail(toks, j):
            j = len(toks)
        if not toks.boundary(j):
            break
        kinds.append("thanks" if t >= c else "closing")
        i = j
    return i, kinds


def _trailing(toks: _Tokens, lo: int) -> tuple[int, list[Courtesy]]:
    vocab, seq, j, kinds = _vocab(), toks.words, len(toks), []
    while j > lo:
        t, c = vocab.thanks.ending(seq, j, lo), vocab.closing.ending(seq, j, lo)
        m = max(t, c)
        kind: Courtesy = "thanks" if t >= c else "closing"
        if not m:
            m, kind = _trailing_thanks_for(toks, lo, j), "thanks"
        joined = j - m > lo and seq[j - m - 1] in vocab.joiner
        if not m or (kind == "closing" and j - m > lo and not toks.boundary(j - m) and not joined):
            break
        j -= m
        while j > lo and seq[j - 1] in vocab.joiner:
            j -= 1
        kinds.append(kind)
    return j, kinds[::-1]


def _trailing_thanks_for(toks: _Tokens, lo: int, j: int) -> int:
    for k in range(lo, j):
        m = _vocab().thanks.at(toks.words, k)
        if m and (k == lo or toks.boundary(k)) and _thanks_for(toks, k + m) == j:
            return j - k
    return 0


def _courtesy(segment: str) -> _Courtesy:
    toks = _tokens(segment)
    i, leading = _leading(toks)
    j, trailing = _trailing(toks, i) if i < len(toks) else (i, [])
    if i >= j:
        return _Courtesy(0, 0, tuple(leading), tuple(trailing))
    start = toks.spans[i][0] if leading else 0
    while start > 0 and not segment[start - 1].isspace() and segment[start - 1] not in _BOUNDARY:
        start -= 1  # keep "¿", "$", "(" in front of the first word left
    end = len(segment)
    if trailing:
        end = toks.spans[j - 1][1]
        while end < len(segment) and segment[end] not in " ,;:-–—":
            end += 1  # keep "?", ")", "%" after the last word left
    return _Courtesy(start, end, tuple(leading), tuple(trailing))


def strip_courtesy(segment: str) -> tuple[str, list[str]]:
    """`segment` without its leading greetings / thanks and trailing thanks / closings.

    >>> strip_courtesy("Hi team, please send 12 tofu, thanks a lot!")
    ('please send 12 tofu', ['greeting', 'thanks'])
    """
    found = _courtesy(segment)
    rest = segment[found.start : found.end].strip(" ,;:-–—")
    if found.leading:
        rest = rest.lstrip(" ,;:!.-–—")
    return rest, [*found.leading, *found.trailing]


# --- lines ---------------------------------------------------------------------------------


_SIG_DELIMITER = re.compile(r"^--\s*$")
_EMAIL_IN = re.compile(
    r"(?P<name>.*?)\s*[<\[](?:mailto:)?(?P<email>[^<>\[\]\s]+@[^<>\[\]\s]+)[>\]]"
)
_BARE_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@functools.cache
def _header_rx() -> tuple[re.Pattern[str], re.Pattern[str]]:
    labels = _alt(_vocab().header)
    prefixes = _lex("noise_reply_prefix")
    header = re.compile(rf"^(?P<label>{labels})\s?:\s?(?P<value>.*)$", re.IGNORECASE)
    prefix = re.compile(rf"^(?:{prefixes}\s?(?:\[\d+\])?\s?:\s?)+", re.IGNORECASE)
    return header, prefix


def _header(line: str) -> tuple[str, dict[str, str]] | None:
    """(group, fields) when `line` is an email header line such as "Von: Maria <m@x.de>"."""
    header, _ = _header_rx()
    match = header.match(_shape(line))
    if not match:
        return None
    label = fold(re.sub(r"\s+", " ", match.group("label"))).strip()
    group = _vocab().header.get(label, "other")
    value = line[match.start("value") :].strip()
    return group, _fields(group, value)


def _fields(group: str, value: str) -> dict[str, str]:
    if group == "from":
        return _sender(value)
    if group == "subject":
        return _subject(value)
    return {group: value} if group in ("to", "cc", "date") and value else {}


def _sender(value: str) -> dict[str, str]:
    match = _EMAIL_IN.search(value)
    name, email = (match.group("name"), match.group("email")) if match else (value, "")
    if not match and (bare := _BARE_EMAIL.fullmatch(value.strip())):
        name, email = "", bare.group()
    out = {"from_name": name.strip(" \"'"), "from_email": email}
    if email:
        out["from_domain"] = email.rsplit("@", 1)[1].lower()
    return {key: text for key, text in out.items() if text}


def _subject(value: str) -> dict[str, str]:
    _, prefix = _header_rx()
    match = prefix.match(_shape(value))
    subject = value[match.end() :].strip() if match else value
    out = {"subject": subject} if subject else {}
    for span in find_noise(subject):
        if span.kind in ("po_number", "order_number", "reference"):
            out.setdefault(span.kind, span.value)
    return out


def _reply_subject(line: str) -> dict[str, str] | None:
    """A bare "AW: Bestellung" / "Re: order" line at the top: the pasted subject."""
    _, prefix = _header_rx()
    match = prefix.match(_shape(line))
    return _subject(line) if match and line[match.end() :].strip() else None


@dataclass
class _State:
    top: bool = True  # nothing but headers (and blanks) so far
    in_headers: bool = False
    signature: bool = False
    quote: Literal["", "all", "marked"] = ""
    content_seen: bool = False


def classify_lines(text: str) -> list[LineInfo]:
    """Every line of a cleaned message with its kind (and header fields).

    >>> [i.kind for i in classify_lines("Hallo Herr Müller,\\n12 Tofu\\nViele Grüße\\nMaria")]
    ['greeting', 'content', 'closing', 'signature']
    """
    lines, state, out, offset = text.split("\n"), _State(), [], 0
    for index, line in enumerate(lines):
        kind, fields = _classify(line, lines[index + 1 :], state)
        out.append(LineInfo(index, line, offset, offset + len(line), kind, fields))
        offset += len(line) + 1
    return out


def _classify(line: str, after: list[str], state: _State) -> tuple[LineKind, dict[str, str]]:
    stripped = line.strip()
    if not stripped or not any(ch.isalnum() for ch in stripped) and stripped != "--":
        state.in_headers = False
        return "blank", {}
    if state.quote == "all" or stripped.startswith(">"):
        return "quote", {}
    found = _reply_chain(stripped, after, state)
    if found:
        return found
    header = _header(stripped) if (state.top or state.in_headers) else None
    if header is None and state.top and (subject := _reply_subject(stripped)) is not None:
        header = ("subject", subject)
    if header is None and not state.top and _starts_reply_block(stripped, after):
        state.quote = "all"
        return "quote", {}
    if header is not None:
        state.in_headers = True
        return "header", header[1]
    state.top = state.in_headers = False
    return _body(stripped, state), {}


def _reply_chain(line: str, after: list[str], state: _State) -> tuple[LineKind, dict] | None:
    vocab, toks = _vocab(), _tokens(line)
    if vocab.original.whole(toks.words):
        state.quote = "all"
        return "quote", {}
    if vocab.forwarded.whole(toks.words):
        state.top, state.in_headers, state.signature = True, True, False
        return "header", {}
    if line.endswith(":") and vocab.quote_verb.anywhere(toks.words):
        upcoming = next((a.strip() for a in after if a.strip()), "")
        state.quote = "marked" if upcoming.startswith(">") else "all"
        return "quote", {}
    return None


def _starts_reply_block(line: str, after: list[str]) -> bool:
    """ "Von: Maria <m@x.de>" after the body: an Outlook reply chain starts here."""
    header = _header(line)
    if header is None or header[0] != "from":
        return False
    upcoming = next((a.strip() for a in after if a.strip()), "")
    return "@" in line or _header(upcoming) is not None


def _body(line: str, state: _State) -> LineKind:
    vocab, toks = _vocab(), _tokens(line)
    if _SIG_DELIMITER.match(line) or (
        vocab.device.at(toks.words, 0) and len(toks) <= 7 and not toks.has_digit(0, len(toks))
    ):
        state.signature = True
        return "signature"
    found = _courtesy(line)
    if found.start == found.end and (found.leading or found.trailing):
        kinds = found.leading + found.trailing
        if state.content_seen or "closing" in kinds:
            state.signature = True
        return "greeting" if kinds[0] == "greeting" else "closing"
    if state.signature and _is_signature(line, toks):
        return "signature"
    state.content_seen = True
    if found.trailing:
        state.signature = True  # "send 12 tofu, thanks!" — a name may follow
    return "content"


def _is_signature(line: str, toks: _Tokens) -> bool:
    """After a closing: a name, title, company, address or phone line, nothing order-like."""
    vocab = _vocab()
    if vocab.disclaimer.anywhere(toks.words):
        return True
    left = list(line)
    for span in find_noise(line):
        left[span.start : span.end] = " " * (span.end - span.start)
    rest = _tokens("".join(left))
    if rest.has_digit(0, len(rest)) or vocab.order_cue.anywhere(rest.words):
        return False
    lower = sum(not capital for capital in rest.capital)
    return len(rest) <= 8 or lower * 2 <= len(rest)
