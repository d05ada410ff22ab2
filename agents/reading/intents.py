"""Intents: the requests a message makes besides order lines, one sentence at a time.

A sentence can ask for an order's status ("where is order 10250?", "wo ist Bestellung
10250"), cancel an order ("cancel order 10250", "cancel that order"), ask the catalog ("do
we have any blue cheese?"), ask what we know of a customer ("what do you know about Ernst
Handel?", "what did they order last time?"), repeat the last order or draft the usual, or
ask to remember a note. Words per language come from the lexicon; the shapes (an order
number after "order"/"#"/"no.") are patterns here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.reading.lexicon import words
from agents.reading.text import clean, fold

# An order number: 5 to 9 digits after "order", "#" or "no.", or a bare 1xxxx (the
# Northwind range); 9 digits at most, so it always fits the database's integer column.
_ORDER_WORD = r"order|bestellung|auftrag|pedido|commande|encomenda|ordine|ordem|ord(?:er)?\.?"
ORDER_NUMBER = re.compile(
    rf"(?:#\s*|\bno\.?\s*|\bn[°ºo]\.?\s*|\b(?:{_ORDER_WORD})\s*(?:number|nummer|numero|no\.?|"
    rf"nr\.?|n[°º]\.?|#)?\s*)(\d{{5,9}})\b|\b(1\d{{4}})\b"
)
_STATUS = re.compile(
    r"\b(?:where|status|track|tracking|shipped|ship|deliver(?:ed|y)?|arriv\w*|what about"
    r"|what's|whats|how is|check|look ?up|find|details?|happened|state|update on|news on"
    r"|wo ist|wo bleibt|stand|estado|donde esta|ou en est|ou est|statut|onde esta|situacao"
    r"|dov'e|stato|a che punto)\b"
)
# Words that ask about an order we hold (its status, its whereabouts), as opposed to
# naming the customer's own order number: "where is order 45678" is a question to us.
ASKS_ABOUT_AN_ORDER = re.compile(
    r"\b(?:where|status|track|tracking|what about|what's|whats|how is|check|look ?up|find"
    r"|details?|happened|update on|news on|wo ist|wo bleibt|estado|donde esta|ou en est"
    r"|ou est|statut|onde esta|situacao|dov'e|stato|a che punto)\b"
)
_CANCEL = re.compile(
    r"\b(?:cancel|storniere?n?|stornieren|annuler?|annule|annulla(?:re)?|cancela(?:r)?|"
    r"anula(?:r)?)\b"
)
_THAT_ORDER = re.compile(
    r"\b(?:cancel|storniere?n?|annule[rz]?|annulla(?:re)?|cancela(?:r)?|anula(?:r)?)\s+"
    r"(?:that|this|the|my|our|die|diese|den|esa|ese|el|la|ce|cette|la|essa|esse|o|a|quell[ao]|"
    r"quest[ao]|l')\s*(?:last\s+|letzte\s+)?(?:order|bestellung|auftrag|pedido|commande|"
    r"encomenda|ordine)\b"
)
_SEARCH_START = re.compile(
    r"^(?:do|have|has|is|are|what|which|any|got|can|could|does|how much|how many|price|"
    r"show|list|search|find|look|tell|haben wir|habt ihr|gibt es|tenemos|hay|avez-vous|"
    r"avons-nous|temos|tem|abbiamo|avete|c'e)\b"
)
_REQUEST = re.compile(
    r"^(?:can|could|may|would)\s+(?:i|we|you)\s+(?:please\s+)?(?:get|have|add|send|order|put|"
    r"book|take|ship|do)\b"
)
_REPEAT = re.compile(
    r"\b(?:same (?:as|order as) (?:last|the last|previous|before)(?: time| order)?|"
    r"repeat (?:the |their |his |her )?(?:last|previous) order|reorder|re-order|same again)\b"
)
_USUAL = re.compile(r"\b(?:(?:the|their|his|her|our) usual|usual order)\b")
_HABITS = re.compile(
    r"\b(?:usually|normally|typically|regularly|generally|mostly|often|tend to)\s+"
    r"(?:order|buy|get|take|want|have|purchase)s?\b"
    r"|\bwhat(?:'s| is| are) (?:the|their|his|her) usual\b|\b(?:order history|buying habits)\b"
    r"|\bwhat (?:do|did) (?:you|we) (?:know|remember|have on|note)\b"
    r"|\bwhat did (?:they|he|she|[a-z]+) (?:order|buy|get|take)\b"
    r"|\b(?:last|previous) (?:order|time)\b.*\?$"
)
_HABITS_ASK = re.compile(
    r"^(?:what|which|how|tell|show|remind|do you know|was|que|qu'|o que|cosa)\b|\?$"
)
REMEMBER = re.compile(
    r"^(?:(?:hi|hey|hello|ok|okay|oh|also|and|btw|by the way)[,!.]?\s+)?(?:please\s+)?"
    r"(?:remember|note|make a note|take a note|keep in mind|for the record|fyi|merke dir|"
    r"notiere|recuerda|anota|note que|souviens-toi|lembre-se|ricorda)\b"
    r"(?:\s+(?:that|this|down|for (?:the )?future|dass|que|che))?\s*[:,\-—–]?\s*(?P<note>\S.*)$",
    re.DOTALL | re.IGNORECASE,
)


@dataclass
class Request:
    """A request that is not an order line: intent plus what it names."""

    intent: str  # status | cancel_order | search | repeat | usual | habits | remember
    order_id: int | None = None
    query: str | None = None
    note: str | None = None
    text: str = ""


def note_of(message: str) -> str | None:
    """What a "remember that …" / "note: …" message asks to remember, or None."""
    match = REMEMBER.match(clean(message).strip())
    if match is None:
        return None
    note = re.sub(r"\s+", " ", match.group("note")).strip(" .")
    return note[:1].upper() + note[1:] if note else None


def cancels(folded: str) -> bool:
    """The (folded) text asks to cancel something."""
    return bool(_CANCEL.search(folded))


def find_order_number(text: str) -> int | None:
    match = ORDER_NUMBER.search(fold(text))
    return int(match.group(1) or match.group(2)) if match else None


def _about_an_order(folded: str, number: int) -> bool:
    explicit = re.search(
        rf"(?:\b(?:{_ORDER_WORD})\b[^\d]{{0,14}}|#\s*|\bno\.?\s*|\bn[°º]\.?\s*){number}\b", folded
    )
    return bool(explicit or _STATUS.search(folded) or folded.rstrip("?! .").endswith(str(number)))


def is_question(folded: str) -> bool:
    if _REQUEST.match(folded):
        return False  # "can I get a box of tofu for Alfreds?" is an order
    return folded.endswith("?") or bool(_SEARCH_START.match(folded))


_PUNCT = re.compile(r"[^\w\s]")


def _says(folded: str, kind: str) -> bool:
    """The message is, or contains as words, a phrase of the lexicon kind."""
    text = " " + _PUNCT.sub(" ", folded) + " "
    return any(" " + _PUNCT.sub(" ", phrase) + " " in text for phrase in words(kind) if phrase)


def whole_message_request(folded: str) -> Request | None:
    """Requests that speak for the whole message: repeat, the usual, what we know."""
    if _REPEAT.search(folded) or _says(folded, "repeat"):
        return Request("repeat", text=folded)
    if _USUAL.search(folded) or _says(folded, "usual"):
        return Request("usual", text=folded)
    if (_HABITS.search(folded) and _HABITS_ASK.search(folded)) or any(
        phrase in folded for phrase in words("memory_question") if phrase
    ):
        return Request("habits", text=folded)
    if _USUAL.search(folded):
        return Request("usual", text=folded)
    return None


def sentence_request(sentence: str, *, has_quantity: bool) -> Request | None:
    """A status or cancel request in one sentence, or None."""
    folded = fold(sentence).strip()
    number = find_order_number(folded)
    if number and _CANCEL.search(folded):
        return Request("cancel_order", order_id=number, text=sentence)
    if number and _about_an_order(folded, number) and not has_quantity:
        return Request("status", order_id=number, text=sentence)
    if number and re.search(rf"\b(?:{_ORDER_WORD})\b\s*(?:#|no\.?|nr\.?)?\s*{number}", folded):
        if _STATUS.search(folded) or folded.endswith("?"):
            return Request("status", order_id=number, text=sentence)
    if not has_quantity and (_THAT_ORDER.search(folded) or _only_cancel_order(folded)):
        return Request("cancel_order", order_id=None, text=sentence)
    return None


_ORDER_NOUN = re.compile(rf"\b(?:{_ORDER_WORD})\b")
_QUIET = re.compile(
    r"\b(?:the|that|this|my|our|die|diese|den|das|meine|unsere|el|la|ese|esa|este|mi|le|ce|"
    r"cette|ma|notre|o|a|esse|essa|il|quello|quell|questo|mio|wieder|again|please|bitte|moment|"
    r"por favor|s'il vous plait|per favore|doch|jetzt|now|ahora|maintenant|agora|ora|ja|yes|"
    r"si|oui|sim|mal|lieber|besser|all|whole|ganze|toda|toute|tutto|inteira)\b"
)


def _only_cancel_order(folded: str) -> bool:
    """ "bitte die Bestellung wieder stornieren": a cancel verb and an order, nothing else."""
    if not (_CANCEL.search(folded) and _ORDER_NOUN.search(folded)):
        return False
    rest = _QUIET.sub(" ", _ORDER_NOUN.sub(" ", _CANCEL.sub(" ", folded)))
    return not re.sub(r"[^\w]", "", rest)
