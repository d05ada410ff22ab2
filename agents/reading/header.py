"""The order header in a message: the customer's PO number, the delivery date they ask for,
a ship-to and a note - each read only after a clear cue, and cut out of the text.

`find_header(text, has_draft=)` looks at every line but quoted ones and returns a
`HeaderFound`: the fields as written, each with its span, and `rest`, the text with those
spans cut out, which is what the rest of the reader reads - so the "12" of "PO 12" or the
"15" of "by 15/12" can never become a quantity. The numbers themselves are found by
`agents.reading.noise` (the one mechanism for numbers that are not quantities: a PO is
its `po_number` span, or an `order_number` span that is not one of our 1xxxx order
numbers; a date its `date` span); what this module adds is the cue that makes one of them
a header field, plus dates in words ("by Friday", "next Tuesday", "tomorrow", "on the
20th"). The cues are lexicon data per language (`header_*` kinds):

- PO: a PO or order-number label (`PO number: 4711-A`, `P.O. #7781`, `the PO is 5521`,
  `our order ref. XZ-88`, `Bestellnummer 4711`, `n° de commande 5561`, `ordine n. 3390`);
- date: a label and a colon (`Requested delivery date: ...`, `Liefertermin: ...`), a
  deadline word (`by`, `bis`, `antes del`, `avant le`, `até`, `entro il`, but not `not
  before`), a day word (`on`, `am`, `el`, `le`, `no dia`, `il`) in a clause that also says
  deliver / Lieferung / entrega / livraison / consegna, or a delivery word right before
  the date (`deliver tomorrow`);
- ship-to: `ship to`, `deliver to`, `Lieferadresse:`, `livrer à`, `enviar a`, ... and the
  rest of the line (not "same" or "as usual", nor anything holding a quantity of goods);
- notes: `Note:`, `Hinweis:`, `Remarque :`, `Nota:` ... at the start of a line, and only
  when the message also orders or a draft is open (else "note: ..." is a memory to keep).

`read_date(text, lang, today)` turns the date as written into a calendar date with
dateparser: the cue's language first, then the other five; relative to `today`;
preferring the future for a date without a year or weekday ("Friday", "next Tuesday":
the next one to come, a week on only when said on that day); never downloading anything
(languages are given, no language detection). Numeric dates are day first ("15/12" is 15 December)
in every language. In English too, as most of the desk's customers are European, with
one exception: when day first cannot be a date and month first can ("12/23"), it is
month first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from dateparser.date import DateDataParser

from agents.reading import intents, noise
from agents.reading.lexicon import LANGUAGES, words
from agents.reading.numbers import find_quantities
from agents.reading.text import fold

Field = Literal["customer_po", "requested_date", "ship_to", "notes"]
FIELDS: tuple[Field, ...] = ("customer_po", "requested_date", "ship_to", "notes")
# The columns' sizes (migration 0004): a longer value is no header field but prose.
_LIMITS = {"customer_po": 50, "ship_to": 300, "notes": 1000}
_OUR_ORDER = re.compile(r"1\d{4}")  # an order number of ours ("order no. 10250"), not a PO
_CUT = " ; "  # what a consumed span leaves: a separator, so the words around it stay apart


@dataclass(frozen=True)
class HeaderSpan:
    """`text[start:end]` was read as `field`; `value` is the PO, ship-to or note, or the
    date as written ("Friday", "15/12", "3. Januar"), read in `lang`."""

    field: Field
    start: int
    end: int
    value: str
    lang: str = "en"


@dataclass
class HeaderFound:
    """The header fields a message gives, and the message without them (`rest`)."""

    spans: list[HeaderSpan] = field(default_factory=list)
    rest: str = ""

    def __bool__(self) -> bool:
        return bool(self.spans)

    def get(self, name: Field) -> HeaderSpan | None:
        """The field's last mention: "PO 5512 ... sorry, the PO is 5521" is 5521."""
        return next((s for s in reversed(self.spans) if s.field == name), None)


# --- the cues, per language ----------------------------------------------------------------


@dataclass(frozen=True)
class _Cues:
    lang: str
    label: re.Pattern[str]  # "Requested delivery date:" right before the date
    deadline: re.Pattern[str]  # "by", "bis", "avant le" right before the date
    negated: re.Pattern[str]  # "not before"
    day_word: re.Pattern[str]  # "on", "am", "le" right before the date
    delivery: re.Pattern[str]  # "deliver", "Lieferung" anywhere
    delivery_before: re.Pattern[str]  # "deliver" right before the date or its cue
    word_date: re.Pattern[str]  # "next Tuesday", "tomorrow", "the 20th"
    next_word: re.Pattern[str]
    ship_to: re.Pattern[str]
    notes: re.Pattern[str]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _alt(kind: str, lang: str) -> str:
    return noise.alternation(words(kind, lang))


@functools.cache
def _cues(lang: str) -> _Cues:
    weekday, next_word = _alt("header_weekday", lang), _alt("header_next", lang)
    day = r"\d{1,2}(?:st|nd|rd|th)" if lang == "en" else r"\d{1,2}(?:\.|º|°|er|o)?"
    ordinal = rf"(?:the\s+)?{day}(?!\w)(?!\s*(?:[/.-]\d|[^\W\d_]))"
    weekday_date = rf"(?:{next_word}\s+)?{weekday}(?:\s+{next_word})?(?!\w)"
    return _Cues(
        lang=lang,
        label=_rx(rf"(?<!\w){_alt('header_date_label', lang)}\s*[:=]\s*$"),
        deadline=_rx(rf"(?<!\w){_alt('header_by', lang)}\s+(?:the\s+)?$"),
        negated=_rx(rf"(?<!\w){_alt('header_not', lang)}\s+{_alt('header_by', lang)}\s+$"),
        day_word=_rx(rf"(?<!\w){_alt('header_on', lang)}\s+$"),
        delivery=_rx(rf"(?<!\w){_alt('header_delivery', lang)}"),
        delivery_before=_rx(rf"(?<!\w){_alt('header_delivery', lang)}\s*$"),
        word_date=_rx(rf"(?<!\w)(?:{weekday_date}|{_alt('header_relative', lang)}|{ordinal})"),
        next_word=_rx(rf"(?<!\w){next_word}(?!\w)"),
        ship_to=_rx(
            rf"(?<!\w)(?:{_alt('header_ship_to_label', lang)})\s*:\s*"
            rf"|(?<!\w)(?:{_alt('header_ship_to', lang)})(?:\s*:)?\s+"
        ),
        notes=_rx(rf"^[\s*•·>-]*(?:{_alt('header_notes', lang)})\s*:\s*"),
    )


# --- finding the header --------------------------------------------------------------------


def find_header(text: str, *, has_draft: bool = False) -> HeaderFound:
    """The header fields of a cleaned message and the message without them."""
    spans: list[HeaderSpan] = []
    for info in noise.classify_lines(text):
        if info.kind in ("quote", "blank"):
            continue  # an older message quoted is history, not this order's header
        spans += [_moved(span, info.start) for span in _line_header(info.text)]
    notes = [s for s in spans if s.field == "notes"]
    if notes and not has_draft and not _orders(text, spans):
        spans = [s for s in spans if s.field != "notes"]  # "note: ..." alone: a memory
    return HeaderFound(spans, _without(text, spans))


def _moved(span: HeaderSpan, offset: int) -> HeaderSpan:
    return HeaderSpan(span.field, span.start + offset, span.end + offset, span.value, span.lang)


def _line_header(line: str) -> list[HeaderSpan]:
    found = noise.find_noise(line)
    spans = [po for po in (_po(line, span) for span in found) if po is not None]
    spans += _dates(line, found, spans)
    spans += _free_text(line, spans, "ship_to")
    spans += _free_text(line, spans, "notes")
    return sorted(spans, key=lambda s: s.start)


def _po(line: str, span: noise.NoiseSpan) -> HeaderSpan | None:
    if span.kind == "po_number":
        return HeaderSpan("customer_po", span.start, span.end, span.value)
    if span.kind == "order_number" and not _OUR_ORDER.fullmatch(span.value):
        folded = fold(line)
        if "?" in line or intents.ASKS_ABOUT_AN_ORDER.search(folded) or intents.cancels(folded):
            return None  # "where is order 45678", "cancel order 45678": one of ours
        return HeaderSpan("customer_po", span.start, span.end, span.value)
    return None


def _dates(line: str, found: list[noise.NoiseSpan], taken: list[HeaderSpan]) -> list[HeaderSpan]:
    """The delivery dates of a line: its noise dates and dates in words that have a cue."""
    shaped = noise.shape(line)
    numeric = [(s.start, s.end) for s in found if s.kind == "date"]
    busy = [(s.start, s.end) for s in found if s.kind != "date"] + _ranges(taken)
    out: list[HeaderSpan] = []
    for lang in _languages_of(line):
        cues = _cues(lang)
        in_words = [m.span() for m in cues.word_date.finditer(shaped)]
        for start, end in sorted(numeric + in_words, key=lambda c: (c[0], -c[1])):
            if _overlaps(start, end, busy + _ranges(out)):
                continue  # a longer reading of the same date, or a PO, phone...
            cue = _date_cue(shaped, start, end, cues, numeric=(start, end) in numeric)
            if cue is not None:
                value = line[start:end].strip(" .,")
                out.append(HeaderSpan("requested_date", cue, end, value, lang))
    return out


def _date_cue(shaped: str, start: int, end: int, cues: _Cues, *, numeric: bool) -> int | None:
    """Where the date's cue starts, or None when nothing says it is a delivery date. A
    bare day of the month ("the 20th", "am 20.") needs a deadline or day word and a
    delivery word in its clause."""
    left = shaped[:start]
    bare_day = not numeric and bool(re.match(r"(?:the\s+)?\d", shaped[start:end], re.I))
    delivery = bool(cues.delivery.search(_clause(shaped, start, end)))
    label = cues.label.search(left)
    if label is not None and not bare_day:
        return label.start()
    deadline = cues.deadline.search(left)
    if deadline is not None and cues.negated.search(left):
        return None  # "not before 04/01/2027" is no date to deliver on
    day_word = cues.day_word.search(left)
    if deadline is not None and (delivery or not bare_day):
        return _with_delivery_word(left, deadline.start(), cues)
    if day_word is not None and delivery:
        return _with_delivery_word(left, day_word.start(), cues)
    adjacent = cues.delivery_before.search(left)
    return adjacent.start() if adjacent is not None and not bare_day else None


def _with_delivery_word(left: str, cue: int, cues: _Cues) -> int:
    """ "deliver by Friday": the delivery word right before the cue goes with it."""
    before = cues.delivery_before.search(left[:cue])
    return before.start() if before else cue


_CLAUSE_END = re.compile(r"[,;!?]|(?<![\d\s])\.(?=\s|$)")


def _clause(shaped: str, start: int, end: int) -> str:
    """The clause around a date: to the nearest , ; ! ? or full stop on either side."""
    ends_before = [m.end() for m in _CLAUSE_END.finditer(shaped, 0, start)]
    after = _CLAUSE_END.search(shaped, end)
    return shaped[(ends_before[-1] if ends_before else 0) : after.start() if after else None]


def _free_text(line: str, taken: list[HeaderSpan], name: Field) -> list[HeaderSpan]:
    """Ship-to or notes: the cue and the rest of the line (up to the next header field)."""
    shaped = noise.shape(line)
    for lang in _languages_of(line):
        cues = _cues(lang)
        match = (cues.ship_to if name == "ship_to" else cues.notes).search(shaped)
        if match is None or _overlaps(match.start(), match.end(), _ranges(taken)):
            continue
        end = min([s.start for s in taken if s.start >= match.end()] + [len(line)])
        if not _acceptable(line[match.end() : end], name):
            continue  # "Ship to Tortuga, Avda. Azteca 123: 10 Tofu" orders: no ship-to
        end = _sentence_end(line, match.end(), end) if name == "ship_to" else end
        value = line[match.end() : end].strip(" ,;:.-–—")
        if _acceptable(value, name):
            return [HeaderSpan(name, match.start(), end, value, lang)]
    return []


_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{5})[.!?](?=\s+[A-ZÀ-Þ]|\s*$)")


def _sentence_end(line: str, start: int, end: int) -> int:
    """ "Ship to our Lyon store. Thanks!": the ship-to ends with its sentence (not at the
    dot of "Maubelstr. 90" or "Avda. Azteca")."""
    match = _SENTENCE_END.search(line, start, end)
    return match.start() if match else end


def _acceptable(value: str, name: Field) -> bool:
    """A ship-to or note worth keeping: some words, not "same" / "as usual", within its
    column, and no quantity of goods in it ("deliver to: 5 tofu" is an order line)."""
    if not re.search(r"[^\W\d_]{2}", value) or len(value) > _LIMITS[name]:
        return False
    if fold(value).strip(" .!") in words("header_same"):
        return False
    plain = list(value)
    for span in noise.find_noise(value):
        plain[span.start : span.end] = " " * (span.end - span.start)
    return not find_quantities("".join(plain))


def _orders(text: str, spans: list[HeaderSpan]) -> bool:
    """The message names quantities besides its header: it is an order, not a note."""
    return bool(find_quantities(_without(text, spans)))


def _overlaps(start: int, end: int, others: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in others)


def _ranges(spans: list[HeaderSpan]) -> list[tuple[int, int]]:
    return [(span.start, span.end) for span in spans]


def _languages_of(line: str) -> tuple[str, ...]:
    """The languages whose cue words occur in the line, best first; every one otherwise."""
    tokens = set(re.findall(r"[^\W\d_]+", fold(line)))
    seen = [lang for lang in LANGUAGES if tokens & _cue_words(lang)]
    return tuple(seen) or LANGUAGES


@functools.cache
def _cue_words(lang: str) -> frozenset[str]:
    kinds = ("header_delivery", "header_date_label", "header_by", "header_on", "header_weekday")
    kinds += ("header_relative", "header_ship_to", "header_ship_to_label", "header_notes")
    return frozenset(
        token
        for kind in kinds
        for entry in words(kind, lang)
        for token in re.findall(r"[^\W\d_]+", entry)
        if len(token) > 2
    )


def _without(text: str, spans: list[HeaderSpan]) -> str:
    out, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < at:
            continue
        out += [text[at : span.start], _CUT]
        at = span.end
    out.append(text[at:])
    return "".join(out)


def header_fields(found: HeaderFound, today: date) -> tuple[dict[str, str], list[str]]:
    """The header as tool arguments (the date as an ISO date), and the dates as written
    that name no date ("by the 35th"), for the reply to mention."""
    fields: dict[str, str] = {}
    unread: list[str] = []
    for name in FIELDS:
        span = found.get(name)
        if span is None:
            continue
        if name != "requested_date":
            fields[name] = span.value
        elif (day := read_date(span.value, span.lang, today)) is not None:
            fields[name] = day.isoformat()
        else:
            unread.append(span.value)
    return fields, unread


# --- reading a date ------------------------------------------------------------------------

_NUMERIC = re.compile(r"^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\.?$")
_ORDINAL = re.compile(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th|\.|º|°|er|o)?$", re.IGNORECASE)
_WEEKDAY_FIRST = re.compile(r"^[^\W\d_]+\.?,?\s+(?=\d)")


def read_date(text: str, lang: str, today: date) -> date | None:
    """The calendar date `text` names, read in `lang` (then the other languages) relative
    to `today`; None when it names none."""
    written = re.sub(r"\s+", " ", text.strip(" .,"))
    day_only = _ORDINAL.match(written)
    if day_only:
        return _next_day_of_month(int(day_only.group(1)), today)
    written = _WEEKDAY_FIRST.sub("", written)  # "Friday 18/12", "Fr., 18.12.": the date
    order = "DMY"
    numeric = _NUMERIC.match(written)
    if numeric:
        first, second, year = numeric.groups()
        order = _date_order(int(first), int(second), lang)
        day, month = (int(first), int(second)) if order == "DMY" else (int(second), int(first))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return None  # dateparser would make "32/12" the 12th of December 2032
        year = f"20{year}" if year and len(year) == 2 else year  # "18.12.26" is 2026
        written = "/".join(part for part in (first, second, year) if part)
    said_next = bool(_cues(lang).next_word.search(noise.shape(written)))
    written = _cues(lang).next_word.sub(" ", noise.shape(written)).strip() or written
    parsed = _parser(lang, order, today).get_date_data(written)
    if parsed.date_obj is None or parsed.period != "day":
        return None  # "December 2026" is a month, not a day to deliver on
    day = parsed.date_obj.date()
    return day + timedelta(days=7) if said_next and day == today else day


def _date_order(first: int, second: int, lang: str) -> str:
    """Day first; in English month first only when day first is impossible ("12/23")."""
    if lang == "en" and first <= 12 < second <= 31:
        return "MDY"
    return "DMY"


def _next_day_of_month(day: int, today: date) -> date | None:
    """ "The 20th": the next 20th from today (this month's, if it is still to come)."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


@functools.lru_cache(maxsize=64)
def _parser(lang: str, order: str, today: date) -> DateDataParser:
    """A dateparser for `lang` first, the other five after, relative to `today`. Languages
    are given, so dateparser detects none and loads no model: nothing is downloaded."""
    languages = [lang, *(other for other in LANGUAGES if other != lang)]
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "DATE_ORDER": order,
        "PREFER_LOCALE_DATE_ORDER": False,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PARSERS": ["relative-time", "absolute-time"],
    }
    return DateDataParser(languages=languages, settings=settings, try_previous_locales=False)
