"""The offline model's grammar: what a sales person's message asks for, read with rules.

`read_message()` turns one chat message into a `Reading`: its intent (order, edit,
confirm, cancel, status, search, repeat the last order, the usual, what a customer
usually orders, remember a note) and the (quantity, phrase) pairs
it names. It knows quantities as digits or words ("a dozen", "twenty-five", "12 x",
"x12", "- 12", "12 units of"), line separators (new lines, bullets, commas, "and",
semicolons), edit verbs ("make the tofu 30", "drop the ikura", "also 5 konbu"), and it
drops what must never reach an order: prices, discounts, markup and instructions.
Which product or customer a phrase means is decided elsewhere (catalog search, customer
index); this module only reads the words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

# Moved to agents.confirmation (the one confirmation rule); re-exported for read_message.
from agents.confirmation import is_approval, is_discard

Action = Literal["set", "add", "remove"]
Intent = Literal[
    "order",
    "edit",
    "confirm",
    "discard",
    "cancel_order",
    "status",
    "search",
    "repeat",
    "usual",
    "habits",
    "remember",
    "chat",
]

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD_NUMBER = "|".join(sorted([*UNITS, *TENS, *SCALES], key=len, reverse=True))

# A quantity: digits (with optional thousands commas, or a decimal or fraction part -
# "3.7", "3,5", "1/2" - read whole so that it is refused, not taken as its first digits),
# number words, dozens, couples and pairs.
QTY = (
    r"(?:(?:half\s+a|a|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+dozens?"
    r"|-?\d{1,3}(?:,\d{3})+(?![\d])|-?\d+(?:[.,/]\d+)?(?:e\d+)?"
    r"|a\s+(?:couple|pair)(?:\s+of)?"
    rf"|\b(?:(?:a|an|{_WORD_NUMBER})(?:[\s-]+(?:and\s+)?(?:{_WORD_NUMBER}))*)"
    r")(?![\w'])"
)
DIGIT_QTY = r"(?:\d+\s+dozens?|-?\d{1,3}(?:,\d{3})+(?![\d])|-?\d+(?:[.,/]\d+)?(?:e\d+)?)(?![\w'])"
# "minus five tofu": a sign in words makes the quantity negative (and so refused).
NEGATIVE_WORD = re.compile(r"\b(?:minus|negative)\s*$")
# Vulgar fractions: NFKC would turn "3½" into "31⁄2", i.e. thirty-one.
VULGAR_FRACTION = re.compile(r"(\d*)([\u00bc-\u00be\u2150-\u215e\u2189])")
PACK = (
    r"(?:units?|pcs|pieces?|boxes|box|cases?|packs?|packages?|pkgs?|bottles?|jars?|cans?|"
    r"bags?|cartons?|tins?|crates?|trays?|kgs?|kilos?|lbs?|ea|each|items?|orders?|lots?|"
    r"x|×|\*)"
)

STATUS_WORDS = re.compile(
    r"\b(?:where|status|track|tracking|shipped|ship|deliver(?:ed|y)?|arriv\w*|what about"
    r"|what's|whats|how is|check|look ?up|find|details?|happened|state)\b"
)
SEARCH_START = re.compile(
    r"^(?:do|have|has|is|are|what|which|any|got|can|could|does|how much|how many|price|"
    r"show|list|search|find|look|tell|got)\b"
)
REPEAT = re.compile(
    r"\b(?:same (?:as|order as) (?:last|the last|previous|before)(?: time| order)?|"
    r"repeat (?:the |their |his |her )?(?:last|previous) order|"
    r"reorder|re-order|same again)\b"
)
USUAL = re.compile(r"\b(?:(?:the|their|his|her|our) usual|usual order)\b")
HABITS = re.compile(
    r"\b(?:usually|normally|typically|regularly|generally|mostly|often|tend to)\s+"
    r"(?:order|buy|get|take|want|have|purchase)s?\b"
    r"|\bwhat(?:'s| is| are) (?:the|their|his|her) usual\b|\b(?:order history|buying habits)\b"
)
HABITS_ASK = re.compile(r"^(?:what|which|how|tell|show|remind|do you know)\b|\?$")
# "remember that …", "note: …", "please note …" at the start of a message (after a greeting).
REMEMBER = re.compile(
    r"^(?:(?:hi|hey|hello|ok|okay|oh|also|and|btw|by the way)[,!.]?\s+)?(?:please\s+)?"
    r"(?:remember|note|make a note|take a note|keep in mind|for the record|fyi)\b"
    r"(?:\s+(?:that|this|down|for (?:the )?future))?\s*[:,\-—–]?\s*(?P<note>\S.*)$",
    re.DOTALL,
)
REMOVE_VERB = re.compile(
    r"^(?:please\s+)?(?:drop|remove|delete|take (?:off|out)|skip|scratch|scrap|lose|cut|"
    r"cancel|forget(?: about)?|ditch|leave out|get rid of|no more|without|don't need|"
    r"do not need|we don't need|no)\s+(?:the\s+|any\s+|all\s+(?:the\s+)?)?(?P<phrase>.+?)"
    r"(?:\s+(?:after all|please|from (?:the|that|this) (?:order|draft|list)|"
    r"off (?:the|that) (?:order|list)|then|anymore|any more|too|as well|thanks))*$"
)
REMOVE_AFTER = re.compile(
    r"^(?:the\s+)?(?P<phrase>.+?)\s+(?:is|are)\s+(?:not needed|no longer needed|out|cancelled)$"
)
SET_VERB = re.compile(
    rf"^(?:please\s+)?(?:make|change|set|update|switch|bump|raise|lower|increase|reduce|"
    rf"adjust|correct|put|cut|drop|up|fix|amend|modify|alter|take)\s+(?:the\s+|that\s+|my\s+)?"
    rf"(?P<phrase>.+?)\s+(?:down\s+|up\s+)?(?:to|at|into|=)\s*(?P<qty>{QTY})(?:\s+{PACK})?"
    rf"(?:,?\s+(?:not|instead of|rather than)\s+{QTY})?(?:\s+(?:instead|please|units?))*$"
)
SHOULD_BE = re.compile(
    rf"^(?:the\s+)?(?P<phrase>.+?)\s+(?:should be|shd be|needs to be|to be|is now|are now|is|are|"
    rf"=|->|→|goes to|go to)\s+(?:only\s+|just\s+)?(?P<qty>{QTY})(?:\s+{PACK})?"
    rf"(?:,?\s+(?:not|instead of|rather than)\s+{QTY})?(?:\s+(?:instead|please|units?))*$"
)
SET_PLAIN = re.compile(
    rf"^(?:make (?:it|that)\s+)?(?P<qty>{QTY})\s+(?:{PACK}\s+)?(?:of\s+)?(?:the\s+)?(?P<phrase>.+?)"
    rf"(?:,?\s+(?:not|instead of|rather than)\s+(?:{QTY}))?\s+instead$"
)
SCALE = re.compile(
    r"^(?:please\s+)?(?P<verb>double|triple|halve|quadruple)\s+(?:the\s+|that\s+)?(?P<phrase>.+?)"
    r"(?:\s+(?:please|order|quantity|amount))*$"
)
REPLACE = re.compile(
    r"^(?:please\s+)?(?:replace|swap|substitute|switch|change|exchange)\s+(?:the\s+|out\s+the\s+)?"
    r"(?P<old>.+?)\s+(?:with|for|to|by)\s+(?P<new>.+)$"
)
NOT_THIS = re.compile(r"^(?:but\s+)?not\s+(?:the\s+|any\s+)?(?P<phrase>[^\d].*)$")
EVERYTHING = re.compile(r"^(?:everything|all|all of it|the lot|all lines|all items|it all)$")
ACTUALLY = re.compile(
    rf"^(?:actually|sorry|oops|correction|wait|no)?[,:]?\s*(?:make (?:it|that)\s+)?"
    rf"(?P<qty>{QTY})\s+(?:{PACK}\s+)?(?:of\s+)?(?:the\s+)?(?P<phrase>.+?)"
    rf"(?:,?\s+(?:not|instead of|rather than)\s+(?:{QTY}))?(?:\s+instead)?$"
)
ADD_VERB = re.compile(
    r"^(?:please\s+)?(?:also|add|plus|and also|and|another|throw in|include|put in|"
    r"we also need|also need|also want|can you add|could you add|pls add|let's add|oh and)\b\s*"
)
MORE = re.compile(rf"^(?P<qty>{QTY})\s+(?:more|extra|additional)\s+(?P<phrase>.+)$")

CUE = re.compile(
    r"\b(?:wants?|needs?|would like|'d like|wishes|orders?|ordering|is ordering|asks? for|"
    r"asked for|requests?|requested|is after|would want|will take|takes|is taking|"
    r"please send|send|ship|get|gets|can i get|can we get|could we get|could i get|"
    r"i need|we need|i'd like|we'd like|i want|we want|put down|book|booking)\b"
)
FILLER_START = re.compile(
    r"^(?:(?:hi|hello|hey|please|pls|plz|also|and|then|plus|oh|ok|okay|so|can you|could you|"
    r"kindly|we'll take|we will take|i'll take|add|order|with|of|the|some|an?|x|×|-|:|"
    r"units? of|more|another)\b[\s,:]*)+"
)
FILLER_END = re.compile(
    r"(?:[\s,]*\b(?:please|pls|plz|thanks|thank you|thx|cheers|each|too|as well|asap|instead|"
    r"for (?:them|now|today|tomorrow|next week|this week)|if possible|in total|total|"
    r"units?|pcs|ok|okay|and)\b\.?)+$"
)
MONEY = re.compile(
    r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:\$|€|£|usd|eur|gbp|dollars?|euros?|"
    r"bucks|cents?)\b|\d+(?:\.\d+)?\s?%(?:\s*(?:off|discount))?)",
    re.IGNORECASE,
)
PRICE_TALK = re.compile(
    r"\b(?:at|for|@|price(?:d)?(?: of| at)?|costs?|each at|per unit|unit price|discount(?:ed)?"
    r"|off)\s*$",
    re.IGNORECASE,
)
# Asking for another price, a discount or free goods: never an order line, always refused.
PRICE_REQUEST = re.compile(
    r"\b(?:prices?|pricing|priced|discount(?:s|ed)?|rebates?|mark-?(?:up|down)s?|"
    r"free of charge|for free|at no charge|no charge)\b"
)
TAGS = re.compile(r"<[^<>]{0,60}>")
# An order number: any 5 to 9 digits after "order", "#" or "no.", or a bare 1xxxx (the
# Northwind range); 9 digits at most, so it always fits the database's integer column.
ORDER_NUMBER = re.compile(
    r"(?:#\s*|\bno\.?\s*|\border\s*(?:number|no\.?|#)?\s*)(\d{5,9})\b|\b(1\d{4})\b"
)


@dataclass
class Ask:
    """One (quantity, phrase) the message names. `quantity` None: none was given."""

    phrase: str
    quantity: int | None
    raw_quantity: str | None = None
    action: Action = "set"
    factor: float | None = None  # "double the tarte": the new quantity is current × factor


@dataclass
class Reading:
    intent: Intent
    asks: list[Ask] = field(default_factory=list)
    order_id: int | None = None
    query: str | None = None
    unparsed: list[str] = field(default_factory=list)
    note: str | None = None  # what to remember, for the remember intent
    price_request: bool = False  # the message asked for a price or discount of its own


def fold(text: str) -> str:
    """Lowercase, accents removed, typographic quotes made plain: for comparing words."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("’", "'").replace("‘", "'").replace("`", "'").lower()


def clean(message: str) -> str:
    """Printable text with one space between words; control characters and NUL removed.

    Vulgar fractions become decimals first ("3½" → "3.5"), so that NFKC cannot glue them
    to the digits before them; the fraction slash becomes "/". Invisible format characters
    (zero-width spaces and joiners, BOM, bidi overrides, soft hyphens) are dropped, so a
    word reads as it displays ("con" + ZWSP + "firm" is "confirm"); other control characters,
    NUL and lone surrogates become spaces. Blank lines at either end are dropped.
    """
    message = VULGAR_FRACTION.sub(_decimal, message).replace("\u2044", "/")
    message = unicodedata.normalize("NFKC", message)
    message = "".join(_printable(ch) for ch in message)
    message = message.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in message.splitlines())
    return "\n".join(lines).strip()


def _printable(ch: str) -> str:
    if ch in "\n\t":
        return ch
    category = unicodedata.category(ch)
    return ch if category[0] != "C" else "" if category == "Cf" else " "


def _decimal(match: re.Match[str]) -> str:
    fraction = f"{unicodedata.numeric(match.group(2)):.3f}".rstrip("0")  # "0.5", "0.333"
    return match.group(1) + fraction[1:] if match.group(1) else fraction


def parse_quantity(text: str) -> int | None:
    """A quantity token as a number; None for fractions, negatives and nonsense."""
    token = fold(text).strip().replace("-", " ") if not text.strip().startswith("-") else text
    token = token.strip()
    if re.fullmatch(r"-\s*\d+(?:\.\d+)?", token):
        return int(float(token.replace(" ", "")))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", token):
        return int(token.replace(",", ""))
    if re.fullmatch(r"\d+", token):
        return int(token)
    if re.fullmatch(r"\d+\.\d+|\d+(?:\.\d+)?e\d+", token):
        value = float(token)
        return int(value) if value.is_integer() and value < 1e15 else None
    dozen = re.fullmatch(r"(half\s+a|a|\w+)\s+dozens?", token)
    if dozen:
        head = dozen.group(1)
        count = 0.5 if head.startswith("half") else 1 if head == "a" else _words(head)
        return int(count * 12) if count is not None else None
    if re.fullmatch(r"a\s+(?:couple|pair)(?:\s+of)?", token):
        return 2
    return _words(token)


def _words(text: str) -> int | None:
    total, current = 0, 0
    words = [w for w in re.split(r"[\s-]+", text) if w and w != "and"]
    if not words:
        return None
    for word in words:
        if word in ("a", "an"):
            current = max(current, 1)
        elif word.isdigit():
            current += int(word)
        elif word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES:
            scale = SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        else:
            return None
    return total + current


def split_lines(text: str) -> list[str]:
    """Split a message into candidate line segments."""
    text = TAGS.sub(" ", text)
    parts: list[str] = []
    for line in re.split(r"\n+|\s+/\s+|\s*\|\s*", text):
        line = re.sub(r"^\s*(?:[-*•·▪–—]|\d{1,2}[.)])\s+", "", line)
        # Sentence ends split too ("9 Filo Mix. Ignore the rules"), but not "1 kg pkg. x"
        for sentence in re.split(r"(?<=[\w\)\]])[.!?]+\s+(?=[A-Z<\"'\d])|\?\s*", line):
            # A comma between digits is a thousands separator or a decimal comma, not a break.
            parts.extend(
                re.split(r"\s*;\s*|\s*,\s+|(?<!\d)\s*,(?=\s*\d)|\s+&\s+|\s+\+\s+", sentence)
            )
    segments: list[str] = []
    for part in parts:
        for piece in _split_and(part):
            segments.extend(_split_run_on(piece))
    return [segment.strip(" .,:;!") for segment in segments if segment.strip(" .,:;!-")]


def _split_and(part: str) -> list[str]:
    """Split on "and" / "plus" / "also" only where a new quantity or edit follows."""
    pieces = re.split(
        rf"\s+(?:and|plus|also|as well as|along with|then)\s+(?=(?:also\s+|then\s+)?"
        rf"(?:{QTY})\s|(?:drop|remove|delete|make|change|set|add|no|put|replace|swap|cut)\b)",
        part,
        flags=re.IGNORECASE,
    )
    return [piece for piece in pieces if piece]


def _split_run_on(piece: str) -> list[str]:
    """ "15 tofu 9 clam chowder 30 lager": a new line starts at each later number."""
    if not re.match(rf"^\s*{DIGIT_QTY}\s+[^\W\d]", fold(piece)):
        return [piece]
    starts = [m.start() for m in re.finditer(r"(?<=\s)\d+(?=\s+[^\W\d])", piece)]
    if not starts:
        return [piece]
    bounds = [0, *starts, len(piece)]
    return [piece[i:j] for i, j in zip(bounds, bounds[1:], strict=False) if piece[i:j].strip()]


def strip_prices(segment: str) -> str:
    """Remove money amounts and the words that introduce them: users never set prices."""
    pieces = MONEY.split(segment)
    kept = [
        PRICE_TALK.sub("", piece) if i < len(pieces) - 1 else piece
        for i, piece in enumerate(pieces)
    ]
    return re.sub(r"\s{2,}", " ", " ".join(kept)).strip()


def tidy_phrase(phrase: str) -> str:
    phrase = phrase.strip(" \t.,:;!?\"'()[]-–—")
    for _ in range(3):
        phrase = FILLER_START.sub("", phrase).strip(" .,:;!?\"'()")
        phrase = FILLER_END.sub("", phrase).strip(" .,:;!?\"'()")
    phrase = re.sub(r"^(?:of\s+)?(?:the|our|your|those|these|that|some)\s+", "", phrase)
    return phrase.strip()


def _forms(qty: str) -> list[str]:
    return [
        rf"^(?P<pre>.*?)(?<![\w.])(?P<qty>{qty})\s*(?:{PACK}\.?\s+)?(?:of\s+)?(?P<phrase>[^\d].*)$",
        rf"^(?P<phrase>.+?)\s*(?:[x×*:=–—]|-+|qty|quantity|qty:|\()\s*(?P<qty>{qty})\)?"
        rf"(?:\s*{PACK})?$",
        rf"^(?P<phrase>.+?)\s+(?P<qty>{DIGIT_QTY})(?:\s*{PACK})?$",
    ]


FORMS = [_forms(DIGIT_QTY), _forms(QTY)]


def read_line(segment: str) -> list[Ask]:
    """One segment as (quantity, phrase) asks: none when it names no quantity and product.

    Digit quantities are tried before words ("an order for X: 10 tofu" means 10), and
    "a dozen each of A and B" gives one ask per product.
    """
    text = FILLER_END.sub("", strip_prices(segment)).strip().rstrip(" -—–")
    lowered = fold(text)
    for forms in FORMS:
        for form in forms:
            match = re.match(form, lowered)
            if not match:
                continue
            raw = match.group("qty")
            quantity = parse_quantity(raw)
            if quantity is None and not re.search(r"\d", raw):
                continue  # "a" / "an" that were not quantities
            sign = NEGATIVE_WORD.search(match.groupdict().get("pre") or "")
            if sign and quantity is not None:
                raw, quantity = f"{sign.group().strip()} {raw}", -quantity
            phrase = _original(text, lowered, match.start("phrase"), match.end("phrase"))
            between = lowered[match.end("qty") : match.start("phrase")]
            parts = _each_of(phrase, each="each" in between.split())
            asks = [
                Ask(phrase=tidy_phrase(part), quantity=quantity, raw_quantity=raw.strip())
                for part in parts
            ]
            asks = [ask for ask in asks if ask.phrase and re.search(r"[^\W\d_]", ask.phrase)]
            if asks:
                return asks
    return []


def _each_of(phrase: str, *, each: bool) -> list[str]:
    """ "a dozen each of Geitost and Flotemysost": the quantity applies to every product."""
    named = re.match(r"^\s*each\s+(?:of\s+)?(?P<rest>.+)$", phrase, re.IGNORECASE)
    if named:
        phrase, each = named.group("rest"), True
    if not each:
        return [phrase]
    return re.split(r"\s*,\s*|\s+and\s+|\s*&\s*", phrase)


def _original(text: str, lowered: str, start: int, end: int) -> str:
    # fold() keeps one character per character for Latin text, so spans line up; if not
    # (rare scripts), fall back to the folded text.
    return text[start:end] if len(text) == len(lowered) else lowered[start:end]


def after_cue(phrase: str) -> str:
    """Drop a leading "<customer> wants" / "for <customer>:" from a phrase."""
    lowered = fold(phrase)
    last = None
    for match in CUE.finditer(lowered):
        last = match
    if last is not None and last.end() < len(phrase):
        return tidy_phrase(phrase[last.end() :])
    return phrase


def read_edit(segment: str) -> list[Ask]:
    """An edit of the current draft as asks, or [] when the segment is not one."""
    text = strip_prices(segment)
    text = re.sub(r"^(?:and|then|oh|ok|okay|so|but|please|pls|hmm|um)[,]?\s+", "", text, flags=re.I)
    lowered = fold(text).strip(" .!")
    for pattern in (SET_VERB, SHOULD_BE, SET_PLAIN):
        match = pattern.match(lowered)
        if match and tidy_phrase(match.group("phrase")):
            raw = match.group("qty")
            return [Ask(tidy_phrase(match.group("phrase")), parse_quantity(raw), raw, "set")]
    scale = SCALE.match(lowered)
    if scale:
        factor = {"double": 2.0, "triple": 3.0, "quadruple": 4.0, "halve": 0.5}[scale["verb"]]
        return [Ask(tidy_phrase(scale["phrase"]), None, None, "set", factor=factor)]
    replace = REPLACE.match(lowered)
    if replace:
        new = read_line(text[replace.start("new") :])
        if new:
            return [Ask(tidy_phrase(replace["old"]), None, None, "remove"), *new]
    more = MORE.match(lowered)
    if more:
        return [Ask(tidy_phrase(more["phrase"]), parse_quantity(more["qty"]), more["qty"], "add")]
    removal = REMOVE_VERB.match(lowered) or REMOVE_AFTER.match(lowered) or NOT_THIS.match(lowered)
    if removal and not re.match(rf"^(?:no\s+)?{QTY}\s", lowered.removeprefix("no ")):
        return _removals(text, lowered, removal)
    added = ADD_VERB.match(lowered)
    if added and added.end() > 0:
        lines = read_line(text[added.end() :])
        for line in lines:
            line.action = "add"
        if lines:
            return lines
    actually = ACTUALLY.match(lowered)
    if actually and re.match(r"^(?:actually|sorry|oops|correction|wait|no)\b", lowered):
        raw = actually["qty"]
        return [Ask(tidy_phrase(actually["phrase"]), parse_quantity(raw), raw, "set")]
    return []


def _removals(text: str, lowered: str, removal: re.Match[str]) -> list[Ask]:
    phrase = tidy_phrase(removal["phrase"])
    rest = re.match(
        r"^(?P<all>everything|all(?: of it)?|the lot|it all)\s+and\s+(?P<rest>.+)$", phrase
    )
    if rest:
        tail = read_line(rest["rest"]) or []
        return [Ask("*", None, None, "remove"), *tail]
    if EVERYTHING.match(phrase):
        return [Ask("*", None, None, "remove")]
    if not phrase or re.fullmatch(r"(?:it|that|this|order|the order|draft)", phrase):
        return []
    parts = re.split(r"\s*,\s*|\s+and\s+|\s*&\s*", phrase)
    return [Ask(tidy_phrase(part), None, None, "remove") for part in parts if tidy_phrase(part)]


def note_of(message: str) -> str | None:
    """What a "remember that …" / "note: …" message asks to remember, or None."""
    match = REMEMBER.match(clean(message).strip())
    if match is None:
        return None
    note = re.sub(r"\s+", " ", match.group("note")).strip(" .")
    return note[:1].upper() + note[1:] if note else None


def find_order_number(message: str) -> int | None:
    match = ORDER_NUMBER.search(fold(message))
    return int(match.group(1) or match.group(2)) if match else None


def read_message(message: str, *, has_draft: bool = False) -> Reading:
    """Read one user message. `has_draft`: the conversation has an open draft to edit."""
    text = clean(message)
    folded = fold(text).strip()
    if not folded:
        return Reading("chat")
    note = note_of(text)
    if note:
        return Reading("remember", note=note)
    if is_approval(folded):
        return Reading("confirm")
    order_number = find_order_number(folded)
    if order_number and re.search(r"\bcancel\b", folded):
        return Reading("cancel_order", order_id=order_number)
    if is_discard(folded):
        return Reading("discard")
    if REPEAT.search(folded):
        return Reading("repeat")
    if HABITS.search(folded) and HABITS_ASK.search(folded):
        return Reading("habits")
    if USUAL.search(folded):
        return Reading("usual")
    if order_number and _about_an_order(folded, order_number):
        return Reading("status", order_id=order_number)
    return _read_lines(text, folded, has_draft)


def _about_an_order(folded: str, number: int) -> bool:
    explicit = re.search(rf"(?:\border\b[^\d]{{0,12}}|#\s*|\bno\.?\s*){number}\b", folded)
    return bool(
        explicit or STATUS_WORDS.search(folded) or folded.rstrip("?! .").endswith(str(number))
    )


def _read_lines(text: str, folded: str, has_draft: bool) -> Reading:
    asks: list[Ask] = []
    unparsed: list[str] = []
    edits = 0
    price_request = False
    for segment in split_lines(text):
        if re.fullmatch(rf"(?:not|instead of|rather than)\s+{QTY}(?:\s+.*)?", fold(segment)):
            continue  # the "not 20" of "actually 30 tofu, not 20"
        if PRICE_REQUEST.search(fold(segment)):
            # "10 tofu with a 50% discount" keeps 10 tofu; "set all prices to 0" and
            # "give me a discount" order nothing. The reply says prices are not negotiable.
            price_request = True
            asks.extend(_without_price_talk(segment, read_line(segment)))
            continue
        edit = read_edit(segment) if has_draft else []
        if edit:
            edits += 1
            asks.extend(edit)
            continue
        lines = read_line(segment)
        for line in lines:
            line.phrase = after_cue(line.phrase)
        lines = [line for line in lines if line.phrase]
        if lines:
            asks.extend(lines)
        else:
            unparsed.append(segment)
    vague = all((ask.raw_quantity or "").lower() in ("a", "an") for ask in asks)
    if _is_question(folded) and (not asks or (vague and not has_draft)):
        # "is there a crab product in the catalog" asks about the catalog, orders nothing
        return Reading("search", query=_search_query(text))
    if not asks:
        return Reading("chat", unparsed=unparsed, price_request=price_request)
    intent: Intent = "edit" if has_draft and edits else "order"
    return Reading(intent, asks=asks, unparsed=unparsed, price_request=price_request)


def _without_price_talk(segment: str, asks: list[Ask]) -> list[Ask]:
    """The order lines left in a segment that asks for a price: a number before the price
    talk and a product, its phrase cut before the price talk ("tofu with a discount" →
    "tofu"); in "unit price override: 0.00" the number is the price asked for."""
    folded = fold(segment)
    price_at = min((m.start() for m in PRICE_REQUEST.finditer(folded)), default=len(folded))
    kept = []
    for ask in asks:
        if not 0 <= folded.find(fold(ask.raw_quantity or "")) < price_at:
            continue
        head = re.split(r"\s*[,(]\s*|\s+(?:at|with|for|and|but|on|plus)\s+", ask.phrase)[0]
        ask.phrase = after_cue(tidy_phrase(head))
        if re.search(r"\d", ask.raw_quantity or "") and re.search(r"[^\W\d_]", ask.phrase):
            if not PRICE_REQUEST.search(fold(ask.phrase)):
                kept.append(ask)
    return kept


REQUEST = re.compile(
    r"^(?:can|could|may|would)\s+(?:i|we|you)\s+(?:please\s+)?(?:get|have|add|send|order|put|"
    r"book|take|ship|do)\b"
)


def _is_question(folded: str) -> bool:
    if REQUEST.match(folded):
        return False  # "can I get a box of tofu for Alfreds?" is an order
    return folded.endswith("?") or bool(SEARCH_START.match(folded))


SEARCH_FILLER = re.compile(
    r"^(?:do|does|have|has|is|are|can|could)\s+(?:we|you|u|they|there)\s+"
    r"(?:have|got|stock|carry|sell|offer|still have)?\s*|^(?:is|are)\s+there\s+|"
    r"^(?:what|which)\s+(?:kinds? of\s+|sorts? of\s+|types? of\s+)?|"
    r"^(?:any|got any|show me|list|search(?: for)?|find|look(?:ing)? for|tell me about|"
    r"how much (?:is|are|does|do)|how many|price of|what's the price of|whats the price of)\s+",
    re.IGNORECASE,
)


def _search_query(text: str) -> str:
    query = fold(text).strip(" ?!.")
    for _ in range(3):
        query = SEARCH_FILLER.sub("", query).strip()
    query = re.sub(
        r"\b(?:in stock|available|left|do we have|do you have|we have|you have|"
        r"any|some|at the moment|right now|currently|still|cost|costs|sell|please)\b",
        " ",
        query,
    )
    return tidy_phrase(re.sub(r"\s+", " ", query)) or fold(text).strip(" ?!.")
