"""Quantities in one segment of a message: digits, number words in six languages, dozens.

`find_quantities(segment)` returns each quantity with its offsets, the unit word between
it and the product ("12 Stück", "diez cajas de") and the way it binds: a prefix form
("12 tofu", "20 unidades de queso", "two dozen") to the words after it, a postfix form
("tofu x12", "tofu - 12", "tofu (qty 12)") to the words before it, a bare number ("tofu
12 chai") to whichever side the caller decides. Number words are read by text2num (en, de,
es, fr, pt, it); articles, dozens, pairs and the spellings text2num lacks ("funf") are
lexicon data. Numbers that are not quantities give no span: money, percentages, times,
dates, sizes, phone, reference and street numbers, and digits glued to letters ("3-ring",
"#10", "8.5x11", "4/Carton"), which the caller may match against the catalog. Fractions,
decimals, ranges, negatives and zero give a span whose `refused` says why, so the caller
names them instead of guessing. `read_quantity` reads a whole text as one quantity. Pure:
no catalog, no I/O.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from text_to_num import find_numbers, text2num

from agents.reading.lexicon import LANGUAGES, table, words
from agents.reading.text import fold

Binds = Literal["right", "left", "either"]
Form = Literal["digits", "words", "dozen", "phrase", "article"]

NOT_WHOLE = "not a whole number"
NEGATIVE = "negative"
ZERO = "zero"
RANGE = "a range"
NOT_NUMBER = "not a number"

_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<frac>[\u00bc-\u00be\u2150-\u215e\u2189])"
    r"|(?P<word>[^\W\d_]+(?:[-‐][^\W\d_]+)*['’]?)"
    r"|(?P<punct>\S)"
)
_DASHES = frozenset("-‐–—−")
_X = frozenset({"x", "×", "*"})
_POSTFIX = frozenset({"x", "×", "*", "-", ":", "=", "qty", "()"})
_LONGEST_DIGIT_RUN = 6  # 7+ digits in a row is a phone, account or reference number
_PHONE_DIGITS = 7  # digit groups adding up to this many are a phone number
_SIZE_MARKS = frozenset({'"', "”", "'", "’", "″", "′"})
_NOT_QUANTITY_AFTER = ("currency", "percent", "time", "measure")
_NOT_QUANTITY_BEFORE = ("currency",)


@dataclass(frozen=True, slots=True)
class Quantity:
    """One text read as a quantity: `value`, or None with `refused` saying why."""

    value: int | None
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class QuantitySpan:
    """A quantity inside a segment: `text[start:end] == raw`.

    `form` is how the number is written ("digits", "words", "dozen": n × 12, "phrase": "a
    couple", "half a dozen", "article": "a case of"); `marker` the sign that makes it a
    postfix or prefix form ("x", "×", "*", "-", ":", "=", "qty", "()"); `unit` the unit
    word as written ("cases", "Stück"). A refused span has `value` None.
    """

    start: int
    end: int
    value: int | None
    raw: str
    binds: Binds
    form: Form
    unit: str | None = None
    marker: str | None = None
    refused: str | None = None
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class _Tok:
    start: int
    end: int
    text: str
    kind: str  # "num", "word", "frac", "punct"
    folded: str
    gap: bool  # whitespace (or the start of the text) before it


@dataclass(frozen=True, slots=True)
class _Num:
    """A number candidate over tokens [i, j) before it grows into a span."""

    i: int
    j: int
    value: int | None
    form: Form
    refused: str | None = None
    marker: str | None = None  # "x" of "xtwenty"


class _Word:
    """text2num's Token protocol over one of our tokens."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: object) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for match in _TOKEN.finditer(text):
        start, kind = match.start(), match.lastgroup or "punct"
        gap = start == 0 or text[start - 1].isspace()
        toks.append(_Tok(start, match.end(), match.group(), kind, fold(match.group()), gap))
    return toks


@functools.cache
def _phrases(kind: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A kind's folded phrases as token tuples, by first token, longest first."""
    index: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for phrase in words(kind):
        parts = tuple(tok.folded for tok in _tokenize(phrase))
        if parts:
            index[parts[0]].add(parts)
    return {first: tuple(sorted(group, key=len, reverse=True)) for first, group in index.items()}


def _match(toks: Sequence[_Tok], i: int, kind: str) -> int | None:
    """Where the longest phrase of `kind` starting at token i ends, or None."""
    if i >= len(toks):
        return None
    for phrase in _phrases(kind).get(toks[i].folded, ()):
        end = i + len(phrase)
        if end <= len(toks) and all(toks[i + n].folded == p for n, p in enumerate(phrase)):
            return end
    return None


def _match_before(toks: Sequence[_Tok], j: int, kind: str) -> int | None:
    """Where the longest phrase of `kind` ending just before token j starts, or None."""
    for start in range(max(0, j - 5), j):
        for phrase in _phrases(kind).get(toks[start].folded, ()):
            if start + len(phrase) == j and _match_exact(toks, start, phrase):
                return start
    return None


def _match_exact(toks: Sequence[_Tok], i: int, phrase: tuple[str, ...]) -> bool:
    return all(toks[i + n].folded == p for n, p in enumerate(phrase))


def _is(toks: Sequence[_Tok], i: int, kind: str) -> bool:
    return 0 <= i < len(toks) and _match(toks, i, kind) is not None


def _glued(toks: Sequence[_Tok], i: int) -> bool:
    """Token i touches the token before it."""
    return 0 < i < len(toks) and not toks[i].gap


# ---------------------------------------------------------------- digits


def _digits_value(text: str) -> tuple[int | None, str | None] | None:
    """(value, refused) of "12", "1,000", "1.000", "3.5"; None for "15.12.2026" (a date)."""
    if text.isdigit():
        value = int(text)
        return (None, ZERO) if value == 0 else (value, None)
    groups, seps = re.split(r"[.,]", text), set(re.findall(r"[.,]", text))
    if len(seps) == 1 and 1 <= len(groups[0]) <= 3 and groups[0][0] != "0":
        if all(len(group) == 3 for group in groups[1:]):
            return int("".join(groups)), None
    if seps == {"."} and len(groups) >= 3:
        return None
    return None, NOT_WHOLE


def _digit_number(toks: Sequence[_Tok], i: int) -> _Num | int:
    """The number at digit token i; an int (skip up to that token) when it is no quantity."""
    tok, before = toks[i], toks[i - 1] if _glued(toks, i) else None
    if before is not None:
        skip = _glued_before(toks, i, before)
        if skip is not None:
            return skip
    shaped = _glued_after(toks, i)
    if shaped is not None:
        return shaped
    if len(tok.text) > _LONGEST_DIGIT_RUN and tok.text.isdigit() or _phone_run(toks, i):
        return _run_end(toks, i)
    read = _digits_value(tok.text)
    if read is None:
        return i + 1
    number = _Num(i, i + 1, read[0], "digits", read[1])
    if before is not None and before.folded in _DASHES and toks[i - 1].gap:
        number = _Num(i - 1, i + 1, None, "digits", NEGATIVE)
    elif before is not None and before.text == "." and toks[i - 1].gap:
        number = _Num(i - 1, i + 1, None, "digits", NOT_WHOLE)  # ".5"
    return number


def _glued_before(toks: Sequence[_Tok], i: int, before: _Tok) -> int | None:
    """Skip a number glued to a letter, "#", "+", "@" or a currency sign before it."""
    if before.kind == "word" and before.folded not in _X:
        return i + 1  # "A4", "PO4471", "V2"
    if before.text in ("#", "+", "@", "/") or _is(toks, i - 1, "currency"):
        return _run_end(toks, i) if before.text == "+" else i + 1
    if before.folded in _DASHES and _glued(toks, i - 1) and toks[i - 2].kind != "punct":
        return i + 1  # "D-12209", "B1-4"
    return None


def _glued_after(toks: Sequence[_Tok], i: int) -> _Num | int | None:
    """Shapes decided by what touches the number: times, dates, ranges, codes, sizes."""
    after = i + 1
    if not _glued(toks, after):
        return None
    nxt = toks[after]
    if nxt.kind == "word":
        return _glued_word(toks, i, nxt)
    if nxt.kind == "frac":
        return _Num(i, after + 1, None, "digits", NOT_WHOLE)  # "2½"
    if nxt.text in ":/⁄" or nxt.folded in _DASHES:
        return _joined(toks, i, nxt.text)
    if nxt.text in _SIZE_MARKS or nxt.text == "%" or _is(toks, after, "currency"):
        return after + 1
    if nxt.text == "." and "." in toks[i].text and not _glued(toks, after + 1):
        return after + 1  # "15.12." is a date
    return None


def _glued_word(toks: Sequence[_Tok], i: int, nxt: _Tok) -> int | None:
    """ "12x", "12pcs", "2dozen" are quantities; "3rd", "10am", "3M", "19w" are not."""
    if nxt.folded in _X:
        glued_more = _glued(toks, i + 2) and toks[i + 2].kind in ("num", "word")
        return i + 3 if glued_more else None  # "8x10", "8.5x11" are sizes
    if _is(toks, i + 1, "unit") or _is(toks, i + 1, "dozen") or _is(toks, i + 1, "dozens"):
        return None
    return i + 2


def _joined(toks: Sequence[_Tok], i: int, joiner: str) -> _Num | int | None:
    """ "10:30", "15/12", "1/2", "2026-12-15", "10-12", "555-1234", "3-ring"."""
    parts, k = [toks[i].text], i
    while _glued(toks, k + 1) and _glued(toks, k + 2) and toks[k + 1].text == toks[i + 1].text:
        if toks[k + 2].kind != "num":
            return k + 3  # "3-ring", "4471-B", "4/Carton": a code or a name
        parts.append(toks[k + 2].text)
        k += 2
    if len(parts) == 1:
        return None  # "tofu: 12" or "12- tofu": nothing joined
    if joiner == ":" or len(parts) > 2 or not all(part.isdigit() for part in parts):
        return k + 1  # a time, a date, a phone number
    low, high = int(parts[0]), int(parts[1])
    if joiner in "/⁄":
        fraction = 0 < low < high <= 10
        return _Num(i, k + 1, None, "digits", NOT_WHOLE) if fraction else k + 1
    if len(parts[0]) <= 3 and len(parts[1]) <= 3 and low < high:
        return _Num(i, k + 1, None, "digits", RANGE)
    return k + 1


def _phone_run(toks: Sequence[_Tok], i: int) -> bool:
    """Digit groups separated only by spaces, dashes, dots or brackets: 7+ digits in all."""
    digits, groups, k = 0, 0, i
    while k < len(toks) and (toks[k].kind == "num" or toks[k].text in "-./()"):
        if toks[k].kind == "num":
            digits, groups = digits + len(re.sub(r"\D", "", toks[k].text)), groups + 1
        k += 1
    return groups >= 2 and digits >= _PHONE_DIGITS


def _run_end(toks: Sequence[_Tok], i: int) -> int:
    """The end of a run of digit groups and separators starting at token i."""
    k = i
    while k < len(toks) and (toks[k].kind == "num" or toks[k].text in "-./()"):
        k += 1
    return k


# ---------------------------------------------------------------- words


@functools.cache
def _spellings(lang: str) -> tuple[tuple[str, str], ...]:
    return tuple((key, str(value)) for key, value in table("number_spelling", lang).items())


def _spelled(tok: _Tok, lang: str) -> str:
    """The token as text2num reads it: digits hidden, unaccented spellings restored."""
    if tok.kind == "num":
        return "|"
    text = tok.text.lower().replace("’", "'")
    for plain, proper in _spellings(lang):
        text = text.replace(plain, proper)
    return text


def _word_numbers(toks: Sequence[_Tok], langs: Sequence[str]) -> list[_Num]:
    """Number words by text2num in each language; ordinals and lone articles left out."""
    found: list[_Num] = []
    for lang in langs:
        stream = [_Word(_spelled(tok, lang)) for tok in toks]
        for occurrence in find_numbers(stream, lang, 0.0):
            i, j, value = occurrence.start, occurrence.end, occurrence.value
            if occurrence.is_ordinal or value != int(value) or toks[i].kind != "word":
                continue
            if j - i == 1 and _lone_word_is_no_number(toks, i):
                continue
            found.append(_Num(i, j, int(value) or None, "words", None if value else ZERO))
    found.extend(_x_glued_words(toks, langs))
    return found


def _lone_word_is_no_number(toks: Sequence[_Tok], i: int) -> bool:
    """Articles ("un", "ein") and words like "once", "unos", "o" alone are no quantity.

    The article rule reads "un carton", "eine Kiste"; "once cajas" still counts.
    """
    word = toks[i].folded
    if word in words("article_one"):
        return True
    return word in words("false_number") and not _before_unit(toks, i + 1)


def _x_glued_words(toks: Sequence[_Tok], langs: Sequence[str]) -> list[_Num]:
    """ "tofu xtwenty": an x glued to a number word."""
    found = []
    for i, tok in enumerate(toks):
        if tok.kind == "word" and tok.folded[:1] == "x" and len(tok.folded) > 3:
            value = _one_word_value(tok.text[1:], langs)
            if value:
                found.append(_Num(i, i + 1, value, "words", marker="x"))
    return found


def _one_word_value(text: str, langs: Sequence[str]) -> int | None:
    for lang in langs:
        try:
            return int(text2num(_spelled(_tokenize(text)[0], lang), lang))
        except (ValueError, IndexError):
            continue
    return None


@functools.cache
def _phrase_values() -> dict[tuple[str, ...], int]:
    """ "a couple" → 2, "half a dozen" → 6, as token tuples."""
    values = table("number_phrase").items()
    return {tuple(t.folded for t in _tokenize(k)): v for k, v in values if isinstance(v, int)}


def _lexicon_numbers(toks: Sequence[_Tok], langs: Sequence[str]) -> list[_Num]:
    """Numbers the lexicon knows: "a couple", "half a dozen", "a case", "dozen", "half a"."""
    found: list[_Num] = []
    for i, tok in enumerate(toks):
        end = _match(toks, i, "number_phrase")
        if end is not None:
            value = _phrase_values().get(tuple(t.folded for t in toks[i:end]))
            if value is not None:
                found.append(_Num(i, end, value, "phrase"))
        if tok.folded in words("article_one") and _before_unit(toks, i + 1):
            found.append(_Num(i, i + 1, 1, "article"))
        if _is(toks, i, "dozen") and not _after_number(toks, i):
            found.append(_Num(i, i + 1, 12, "dozen"))
        fraction = _fraction(toks, i, langs)
        if fraction is not None:
            found.append(fraction)
    return found


def _before_unit(toks: Sequence[_Tok], i: int) -> bool:
    return any(_is(toks, i, kind) for kind in ("unit", "dozen", "dozens"))


def _after_number(toks: Sequence[_Tok], i: int) -> bool:
    prev = toks[i - 1] if i > 0 else None
    return prev is not None and (prev.kind == "num" or prev.folded in words("article_one"))


def _fraction(toks: Sequence[_Tok], i: int, langs: Sequence[str]) -> _Num | None:
    """ "half a case of", "media caja", "zweieinhalb": a quantity that is not whole."""
    tok = toks[i]
    if tok.kind != "word":
        return None
    if _is(toks, i, "fraction"):
        k = i + 1 + (_is(toks, i + 1, "article_one") and toks[i + 1].kind == "word")
        if _before_unit(toks, k) or _is(toks, k, "of"):
            return _Num(i, k, None, "words", NOT_WHOLE)
        return None
    for half in words("and_half"):
        if " " not in half and tok.folded.endswith(half) and len(tok.folded) > len(half):
            if _one_word_value(tok.folded[: -len(half)], langs):
                return _Num(i, i + 1, None, "words", NOT_WHOLE)
    return None


# ---------------------------------------------------------------- noise


def _is_noise(toks: Sequence[_Tok], num: _Num) -> bool:
    """Money, percentages, times, sizes, dates, reference, phone and street numbers."""
    i, j = num.i, num.j
    after = j + (j < len(toks) and toks[j].text == "." and _glued(toks, j))
    if any(_is(toks, j, kind) for kind in _NOT_QUANTITY_AFTER):
        return True
    if any(_match_before(toks, i, kind) is not None for kind in _NOT_QUANTITY_BEFORE):
        return True
    if i > 0 and toks[i - 1].text == "@":
        return True
    return _is_date(toks, i, after) or _after_label(toks, i) or _near_street(toks, i, j)


def _is_date(toks: Sequence[_Tok], i: int, after: int) -> bool:
    """ "3. Januar", "15 de marzo", "the 3rd of May", "March 3", "Sept 15"."""
    k = after
    if _is(toks, k, "of"):
        k = _match(toks, k, "of") or k
    if _is(toks, k, "month"):
        return True
    before = i - 1 - (i > 1 and toks[i - 1].folded in ("the", "le", "el", "il"))
    if before >= 0 and _is(toks, before, "month") and toks[before].kind == "word":
        return True
    lone_month = _is(toks, i, "month") and after - i == 1
    return lone_month and any(0 <= n < len(toks) and toks[n].kind == "num" for n in (i - 1, after))


def _after_label(toks: Sequence[_Tok], i: int) -> bool:
    """ "Ref: 88231", "PO 4471", "Nr. 5", "tel 030 1234", "# 10250"."""
    k = i
    while k > 0 and toks[k - 1].text in ":#.-°º" and i - k < 2:
        k -= 1
    if any(_match_before(toks, end, "reference") is not None for end in {i, k}):
        return True
    # "phone: 030 1234" is a phone number; "on the phone: 15 Vegie-spread" is not.
    phone = any(_match_before(toks, end, "phone") is not None for end in {i, k})
    return phone and _digits_from(toks, i) >= _LONGEST_DIGIT_RUN


def _digits_from(toks: Sequence[_Tok], i: int) -> int:
    """Digits in the run of numbers (with phone punctuation) that starts at token i."""
    count = 0
    for tok in toks[i:]:
        if tok.kind == "num":
            count += sum(ch.isdigit() for ch in tok.text)
        elif tok.text not in "-./()+":
            break
    return count


def _near_street(toks: Sequence[_Tok], i: int, j: int) -> bool:
    """ "Obere Str. 57", "Via Roma 12", "Hauptstraße 5", "12 rue de la Paix", "12 Main Street"."""
    for k in range(i - 1, max(-1, i - 4), -1):
        tok = toks[k]
        if tok.text in ",;" or tok.kind == "num":
            break
        if _is(toks, k, "street_before") or (tok.kind == "word" and _street_compound(tok)):
            return True
    for k in range(j, min(len(toks), j + 3)):
        if toks[k].text in ",;" or toks[k].kind == "num":
            break
        if _is(toks, k, "street_after"):
            return True
    return False


def _street_compound(tok: _Tok) -> bool:
    return any(tok.folded.endswith(end) for end in words("street_suffix"))


# ---------------------------------------------------------------- spans


def _candidates(toks: Sequence[_Tok], langs: Sequence[str]) -> list[_Num]:
    """Every number in the segment, non-overlapping, earliest and longest first."""
    found, blocked = _digit_numbers(toks)
    blocked |= _fixed_phrases(toks)
    for number in (*_word_numbers(toks, langs), *_lexicon_numbers(toks, langs)):
        if blocked.isdisjoint(range(number.i, number.j)):
            found.append(number)
    found.sort(key=lambda n: (n.i, n.i - n.j))
    kept: list[_Num] = []
    for number in found:
        if not kept or number.i >= kept[-1].j:
            kept.append(number)
    return [number for number in kept if not _is_noise(toks, number)]


def _fixed_phrases(toks: Sequence[_Tok]) -> set[int]:
    """Tokens of phrases whose number words are no quantity: "mil gracias", "por ciento"."""
    inside: set[int] = set()
    for i in range(len(toks)):
        for kind in ("courtesy", "not_quantity", "percent"):
            end = _match(toks, i, kind)
            if end is not None and end - i > 1:
                inside.update(range(i, end))
    return inside


def _digit_numbers(toks: Sequence[_Tok]) -> tuple[list[_Num], set[int]]:
    """Numbers written in digits, and the tokens of digit runs that are not quantities."""
    found: list[_Num] = []
    blocked: set[int] = set()
    skip_until = 0
    for i, tok in enumerate(toks):
        if i < skip_until:
            continue
        if tok.kind == "frac":
            found.append(_Num(i, i + 1, None, "digits", NOT_WHOLE))  # "½"
        elif tok.kind == "num":
            read = _digit_number(toks, i)
            if isinstance(read, int):
                blocked.update(range(i, read))
                skip_until = read
            else:
                found.append(read)
                skip_until = read.j
    return found, blocked


def _grow(text: str, toks: Sequence[_Tok], num: _Num, taken: int) -> tuple[QuantitySpan, int]:
    """The number with its unit, linking word, markers and brackets: (span, next token)."""
    value, form, refused = num.value, num.form, num.refused
    k = num.j
    half = _match(toks, k, "and_half")
    if half is not None:
        refused, k = NOT_WHOLE, half
    if form not in ("dozen", "phrase") and (_is(toks, k, "dozen") or _is(toks, k, "dozens")):
        value, form, k = (value * 12 if value is not None else None), "dozen", k + 1
    prefix_x = num.marker is None and _is_prefix_x(toks, k)
    k += prefix_x
    unit_end = _match(toks, k, "unit")
    unit = text[toks[k].start : toks[unit_end - 1].end] if unit_end else None
    k = unit_end or k
    if unit or form in ("dozen", "phrase", "article"):
        k = _match(toks, k, "of") or k
    h, marker, refused = _left(toks, num, taken, refused)
    if h > 0 and toks[h - 1].text == "(" and h - 1 >= taken and _is_text(toks, k, ")"):
        h, k, marker = h - 1, k + 1, marker or "()"
    approx = _match_before(toks, h, "approx") if marker is None else None
    if approx is not None and approx >= taken:
        h = approx
    if prefix_x:
        marker = "x"
    prefix = prefix_x or bool(unit) or form in ("dozen", "phrase", "article")
    start, end = toks[h].start, toks[k - 1].end
    span = QuantitySpan(
        start=start,
        end=end,
        value=None if refused else value,
        raw=text[start:end],
        binds=_binds(toks, h, k, marker if not prefix_x else None, prefix),
        form=form,
        unit=unit,
        marker=marker,
        refused=refused,
        approximate=approx is not None and h == approx,
    )
    return span, k


def _is_prefix_x(toks: Sequence[_Tok], k: int) -> bool:
    """ "12 x tofu", "12x tofu": an x between the number and a word."""
    return k + 1 < len(toks) and toks[k].folded in _X and toks[k + 1].kind == "word"


def _is_text(toks: Sequence[_Tok], k: int, text: str) -> bool:
    return 0 <= k < len(toks) and toks[k].text == text


def _left(
    toks: Sequence[_Tok], num: _Num, taken: int, refused: str | None
) -> tuple[int, str | None, str | None]:
    """Grow leftwards over a postfix marker, a quantity label or a minus word."""
    h, marker = num.i, num.marker
    prev = toks[h - 1] if h - 1 >= taken else None
    if prev is not None and marker is None:
        if prev.folded in _X:
            h, marker = h - 1, "x" if prev.kind == "word" else prev.text
        elif prev.folded in _DASHES and h - 2 >= 0 and (toks[h].gap or num.form != "digits"):
            h, marker = h - 1, "-"  # "tofu - 12"; a dash with nothing before is a bullet
        elif prev.text in ":=":
            h, marker = h - 1, prev.text
    label = _match_before(toks, h, "qty")
    if label is not None and label >= taken:
        h, marker = label, "qty"
    minus = _match_before(toks, h, "minus")
    if marker is None and minus is not None and minus >= taken:
        h, refused = minus, NEGATIVE
    return h, marker, refused


def _binds(toks: Sequence[_Tok], h: int, k: int, marker: str | None, prefix: bool) -> Binds:
    if marker in _POSTFIX:
        return "left"
    if prefix:
        return "right"
    before = any(tok.kind == "word" for tok in toks[:h])
    after = any(tok.kind == "word" for tok in toks[k:])
    if not before and after:
        return "right"
    if before and not after:
        return "left"
    return "either"


@functools.lru_cache(maxsize=4096)
def _find(text: str, lang: str | None) -> tuple[QuantitySpan, ...]:
    toks = _tokenize(text)
    langs = LANGUAGES if lang is None else (lang,)
    spans: list[QuantitySpan] = []
    taken = 0
    for num in _candidates(toks, langs):
        if num.i < taken:
            continue
        span, taken = _grow(text, toks, num, taken)
        spans.append(span)
    return tuple(spans)


def find_quantities(text: str, lang: str | None = None) -> list[QuantitySpan]:
    """The quantities in one segment (a line or a comma-separated part), left to right.

    `lang` limits number words to one language ("en", "de", "es", "fr", "pt", "it");
    None reads all six. Offsets are into `text`: `text[span.start:span.end] == span.raw`.
    """
    return list(_find(text, lang))


def read_quantity(text: str, lang: str | None = None) -> Quantity:
    """`text` read as one quantity: "12", "1,000", "zwölf", "a dozen", "12 pcs".

    A text that is not one quantity is refused: "3.5" and "½" are not whole numbers,
    "-5" and "minus five" are negative, "5 €" or "tofu" are not a number.
    """
    stripped = text.strip()
    spans = find_quantities(stripped, lang)
    if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(stripped):
        return Quantity(spans[0].value, spans[0].refused)
    return Quantity(None, NOT_NUMBER)


def parse_number(text: str, lang: str | None = None) -> int | None:
    """The whole number `text` writes, or None (fractions, negatives, money, words)."""
    return read_quantity(text, lang).value


__all__ = [
    "NEGATIVE",
    "NOT_NUMBER",
    "NOT_WHOLE",
    "RANGE",
    "ZERO",
    "Quantity",
    "QuantitySpan",
    "find_quantities",
    "parse_number",
    "read_quantity",
]
