"""Taking a way forward for a line that cannot be sold: an alternative, or what is there.

After a reply that listed a flagged line's in-stock alternatives, the user picks one -
by its place ("use the first", "the second one", "take option 2", "nimm den ersten", "je
prends le deuxième"), by name ("swap to Longlife Tofu", "replace the gumbo with the hot
pepper sauce") or, with one flagged line and one alternative, as "ok swap it" - or asks to
ship what is available ("ship what's available", "just send what you have", "mandad lo
que haya"). `respond` answers such a message with the tool call that does it (swap_line,
ship_available; find_alternatives first when no reply listed them) and, once it ran, with
the reply; any other message is None and the reader reads it as usual. The words (take
verbs, option words, ordinals, ship phrases) are lexicon data; the alternatives offered
are read back from the conversation's tool results, so nothing is kept between calls.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from rapidfuzz import fuzz

from agents.confirmation import ATTENTION_KEY
from agents.offline import replies
from agents.reading.lexicon import table, words
from agents.reading.numbers import parse_number
from agents.reading.text import fold

Kind = Literal["ship", "pick", "name", "it"]
_WORD = re.compile(r"[#\w][\w'’]*")
_NAMING = 85  # fuzzy ratio at which a typed word is a word of a product's name


@dataclass(frozen=True)
class Choice:
    """What a message asks of a flagged line: ship what is there, or take an alternative
    by its place (`index`, 1-based; -1 the last), by name, or the only one ("it")."""

    kind: Kind
    index: int | None = None
    rest: tuple[str, ...] = ()  # the words left once the choice's own are taken out


def respond(
    text: str, draft: dict | None, step: Any, earlier: list[BaseMessage]
) -> AIMessage | None:
    """The next step for a message that takes a way forward for a flagged line, or None
    when the message is not one (or the draft has no line to take it for)."""
    for name, written in (("swap_line", replies.swapped), ("ship_available", replies.shipped)):
        done = step.done(name)
        if done:
            return AIMessage(content=written(done[-1][1]))
    flagged = [
        line
        for line in (draft or {}).get("lines", [])
        if line["status"] != "ok" or line.get("available") == 0
    ]
    choice = read_choice(text) if flagged else None
    if choice is None:
        return None
    if choice.kind == "ship":
        return _ship(choice, flagged)
    offers = _offers(step, earlier, flagged)
    unlisted = [line for line in flagged if line["product_id"] not in offers]
    if unlisted and not step.done("find_alternatives"):
        return AIMessage(
            content="",
            tool_calls=[
                _tool_call(
                    "find_alternatives",
                    {"product_id": line["product_id"], "quantity": line["quantity"]},
                )
                for line in unlisted
            ],
        )
    return _take(choice, flagged, offers)


def read_choice(text: str) -> Choice | None:
    """The choice a message makes, or None when it makes none (an edit, a new line, a
    question). Taking by place must be all the message says, but for words naming a
    line; taking by name or "it" needs a take verb and no quantity."""
    folded = " " + " ".join(_WORD.findall(fold(text))) + " "
    if _has(folded, words("ship_available")):
        return Choice("ship", rest=_rest(folded, words("ship_available") | _TAKE_WORDS))
    index, folded = _index(folded)
    verb = _has(folded, words("choose"))
    # "ok, the alternative then": the option named as a thing, with nothing else.
    named = frozenset(word for word in words("option") if len(word) > 3)
    if index is None and not verb and _has(folded, named) and not re.search(r"\d", folded):
        rest = _rest(folded, named)
        return Choice("it") if all(word in words("refer_it") for word in rest) else None
    if index is None and (not verb or re.search(r"\d", folded)):
        return None
    rest = _rest(folded, words("choose") | _QUIET)
    if index is not None:
        return Choice("pick", index=index, rest=rest)
    if not rest or all(word in words("refer_it") for word in rest):
        return Choice("it")
    return Choice("name", rest=rest)


def _index(folded: str) -> tuple[int | None, str]:
    """The alternative's place a message names ("the first", "option 2", "2nd", "#3") and
    the message without it."""
    options = "|".join(re.escape(word) for word in sorted(words("option"), key=len, reverse=True))
    numbered = re.search(rf" (?:{options}) ?(?:#|no|nr)? ?(\w+) ", folded)
    if numbered:
        value = parse_number(numbered.group(1))
        if value is not None and 0 < value <= 9:
            return value, folded[: numbered.start()] + " " + folded[numbered.end() :]
    for word, value in sorted(table("ordinal").items(), key=lambda item: -len(item[0])):
        at = folded.find(f" {word} ")
        if at >= 0:
            rest = folded[:at] + " " + folded[at + len(word) + 2 :]
            rest = re.sub(rf" (?:{options}) ", " ", rest)
            return int(value), rest
    return None, folded


def _has(folded: str, phrases: frozenset[str]) -> bool:
    return any(f" {' '.join(_WORD.findall(p))} " in folded for p in phrases if p)


def _rest(folded: str, taken: frozenset[str]) -> tuple[str, ...]:
    """The words of `folded` left once every phrase of `taken` is taken out."""
    for phrase in sorted(taken, key=len, reverse=True):
        spaced = " ".join(_WORD.findall(phrase))
        if spaced:
            folded = folded.replace(f" {spaced} ", " ").replace(f" {spaced} ", " ")
    return tuple(word for word in folded.split() if word not in _QUIET)


_TAKE_WORDS = frozenset({"ship", "send", "just", "reduce", "cut", "it", "to", "of"}) | frozenset(
    words("choose")
)
_QUIET = (
    words("courtesy")
    | words("filler")
    | words("approve")
    | words("approve_filler")
    | frozenset(
        "one ones then ok okay fine yes yeah sure alright so and with to by for instead "
        "der die das den dem ein eine dann ja bitte gut le la les un une alors oui bon "
        "el los las uno una pues vale si por favor".split()
    )
)


def _ship(choice: Choice, flagged: list[dict[str, Any]]) -> AIMessage | None:
    short = [line for line in flagged if line["status"] == "short_stock"]
    if not short:
        return None  # nothing is short: a discontinued line has nothing to ship
    named = _lines_named(choice.rest, short)
    ids = [int(line["product_id"]) for line in named or short]
    return AIMessage(content="", tool_calls=[_tool_call("ship_available", {"product_ids": ids})])


def _take(
    choice: Choice, flagged: list[dict[str, Any]], offers: dict[int, list[dict[str, Any]]]
) -> AIMessage | None:
    """swap_line for the alternative chosen, or the question that makes it clear."""
    offered = [line for line in flagged if offers.get(line["product_id"])]
    if not offered:
        return None
    if choice.kind == "name":
        found = _named_option(choice.rest, offered, offers)
        if found is None:
            return None  # another product, or none: the reader's replace and edits
        line, option = found
        return _swap(line, option)
    lines = offered
    if len(lines) > 1:
        lines = _lines_named(choice.rest, offered) or offered
    elif choice.kind == "pick" and choice.rest and not _lines_named(choice.rest, lines):
        return None  # "remove the first one", "make the first one 8": an edit
    if len(lines) > 1:
        return _asked(replies.which_line("it", lines))
    line = lines[0]
    options = offers[line["product_id"]]
    if choice.kind == "it":
        if len(options) == 1:
            return _swap(line, options[0])
        return _asked(replies.which_alternative(line, options))
    index = choice.index or 1
    if index > len(options):
        return _asked(replies.which_alternative(line, options))
    return _swap(line, options[index - 1 if index > 0 else -1])


def _lines_named(rest: tuple[str, ...], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines whose name a word of `rest` is a word of ("for the mutton")."""
    return [line for line in lines if _matched(rest, line["product_name"])]


def _named_option(
    rest: tuple[str, ...],
    lines: list[dict[str, Any]],
    offers: dict[int, list[dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (line, alternative) the words name: the alternative whose name the words
    cover best, once the words naming the flagged lines are set aside; None when no
    alternative, or two equally, fit."""
    own = {w for line in lines for w in rest if _matched((w,), line["product_name"])}
    words_left = tuple(w for w in rest if w not in own) or rest
    scored = []
    for line in lines:
        for option in offers[line["product_id"]]:
            names = _name_words(option["name"])
            hits = sum(1 for name in names if _covers(words_left, name))
            if hits:
                scored.append((hits / len(names), line, option))
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    best = scored[0]
    rivals = [
        s for s in scored[1:] if s[0] == best[0] and s[2]["product_id"] != best[2]["product_id"]
    ]
    return None if rivals else (best[1], best[2])


def _name_words(name: str) -> list[str]:
    return [w for w in _WORD.findall(fold(name)) if len(w) >= 3] or _WORD.findall(fold(name))


def _covers(typed: tuple[str, ...], name_word: str) -> bool:
    return any(
        len(word) >= 3 and fuzz.ratio(word.rstrip("s"), name_word.rstrip("s")) >= _NAMING
        for word in typed
    )


def _matched(typed: tuple[str, ...], name: str) -> bool:
    return any(_covers(typed, word) for word in _name_words(name) if len(word) >= 4)


def _offers(
    step: Any, earlier: list[BaseMessage], flagged: list[dict[str, Any]]
) -> dict[int, list[dict[str, Any]]]:
    """The alternatives last offered for each flagged line: from this turn's
    find_alternatives, else the newest tool result that listed them."""
    wanted = {int(line["product_id"]) for line in flagged}
    offers: dict[int, list[dict[str, Any]]] = {}
    for _, result in step.done("find_alternatives"):
        if isinstance(result, dict) and result.get("product_id") in wanted:
            offers.setdefault(int(result["product_id"]), list(result.get("alternatives") or []))
    for message in reversed(earlier):
        if not isinstance(message, ToolMessage):
            continue
        result = _parsed(message.content)
        lines = (result.get("draft") or {}).get("lines") or []
        for line in lines:
            if line.get("product_id") in wanted and "alternatives" in line:
                offers.setdefault(int(line["product_id"]), list(line["alternatives"]))
        if result.get("product_id") in wanted and "alternatives" in result:
            offers.setdefault(int(result["product_id"]), list(result["alternatives"]))
        if wanted <= set(offers):
            break
    return offers


def _parsed(content: Any) -> dict[str, Any]:
    try:
        value = json.loads(content) if isinstance(content, str) else content
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _swap(line: dict[str, Any], option: dict[str, Any]) -> AIMessage:
    args = {"from_product_id": int(line["product_id"]), "to_product_id": int(option["product_id"])}
    return AIMessage(content="", tool_calls=[_tool_call("swap_line", args)])


def _asked(question: str) -> AIMessage:
    """A question back: it needs the user before the draft can go on."""
    return AIMessage(content=question, additional_kwargs={ATTENTION_KEY: [question]})


def _tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}
