"""Edits: a segment that changes the open draft ("make the tofu 30", "drop the ikura").

An edit is led by a verb of a lexicon kind - `set` ("make", "ändere", "cambia"), `add`
("also", "noch", "también"), `remove` ("drop", "streiche", "quita") - or shaped as
"<product> should be <n>", "<n> more <product>", "double the <product>", "replace <a>
with <b>", "actually <n> <product>". What follows the verb is read by
`agents.reading.items`, so quantities take every form they take in an order. A phrase that
is a reference ("it", "that", "the first one") is kept as `Ask.reference`; which draft line
it means is decided by the caller, who knows the draft and the conversation.
"""

from __future__ import annotations

import re

from agents.reading.items import Ask, read_items, split_at_connectors, tidy
from agents.reading.lexicon import words
from agents.reading.numbers import find_quantities
from agents.reading.text import fold

_SCALE = {"double": 2.0, "triple": 3.0, "quadruple": 4.0, "halve": 0.5}
_SHOULD_BE = re.compile(
    r"^(?P<phrase>.+?)\s+(?:should be|shd be|needs to be|to be|is now|are now|is|are|goes to|"
    r"go to|=|->|→|soll(?:en)? (?:sein|werden)|sollte sein|auf|debe ser|deberia ser|a|doit etre|"
    r"devrait etre|deve ser|deve essere|dovrebbe essere)\s+(?:only\s+|just\s+|nur\s+|solo\s+|"
    r"seulement\s+|apenas\s+)?(?P<qty>\S.*)$"
)
_REPLACE = re.compile(
    r"^(?:replace|swap|substitute|switch|exchange|change|ersetze|tausche|cambia|reemplaza|"
    r"sustituye|remplace|echange|substitui|troca|sostituisci)\s+(?:out\s+)?(?P<old>.+?)\s+"
    r"(?:with|for|to|by|durch|gegen|mit|por|con|par|pour|avec|per)\s+(?P<new>.+)$"
)
_REMOVE_AFTER = re.compile(
    r"^(?P<phrase>.+?)\s+(?:is|are)\s+(?:not needed|no longer needed|out|cancelled|canceled)$"
    r"|^(?P<phrase2>.+?)\s+(?:bitte\s+)?(?:streichen|entfernen|weglassen|raus)$"
)
_MORE = re.compile(
    r"^(?P<qty>\S+(?:\s+\S+)?)\s+(?:more|extra|additional|mehr|weitere|zusatzliche|mas|"
    r"adicionales|de plus|supplementaires|a mais|in piu|altri|altre)\s+(?:of\s+)?(?P<phrase>.+)$"
)
_EVERYTHING = re.compile(
    r"^(?:everything|all|all of it|the lot|all lines|all items|it all|alles|todo|tout|tudo|tutto)$"
)
_NOT_QUANTITY = re.compile(r"^(?:not|instead of|rather than|nicht|statt|no|pas|non|nao)\s+\d+")
_CORRECTION = (
    "actually",
    "sorry",
    "oops",
    "correction",
    "wait",
    "no",
    "eigentlich",
    "doch",
    "perdon",
    "en fait",
    "pardon",
    "desculpe",
    "scusa",
    "anzi",
    "in realta",
)
_NO = ("no", "nein", "non", "nao")
_NOT_THIS = re.compile(
    r"^(?:but\s+|aber\s+|pero\s+|mais\s+|mas\s+|ma\s+)?(?:not|nicht|kein|keine|pas|non|nao)\s+(?P<phrase>[^\d\s].*)$"
)
_TAIL = re.compile(
    r"(?:\s+(?:after all|please|bitte|por favor|s'il vous plait|per favore|por favor|instead|"
    r"stattdessen|en su lugar|a la place|invece|from (?:the|that|this) (?:order|draft|list)|"
    r"off (?:the|that) (?:order|list)|then|anymore|any more|too|as well|thanks|not \S+))+$"
)
# What a reference to a line of the draft means, by lexicon kind ("refer_it": "it", "das",
# "lo", "en"; "refer_first": "the first one", "den ersten"...).
REFERENCE_KINDS = ("it", "first", "second", "last", "other", "all")


def is_not_quantity(segment: str) -> bool:
    """The "not 20" of "actually 30 tofu, not 20": a segment to skip."""
    return bool(_NOT_QUANTITY.match(fold(segment).strip()))


def _verb(folded: str, kind: str) -> int | None:
    """Where the text after a leading verb of `kind` starts, or None."""
    for verb in sorted(words(kind), key=len, reverse=True):
        if (
            verb
            and folded.startswith(verb)
            and (len(folded) == len(verb) or not folded[len(verb)].isalnum())
        ):
            return len(verb)
    return None


_SAME = re.compile(
    r"^(?P<verb>(?:also\s+)?(?:add|plus|and)\s+)?(?:the\s+)?same\s+(?:amount|quantity|number)"
    r"\s+(?:of\s+)?(?P<phrase>.+)$"
)


def _verb_at_end(folded: str, kind: str) -> int | None:
    """Where a verb of `kind` that ends the text begins (German puts it last), or None."""
    for verb in sorted(words(kind), key=len, reverse=True):
        if verb and folded.endswith(verb) and len(folded) > len(verb):
            start = len(folded) - len(verb)
            if not folded[start - 1].isalnum():
                return start
    return None


_LEADING = (
    "and",
    "then",
    "oh",
    "ok",
    "okay",
    "so",
    "but",
    "please",
    "pls",
    "hmm",
    "um",
    "und",
    "y",
    "et",
    "e",
)


def _discourse(text: str) -> tuple[str, bool]:
    """The segment without a leading "actually," / "ok so" / "on second thought" and
    whether it was a correction (the correction words are the lexicon's)."""
    correction = False
    corrections = words("correction")
    leading = sorted({*_LEADING, *_CORRECTION, *corrections}, key=len, reverse=True)
    for _ in range(3):
        folded = fold(text)
        for word in leading:
            if not word or not folded.startswith(word):
                continue
            if len(folded) != len(word) and folded[len(word)] not in " ,:":
                continue
            after = [t.strip(",:!.;") for t in folded[len(word) :].split()[:1]]
            after = [t for t in after if t]
            corrects = bool(after) and (after[0] in corrections or after[0][0].isdigit())
            if word in _NO and not (re.match(r"^\S+\s*[,:!.]", folded) or corrects):
                break  # "no konbu after all" removes; "no, 30 tofu", "no wait, 12" correct
            correction = correction or word in _CORRECTION or word in corrections
            text = text[len(word) :].lstrip(" ,:")
            break
        else:
            break
    return text, correction


def reference_of(phrase: str) -> str | None:
    """ "it", "that", "the first one", "daraus", "les deux" → "it" / "first" / ... ; else None."""
    key = re.sub(r"\s+", " ", fold(phrase).strip(" .,!?-"))
    for kind in REFERENCE_KINDS:
        if key in words(f"refer_{kind}"):
            return kind
    return None


def _with_references(asks: list[Ask]) -> list[Ask]:
    for ask in asks:
        ask.reference = reference_of(ask.phrase) if ask.phrase else "it"
    return asks


def read_edit(segment: str) -> list[Ask]:
    """An edit of the open draft as asks, or [] when the segment is not one."""
    text, correction = _discourse(segment.strip(" .!"))
    text = _TAIL.sub("", text)
    folded = fold(text)
    if not folded:
        return []
    scale = re.match(r"^(double|triple|halve|quadruple)\s+(?P<phrase>.+)$", folded)
    if scale:
        phrase = tidy(text[scale.start("phrase") :])
        return _with_references([Ask(phrase, None, None, "set", factor=_SCALE[scale[1]])])
    replace = _REPLACE.match(folded)
    if replace:
        found = read_items(text[replace.start("new") :])
        new = found.asks
        old = Ask(tidy(text[replace.start("old") : replace.end("old")]), None, None, "remove")
        if new and all(ask.phrase for ask in new):  # "change the tofu to 30" is a set
            return _with_references([old]) + new
        if not new and len(found.leftovers) == 1 and old.phrase:
            # "swap the biscuits for Zaanse koeken": the new product, the old quantity
            return _with_references([old]) + [
                Ask(found.leftovers[0], None, None, "set", replaces=old.phrase)
            ]
    same = _SAME.match(folded)
    if same:  # "add the same amount of Sasquatch Ale"
        phrase = tidy(text[same.start("phrase") :])
        action = "add" if same.group("verb") else "set"
        return [Ask(phrase, None, None, action, same_quantity=True)]  # type: ignore[arg-type]
    for kind, action in (("remove", "remove"), ("set", "set"), ("add", "add")):
        at = _verb(folded, kind)
        rest = text[at:].strip(" ,:") if at is not None else None
        if rest is None:
            end = _verb_at_end(folded, kind)  # "bitte den Camembert auf 8 ändern"
            if end is None:
                continue
            # Measured from the end: folding may lengthen the text before the verb ("ß").
            rest = text[: len(text) - (len(folded) - end)].strip(" ,:")
        if action == "remove":
            removals = _removals(rest)
            if removals:
                return removals
            continue
        asks = _edit_asks(rest, action)
        if asks:
            return asks
    more = _MORE.match(folded)
    if more and find_quantities(text[: more.end("qty")]):
        asks = read_items(text[: more.end("qty")] + " " + text[more.start("phrase") :]).asks
        for ask in asks:
            ask.action = "add"
            ask.reference = reference_of(text[more.start("phrase") :]) or reference_of(ask.phrase)
        return asks
    not_this = _NOT_THIS.match(folded)
    if not_this:  # "sorry, I meant 5 Zaanse koeken, not NuNuCa"
        return _removals(text[not_this.start("phrase") :])
    after = _REMOVE_AFTER.match(folded)
    if after:
        group = "phrase" if after.group("phrase") else "phrase2"
        return _removals(text[after.start(group) : after.end(group)])
    should = _SHOULD_BE.match(folded)
    if should and find_quantities(text[should.start("qty") :]):
        phrase = tidy(text[: should.end("phrase")])
        asks = read_items(text[should.start("qty") :]).asks
        if len(asks) == 1 and not tidy(asks[0].phrase):
            asks[0].phrase = phrase
            return _with_references(asks)
    if correction:
        asks = read_items(text).asks
        return _with_references(asks) if asks else []
    return []


def _edit_asks(rest: str, action: str) -> list[Ask]:
    """The asks after a set/add verb: "the tofu to 30", "it 30", "5 konbu"."""
    rest = re.sub(r"\s+(?:to|at|into|auf|a|à|en|para|em|su|=)\s+(?=\S+\s*$)", " ", rest)
    rest = re.sub(r"^(?:it|that|this)\s+(?=\d)", "it ", rest, flags=re.IGNORECASE)
    asks = read_items(rest).asks
    for ask in asks:
        ask.action = action  # type: ignore[assignment]
    return _with_references(asks) if asks else []


def _removals(rest: str) -> list[Ask]:
    phrase = tidy(rest)
    folded = fold(phrase)
    reference = reference_of(rest) or reference_of(phrase)
    if reference:
        return [Ask(phrase or rest, None, None, "remove", reference=reference)]
    if _EVERYTHING.match(folded):
        return [Ask("*", None, None, "remove")]
    both = re.match(r"^(everything|all(?: of it)?|the lot|it all)\s+and\s+(?P<rest>.+)$", folded)
    if both:
        tail = read_items(phrase[both.start("rest") :]).asks
        return [Ask("*", None, None, "remove"), *tail]
    if not phrase or find_quantities(phrase):
        return []
    asks = [Ask(tidy(part), None, None, "remove") for part in split_at_connectors(phrase)]
    asks = [ask for ask in asks if ask.phrase]
    return _with_references(asks)
