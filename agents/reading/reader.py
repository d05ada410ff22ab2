"""The reader's entry point: one chat message as a `Reading` that accounts for every part.

`read_message()` returns the message's main intent and, beside it, every other request it
makes (status, cancel, search...), the order lines or draft edits it names, the order
header it gives (PO number, delivery date, ship-to, notes: `agents.reading.header`, read
first and cut out, so none of its numbers becomes a quantity), the customer reference it
used when that is not a known customer, what it set aside as ignorable (greetings,
signatures, reference numbers, phones) and what it could not read. The
caller (the offline model) resolves product phrases with catalog search and customers with
the customer index; nothing read here is dropped without a trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from agents import confirmation
from agents.reading import intents
from agents.reading.edits import is_not_quantity, read_edit, reference_of
from agents.reading.header import HeaderFound, find_header
from agents.reading.items import Ask, NameTerms, read_items, tidy
from agents.reading.lexicon import words
from agents.reading.numbers import find_quantities
from agents.reading.segments import layout, rejoin_abbreviations
from agents.reading.text import clean, fold

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
    "header",
    "chat",
]

# Asking for another price, a discount or free goods: never an order line, always refused.
PRICE_REQUEST = re.compile(
    r"\b(?:prices?|pricing|priced|discount(?:s|ed)?|rebates?|mark-?(?:up|down)s?|"
    r"free of charge|for free|at no charge|no charge|rabatt|descuento|remise|desconto|sconto)\b"
)
MONEY = re.compile(
    r"(?:[$€£]\s?\d[\d,.]*|\d[\d,]*(?:\.\d+)?\s?(?:\$|€|£|usd|eur|gbp|dollars?|euros?|"
    r"bucks|cents?)\b|\d+(?:[.,]\d+)?\s?%(?:\s*(?:off|discount))?)",
    re.IGNORECASE,
)
PRICE_TALK = re.compile(
    r"\b(?:at|for|@|price(?:d)?(?: of| at)?|costs?|each at|per unit|unit price|discount(?:ed)?"
    r"|off|a|à|zu|je|por|pour|per)\s*@?\s*$",
    re.IGNORECASE,
)
TAGS = re.compile(r"<[^<>@]{0,60}>")  # markup, not "<maria@alfreds.de>"
_SENTENCE = re.compile(r"(?<=[?!])\s+|\n+|(?<=[^\W\d_]{2})\.\s+(?=[A-Z¿¡])")


@dataclass
class Reading:
    intent: Intent
    asks: list[Ask] = field(default_factory=list)
    order_id: int | None = None
    query: str | None = None
    unparsed: list[str] = field(default_factory=list)  # item-like or unclear text, to name
    leftovers: list[str] = field(default_factory=list)  # words with no quantity: search them
    note: str | None = None  # what to remember, for the remember intent
    price_request: bool = False  # the message asked for a price or discount of its own
    requests: list[intents.Request] = field(default_factory=list)  # further requests
    ignored: list[str] = field(default_factory=list)  # greeting, signature, PO 4471-B...
    customer_phrase: str | None = None  # "Acme Widgets" of "Acme Widgets wants 5 tofu"
    headers: dict[str, str] = field(default_factory=dict)  # e-mail header fields (From:...)
    order_header: HeaderFound = field(default_factory=HeaderFound)  # PO, date, ship-to, notes


def strip_prices(segment: str) -> str:
    """Remove money amounts and the words that introduce them: users never set prices."""
    pieces = MONEY.split(segment)
    kept = [
        PRICE_TALK.sub("", piece) if i < len(pieces) - 1 else piece
        for i, piece in enumerate(pieces)
    ]
    return re.sub(r"\s{2,}", " ", " ".join(kept)).strip()


def read_message(
    message: str, *, has_draft: bool = False, names: NameTerms | None = None
) -> Reading:
    """Read one user message. `has_draft`: the conversation has an open draft to edit;
    `names`: the numbers the catalog writes inside product names."""
    header = find_header(TAGS.sub(" ", clean(message)), has_draft=has_draft)
    rest = header.rest
    if header and not re.search(r"\w", rest):
        rest = ""  # "PO 7781." - what the header leaves is punctuation
    reading = _read_rest(rest, has_draft, names)
    reading.order_header = header
    if header and reading.intent == "chat" and not reading.price_request:
        reading.intent = "header"  # "PO is 7781", "deliver on the 20th": the header only
    return reading


def _read_rest(text: str, has_draft: bool, names: NameTerms | None) -> Reading:
    """The message without its order header: every request and line it holds."""
    folded = fold(text).strip()
    if not folded:
        return Reading("chat")
    note = intents.note_of(text)
    if note and not _orders_below(text):
        return Reading("remember", note=note)
    if confirmation.is_approval(folded):
        return Reading("confirm")
    requests, rest = _requests(text)
    if confirmation.is_discard(folded) and not requests:
        return Reading("discard")
    whole = intents.whole_message_request(folded)
    if whole is not None and not find_quantities(folded):
        return Reading(whole.intent)  # type: ignore[arg-type]
    reading = _read_lines(rest, has_draft, names)
    reading.requests = requests
    searched = [r.query for r in requests if r.intent == "search" and r.query]
    for ask in reading.asks:
        if len(searched) == 1 and ask.quantity is not None and not ask.phrase:
            ask.phrase = searched[0]  # "do you sell maple syrup? Put 12 of it down for …"
    if not reading.asks and requests:
        first = requests.pop(0)
        reading.intent = first.intent  # type: ignore[assignment]
        reading.order_id, reading.query = first.order_id, first.query
    elif not reading.asks and reading.intent == "chat" and whole is not None:
        reading.intent = whole.intent  # type: ignore[assignment]
    return reading


_HESITATION = frozenset({"no", "nein", "non", "nao", "ok", "okay", "oh", "hmm", "um", "ah", "ach"})


def _only_correction(folded: str) -> bool:
    """ "sorry", "no wait", "ach nein": a correction with nothing else in it."""
    tokens = [t.strip(" ,.!:;-—") for t in folded.split()]
    corrections = words("correction")
    return (
        bool(tokens)
        and (
            folded.strip(" ,.!:;") in corrections
            or all(t in corrections or t in _HESITATION for t in tokens if t)
        )
        and any(t in corrections for t in tokens)
    )


def _orders_below(text: str) -> bool:
    """ "FYI see below, can you put this in?" over an email of order lines is an order,
    not a note to remember."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) >= 3 and any(find_quantities(line) for line in lines[1:])


def _requests(text: str) -> tuple[list[intents.Request], str]:
    """Status and cancel requests, sentence by sentence; the rest of the text to read."""
    found: list[intents.Request] = []
    rest: list[str] = []
    sentences = [s for s in rejoin_abbreviations(text, _SENTENCE.split(text)) if s.strip()]
    several = len(sentences) > 1
    for sentence in sentences:
        clauses = _clauses(sentence)
        several = several or len(clauses) > 1
        for clause in clauses:
            body = re.sub(r"^(?:and|und|y|et|e|also)\s+", "", clause.strip(), flags=re.I)
            quantities = [q for q in find_quantities(body) if not _is_order_number(q.raw)]
            request = intents.sentence_request(body, has_quantity=bool(quantities))
            if request is None and several and not quantities:
                request = _question(body)
            if request is not None and _same_question(request, found):
                continue  # "Do we still carry X? what does it cost": one question about X
            if request is not None:
                found.append(request)
            else:
                rest.append(clause)
    return found, "\n".join(rest)


_PRONOUNS = frozenset("it its they them that this those these does do is are cost costs".split())


def _same_question(request: intents.Request, found: list[intents.Request]) -> bool:
    """A catalog question about "it" right after one about a product is about that product."""
    if request.intent != "search" or not any(r.intent == "search" for r in found):
        return False
    return set(fold(request.query or "").split()) <= _PRONOUNS


_QUESTION_AFTER = re.compile(
    r"\b(?:and|und|y|et|e)\s+(?:what|where|how|do|does|is|are|can|wo|was|wie|que|donde|"
    r"cuanto|ou|quel|combien|onde|quanto|dove|cosa)\b"
)
_CLAUSE = re.compile(r"\s+[—–-]+\s+|\s*;\s*|,?\s+(?:and|und|y|et|e)\s+(?=[^\W\d_])", re.I)


def _clauses(sentence: str) -> list[str]:
    """A sentence that names an order number and also orders ("check order 10835 — and add
    4 Vegie-spread") is read clause by clause; any other sentence stays whole."""
    number = intents.find_order_number(sentence)
    asks = _QUESTION_AFTER.search(fold(sentence))
    if number is None and not asks:
        return [sentence]
    quantities = [q for q in find_quantities(sentence) if not _is_order_number(q.raw)]
    if not quantities:
        return [sentence]
    return [c for c in _CLAUSE.split(sentence) if c and c.strip()]


_ASKS_TO_ORDER = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|we|i|u)\s+(?:please\s+)?(?:put|add|send|book|enter|"
    r"order|process|take|ship|deliver|get)\b"
)


def _question(sentence: str) -> intents.Request | None:
    """In a message of several sentences, one that asks what we know or what the catalog
    has ("what did Alfreds order last time?", "what's the price of Ikura?")."""
    folded = fold(sentence).strip()
    whole = intents.whole_message_request(folded)
    if whole is not None and whole.intent == "habits":
        return whole
    if _ASKS_TO_ORDER.search(folded):
        return None  # "can you put this in?": a request to enter the order, not a question
    if intents.is_question(folded) and not confirmation.is_approval(folded):
        return intents.Request("search", query=search_query(sentence), text=sentence)
    return None


def _is_order_number(raw: str) -> bool:
    return bool(re.fullmatch(r"1\d{4}|\d{6,9}", raw.strip()))


# "12 Flotemysost (not 10)", "30 tofu instead of 20": the number corrected is no line.
_CORRECTED = re.compile(
    r"\(?\s*\b(?:not|instead of|rather than|nicht|statt|anstatt|no|en lugar de|en vez de|"
    r"pas|au lieu de|nao|em vez de|non|invece di)\s+\d+\s*\)?(?=\s*(?:[,;.)]|$))",
    re.IGNORECASE,
)


def _pair_orphans(asks: list[Ask]) -> list[Ask]:
    """ "Item: Outback Lager" then "Qty: 12", or "out of Sasquatch Ale. Please send 36": a
    quantity with no product takes the product words next to it that have no quantity."""
    out: list[Ask] = []
    for ask in asks:
        previous = out[-1] if out else None
        if (
            not ask.phrase
            and ask.quantity is not None
            and previous is not None
            and previous.quantity is not None
            and _corrects(previous, ask)
        ):
            previous.quantity, previous.raw_quantity = ask.quantity, ask.raw_quantity
            continue  # "12 tofu — sorry, 14"
        if (
            not ask.phrase
            and ask.quantity is not None
            and previous is not None
            and previous.quantity is None
            and previous.raw_quantity is None
            and previous.phrase
            and previous.action == "set"
        ):
            previous.quantity, previous.raw_quantity = ask.quantity, ask.raw_quantity
            previous.unit = ask.unit
            continue
        out.append(ask)
    return out


def _corrects(previous: Ask, ask: Ask) -> bool:
    """A bare number right after a correction word ("12 tofu — sorry, 14", "12 tofu,
    I mean 14") restates the quantity before it."""
    corrections = words("correction")
    tail = fold(previous.source).split()[-2:]
    head = fold(ask.source).split()[:2]
    pairs = [" ".join(t.strip(",.:;—-") for t in part) for part in (tail, head)]
    return any(w.strip(",.:;—-") in corrections for w in tail + head) or any(
        pair in corrections for pair in pairs
    )


def _restate(asks: list[Ask], edit: list[Ask]) -> bool:
    """A "make the X N" in the message that named X: X's quantity is N (not N more)."""
    sets = [e for e in edit if e.action == "set" and e.phrase and e.quantity is not None]
    if not sets or len(sets) != len(edit):
        return False
    for change in sets:
        named = [a for a in asks if a.phrase and _same_product_words(a.phrase, change.phrase)]
        if len(named) != 1:
            return False
        named[0].quantity, named[0].raw_quantity = change.quantity, change.raw_quantity
    return True


def _same_product_words(phrase: str, other: str) -> bool:
    words_a, words_b = set(fold(phrase).split()), set(fold(other).split())
    return bool(words_b) and words_b <= words_a


def _drop_removed(asks: list[Ask], removals: list[Ask]) -> bool:
    """ "5 ikura, 3 konbu, actually no konbu": a removal in the same message takes back an
    earlier line of it. True when it did."""
    dropped = False
    for removal in removals:
        for ask in list(asks):
            if ask.phrase and _same_product_words(ask.phrase, removal.phrase):
                asks.remove(ask)
                dropped = True
    return dropped


def _read_lines(
    text: str, has_draft: bool, names: NameTerms | None = None, *, quoted: bool = False
) -> Reading:
    text = _CORRECTED.sub(" ", text)
    shape = layout(text, names)
    reading = Reading("chat", ignored=shape.ignored, headers=shape.headers)
    edits = 0
    carried = ""  # "12 tofu — sorry, 14": the correction word goes with what follows
    pointed: str | None = None
    for segment in shape.segments:
        piece = f"{carried} {segment.text}".strip()
        folded = fold(piece)
        carried = ""
        if _only_correction(folded):
            carried = piece
            continue
        if is_not_quantity(piece):
            continue  # the "not 20" of "actually 30 tofu, not 20"
        if PRICE_REQUEST.search(folded):
            # "10 tofu with a 50% discount" keeps 10 tofu; "set all prices to 0" and
            # "give me a discount" order nothing. The reply says prices are not negotiable.
            reading.price_request = True
            reading.asks.extend(_without_price_talk(piece))
            continue
        if has_draft and reference_of(piece) and not find_quantities(piece):
            pointed = reference_of(piece)  # "el primero, que sean 10": the line meant
            continue
        edit = read_edit(strip_prices(piece))
        if pointed:
            for ask in edit:
                if ask.reference == "it":
                    ask.reference = pointed
            pointed = None
        if not has_draft:
            removals = [ask for ask in edit if ask.action == "remove" and ask.phrase != "*"]
            if removals and len(removals) == len(edit) and _drop_removed(reading.asks, removals):
                continue
            if edit and _restate(reading.asks, edit):
                continue  # "escargots 24 - no wait make the escargots 20"
            edit = []
        if edit:
            edits += 1
            reading.asks.extend(edit)
            continue
        items = read_items(strip_prices(piece), names)
        reading.asks.extend(ask for ask in items.asks if ask.phrase or ask.quantity is not None)
        reading.leftovers.extend(items.leftovers)
        # Kept in the message's order too, so "the Cabrales, and make it 8" reads in turn.
        reading.asks.extend(Ask(phrase, None, source=piece) for phrase in items.leftovers)
        if items.customer_phrase and reading.customer_phrase is None:
            reading.customer_phrase = items.customer_phrase
    reading.asks = _pair_orphans(reading.asks)
    asked = any(a.quantity is not None or a.raw_quantity for a in reading.asks)
    if not asked and shape.quoted and not quoted:
        # A forward or reply whose only order is in the quoted part ("> we need 10 …"):
        # the quote is what the sender asks for. Otherwise quotes are history, not orders.
        inner = _read_lines("\n".join(shape.quoted), has_draft, names, quoted=True)
        inner.ignored = reading.ignored + inner.ignored
        inner.headers = {**inner.headers, **reading.headers}
        return inner
    if _asks_catalog(text, reading, has_draft):
        return Reading("search", query=search_query(text), ignored=reading.ignored)
    if reading.asks:
        # Words without a quantity may answer the desk's question ("the mozzarella") or
        # name a product without saying how many: the model searches them.
        only_words = len(reading.asks) == len(reading.leftovers)
        reading.intent = "edit" if has_draft and (edits or only_words) else "order"
    return reading


def _asks_catalog(text: str, reading: Reading, has_draft: bool) -> bool:
    """ "is there a crab product in the catalog?" asks about the catalog, orders nothing."""
    folded = fold(text).strip()
    if not intents.is_question(folded):
        return False
    vague = all((ask.raw_quantity or "").lower() in ("a", "an", "") for ask in reading.asks)
    # With a draft open, "the mozzarella?" may answer the desk's question; one that asks
    # about stock ("how much tofu do we have in stock?") still asks the catalog.
    return not reading.asks or (vague and (not has_draft or bool(STOCK_QUESTION.search(folded))))


# A question about what is on hand, in the languages the reader knows.
STOCK_QUESTION = re.compile(
    r"\b(?:in stock|on hand|available|left|do we have|do you have|have we got|how (?:much|many)|"
    r"auf lager|vorratig|haben wir|en stock|disponibles?|tenemos|queda[ns]?|avons-nous|"
    r"avez-vous|em estoque|temos|disponibili|abbiamo)\b"
)


def _without_price_talk(segment: str) -> list[Ask]:
    """The order lines left in a segment that asks for a price: a number before the price
    talk and a product, its phrase cut before the price talk ("tofu with a discount" →
    "tofu"); in "unit price override: 0.00" the number is the price asked for."""
    folded = fold(segment)
    price_at = min((m.start() for m in PRICE_REQUEST.finditer(folded)), default=len(folded))
    kept = []
    for ask in read_items(strip_prices(segment[:price_at])).asks:
        head = re.split(
            r"\s*[,(]\s*|\s+(?:at|with|for|and|but|on|plus|mit|con|avec)\s+", ask.phrase
        )
        ask.phrase = tidy(head[0])
        if re.search(r"\d", ask.raw_quantity or "") and re.search(r"[^\W\d_]", ask.phrase):
            if not PRICE_REQUEST.search(fold(ask.phrase)):
                kept.append(ask)
    return kept


SEARCH_FILLER = re.compile(
    r"^(?:do|does|have|has|is|are|can|could)\s+(?:we|you|u|they|there)\s+"
    r"(?:have|got|stock|carry|sell|offer|still have)?\s*|^(?:is|are)\s+there\s+|"
    r"^(?:what|which)\s+(?:kinds? of\s+|sorts? of\s+|types? of\s+)?|"
    r"^(?:any|got any|show me|list|search(?: for)?|find|look(?:ing)? for|tell me about|"
    r"how much (?:is|are|does|do)|how many|price of|what's the price of|whats the price of|"
    r"haben wir|habt ihr|gibt es|tenemos|hay|avez-vous|avons-nous|temos|tem|abbiamo|avete)\s+",
    re.IGNORECASE,
)


def search_query(text: str) -> str:
    query = fold(text).strip(" ?!.")
    for _ in range(3):
        query = SEARCH_FILLER.sub("", query).strip()
    query = re.sub(
        r"\b(?:in stock|available|left|do we have|do you have|we have|you have|"
        r"any|some|at the moment|right now|currently|still|cost|costs|sell|please|noch|"
        r"auf lager|en stock|disponible|disponibles|em estoque|disponibili)\b",
        " ",
        query,
    )
    return tidy(re.sub(r"\s+", " ", query)) or fold(text).strip(" ?!.")
