"""What the offline model says: replies written from tool results, plainly and briefly.

Every figure in a reply (price, stock, total, order number) is copied from a tool result,
which read it from the database; nothing here computes a price.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from agents.reading.items import Ask
from agents.reading.numbers import parse_number

GREETING = "Hello! Type an order, e.g. “Alfreds Futterkiste wants 12 Queso Cabrales and 5 tofu”."
NOTHING_TO_CONFIRM = "There is no draft to confirm yet. Tell me the customer and what they want."
NOTHING_TO_CANCEL = "There is no open draft to cancel."
WHICH_CUSTOMER_FOR_REPEAT = "Which customer should I repeat the last order for?"
WHICH_CUSTOMER_FOR_USUAL = "Which customer's usual order should I draft?"
WHICH_CUSTOMER_FOR_HABITS = "Which customer do you mean?"
WHICH_CUSTOMER_FOR_NOTE = "Which customer should I note that for?"
PRICES_FIXED = (
    "Prices and discounts come from the catalog: I can't change them or promise others here."
)
SMALL_TALK = {
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "you",
    "please",
    "pls",
    "cheers",
    "ok",
    "okay",
    "sorry",
    "regards",
    "best",
    "morning",
    "good",
    "afternoon",
    "evening",
    "team",
    "hope",
    "well",
    "customer",
    "order",
    "new",
    "for",
    "the",
    "a",
    "and",
    "is",
    "this",
    "that",
}


def money(value: Any) -> str:
    return f"${float(value):,.2f}"


def _line(line: dict[str, Any]) -> str:
    text = (
        f"- {line['quantity']} × {line['product_name']} @ {money(line['unit_price'])}"
        f" = {money(line['line_total'])}"
    )
    if line["status"] == "short_stock":
        text += f" — ⚠ {_short_of(line)}"
    elif line["status"] == "discontinued":
        text += " — ⚠ discontinued, cannot be sold"
    return text


def _flag(line: dict[str, Any]) -> str | None:
    """Why a line cannot be sold as it stands, naming it, and the ways forward the tool
    result gives: its in-stock alternatives, and for a short line shipping what is
    available; None when it can be sold."""
    if line["status"] == "discontinued":
        head = f"⚠ {line['product_name']} is discontinued."
    elif line["status"] == "short_stock":
        head = f"⚠ {line['product_name']}: {_short_of(line)}."
    else:
        return None
    options = line.get("alternatives")
    if options is None:  # a result without them (an older reply): the flag alone
        return head
    ways = []
    if line["status"] == "short_stock" and line.get("available", 0) > 0:
        ways.append(f"“ship what's available” ({line['available']})")
    if options:
        head += " In stock instead: " + " ".join(
            f"{number}) {_option(option)}" for number, option in enumerate(options, start=1)
        )
        if line.get("alternatives_degraded"):
            head += " (matched by name only: the meaning search is unavailable)"
        ways += ["“use the first”", f"“swap to {options[-1]['name']}”"]
    elif line["status"] == "discontinued":
        head += " Nothing like it is in stock."
    if not ways:
        return f"{head} Remove it, or name another product."
    return f"{head} — say {_either(ways)}."


def _short_of(line: dict[str, Any]) -> str:
    """ "only 3 available (4 asked) — 5 are held by another draft until 17:45" """
    available = line.get("available", 0)
    said = f"only {available} available" if available else "0 available"
    said += f" ({line['quantity']} asked)"
    held, until = line.get("held_by_others") or 0, line.get("held_until")
    if held and until:
        verb = "is" if held == 1 else "are"
        said += f" — {held} {verb} held by another draft until {clock(until)}"
    return said


def clock(moment: datetime | str) -> str:
    """A time as HH:MM on this server's clock (a time without a zone is UTC, as stored)."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone():%H:%M}"


def _option(option: dict[str, Any]) -> str:
    pack = f", {option['quantity_per_unit']}" if option.get("quantity_per_unit") else ""
    return (
        f"{option['name']} ({money(option['unit_price'])}, {option['available']} available{pack})"
    )


def _either(ways: list[str]) -> str:
    return ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " or " + ways[-1]


def _names(lines: list[dict[str, Any]], shown: int = 6) -> str:
    """The products on the draft, by name only (quantities and prices are the table's)."""
    names = [line["product_name"] for line in lines]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def draft_reply(
    result: dict[str, Any] | None,
    notes: list[str],
    ignored: list[str] | None = None,
    *,
    header: dict[str, Any] | None = None,
) -> str:
    """What the turn did to the draft, in one line - with its header: "PO 4711-A · deliver
    by Fri 18 Dec 2026" - then what needs attention: the draft's lines themselves are shown
    by the draft's table (a list here would go stale after an edit there), except the ones
    that cannot be sold, which are named with their reason. `header` is the header the
    turn asked for: a part of it the draft refused is named with the reason."""
    if not result or "draft" not in result:
        error = (result or {}).get("error", "the draft could not be changed")
        return "\n".join([f"I couldn't change the draft: {error}", *notes])
    draft = result["draft"]
    who = (
        f"{draft['customer_name']} ({draft['customer_id']})"
        if draft.get("customer_id")
        else "a customer not named yet"
    )
    flags = [flag for flag in map(_flag, draft["lines"]) if flag]
    open_items = len(draft.get("open_items") or [])
    summary = (
        f"Draft for {who}: {_count(len(draft['lines']), 'line')} ({_names(draft['lines'])}),"
        f" total {money(draft['total'])}"
        if draft["lines"]
        else f"Draft for {who}: no lines yet"
    )
    summary += "".join(f" · {part}" for part in header_parts(draft))
    if flags or open_items:
        attention = len(flags) + open_items
        summary += f" — {attention} need{'s' if attention == 1 else ''} attention"
    parts = [summary + ".", *flags]
    if result.get("error"):
        parts.append(header_refused(str(result["error"]), header or {}))
    parts += notes
    skipped = ignored_note(ignored or [])
    if skipped:
        parts.append(skipped)
    parts.append(_next_step(draft))
    return "\n".join(parts)


def header_parts(header: dict[str, Any]) -> list[str]:
    """The order header in words: "PO 4711-A", "deliver by Fri 18 Dec 2026", "ship to our
    Lyon store", "note: use the back door, dock 3" (long ones shortened)."""
    parts = []
    if header.get("customer_po"):
        parts.append(f"PO {header['customer_po']}")
    if header.get("requested_date"):
        parts.append(f"deliver by {day_in_words(header['requested_date'])}")
    if header.get("ship_to"):
        parts.append(f"ship to {_short(str(header['ship_to']))}")
    if header.get("notes"):
        parts.append(f"note: {_short(str(header['notes']))}")
    return parts


def day_in_words(day: date | str) -> str:
    """ "Fri 18 Dec 2026": the weekday, then day, month and year (no 12/11 ambiguity)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day:%a} {day.day} {day:%b %Y}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def header_refused(error: str, asked: dict[str, Any]) -> str:
    """ "⚠ I couldn't use the delivery date 2025-01-03: it is in the past (today is 14 Dec
    2026)." - the lines were drafted all the same."""
    reason = error[:1].lower() + error[1:]
    if asked.get("requested_date") and "date" in error:
        said = re.match(r"The requested delivery date [^.]*? (is .*)", error)
        reason = f"it {said.group(1)}" if said else reason
        return f"⚠ I couldn't use the delivery date {asked['requested_date']}: {reason}"
    return f"⚠ I couldn't use all of the order header: {reason}"


def header_without_draft(header: dict[str, Any]) -> str:
    shown = " · ".join(header_parts(header))
    return f"I read {shown}, but there is no draft to put it on yet."


def unread_date(written: str) -> str:
    return (
        f"(I couldn't read “{written}” as a delivery date: give it as e.g. "
        "2026-12-20 or “by Friday”.)"
    )


def _next_step(draft: dict[str, Any]) -> str:
    if draft.get("open_items"):
        return "Answer the open question(s) above before confirming."
    if not draft.get("customer_id"):
        return "Who is this order for?"
    problems = [line for line in draft["lines"] if line["status"] != "ok"]
    if draft.get("open_items"):
        return "Answer the open question(s) above before confirming."
    if not draft["lines"]:
        return "What would they like?"
    if problems:
        return "Change or remove the flagged lines, then say “confirm”."
    return "Say “yes” to confirm, or tell me what to change."


def unresolved(ask: Ask, result: dict[str, Any]) -> str:
    candidates = result.get("candidates") or []
    if result.get("ambiguous") and candidates:
        close = [c for c in candidates if c["score"] >= candidates[0]["score"] - 0.15][:4]
        options = " or ".join(f"{c['name']} (#{c['product_id']})" for c in close)
        return f"❓ Which one did you mean by “{ask.phrase}” ({ask.quantity}): {options}?"
    # Suggest only what can be sold.
    suggestion = ", ".join([c["name"] for c in candidates if not c.get("discontinued")][:3])
    tail = f" Closest: {suggestion}." if suggestion else ""
    return (
        f"✗ I couldn't find “{ask.phrase}” in the catalog, so I left it out.{tail} Which "
        f"product is it? (Or say “skip {ask.phrase}”.)"
    )


def bad_quantity(ask: Ask, limit: int) -> str:
    shown = ask.raw_quantity or "no quantity"
    if ask.refused in ("zero", "negative"):
        if ask.refused == "negative":  # "minus five" is shown as -5
            size = parse_number(
                re.sub(r"^\s*(?:-|−|minus|negative|moins|menos|meno)\s*", "", shown)
            )
            shown = f"-{size}" if size is not None else shown
        return f"✗ {shown} is not a quantity I can order for “{ask.phrase}”; how many?"
    if ask.quantity is None:
        why = ask.refused or "not a whole number"
        return f"✗ “{shown}” is {why} of units for “{ask.phrase}”; how many?".replace(
            "is not a whole number of units", "is not a whole number of units"
        )
    if ask.quantity <= 0:
        return f"✗ {ask.quantity} is not a quantity I can order for “{ask.phrase}”; how many?"
    return (
        f"✗ {ask.quantity:,} × “{ask.phrase}” is above the limit of {limit:,} units per line;"
        " I left it out."
    )


def not_on_draft(phrase: str) -> str:
    return f"“{phrase}” is not on the draft, so there was nothing to remove."


def unclear_segment(segment: str) -> str:
    return f"(I didn't understand “{segment}” as an order line: give a quantity and a product.)"


def nothing_drafted(
    notes: list[str], draft: dict[str, Any] | None, customer: dict[str, Any] | None = None
) -> str:
    head = (
        f"Nothing was added for {customer['company_name']}."
        if customer
        else "I didn't change anything."
    )
    return "\n".join([head, *notes] if notes else [head, "Tell me a quantity and a product."])


def did_not_understand(text: str, draft: dict[str, Any] | None) -> str:
    if draft is not None:
        return (
            "I didn't catch a change to the draft. You can say e.g. “make the tofu 30”, "
            "“drop the ikura”, “also 5 konbu”, “yes” to confirm or “cancel”."
        )
    return (
        "I can take orders (“Alfreds wants 12 Queso Cabrales and 5 tofu”), look up an order "
        "(“where is order 10248?”) or the catalog (“do we have any blue cheese?”)."
    )


def unknown_customer(reference: str, *, order: bool = False) -> str:
    shown = reference if len(reference) <= 60 else reference[:57] + "..."
    outcome = ", so I drafted nothing" if order else ""
    return (
        f"✗ I couldn't find a customer “{shown}”: no customer has that code or name{outcome}. "
        "Which customer do you mean?"
    )


def what_to_order(customer: dict[str, Any]) -> str:
    return f"What would {customer['company_name']} ({customer['customer_id']}) like to order?"


def cannot_confirm(draft: dict[str, Any]) -> str:
    if not draft.get("customer_id"):
        return "I can't confirm yet: who is this order for?"
    if not draft.get("lines"):
        return "I can't confirm an empty draft: what would they like?"
    problems = [_line(line) for line in draft["lines"] if line["status"] != "ok"]
    questions = [item["question"] for item in draft.get("open_items") or []]
    if questions and not problems:
        return "\n".join(["I can't confirm yet; first please answer:", *questions])
    return "\n".join(
        ["I can't confirm yet; these lines need a change first:", *problems, *questions]
    )


def confirmed(result: dict[str, Any] | None) -> str:
    if not result or "order" not in result:
        return f"The order was not placed: {(result or {}).get('error', 'unknown error')}"
    order = result["order"]
    return (
        f"✅ Order {order['order_id']} confirmed for {order['customer_name']}: "
        f"{len(order['lines'])} line(s), total {money(order['total'])}."
    )


def not_confirmed(draft: dict[str, Any] | None) -> str:
    # The draft is read afresh for this reply: if another order took the stock since the
    # user saw it, say so rather than leave them guessing why "yes" did nothing.
    problems = [_line(line) for line in (draft or {}).get("lines", []) if line["status"] != "ok"]
    if problems:
        return "\n".join(["Not confirmed: these lines cannot be sold as they stand:", *problems])
    return "Not confirmed. The draft is still open: change it, confirm it or cancel it."


def discarded(result: dict[str, Any] | None) -> str:
    if result and "discarded_draft_id" in result:
        return "Cancelled: the draft was discarded and nothing was ordered."
    return f"Nothing to cancel: {(result or {}).get('error', '')}".strip()


def order_cancelled(result: dict[str, Any] | None) -> str:
    if not result or "order" not in result:
        return f"I couldn't cancel it: {(result or {}).get('error', 'unknown error')}"
    order = result["order"]
    return f"Order {order['order_id']} is cancelled and its stock was returned."


def status(result: dict[str, Any] | None, order_id: int | None) -> str:
    if not result or "order" not in result:
        return (result or {}).get("error") or f"I couldn't find order {order_id}."
    order = result["order"]
    lines = ", ".join(f"{line['quantity']} × {line['product_name']}" for line in order["lines"])
    return (
        f"Order {order['order_id']} for {order['customer_name']} ({order['customer_id']}), "
        f"placed {order['created_at'][:10]}, is {order['status']}: {lines}. "
        f"Total {money(order['total'])}."
    )


def search_answer(result: dict[str, Any] | None) -> str:
    if not result or not result.get("candidates"):
        return "I found nothing like that in the catalog."
    head = (
        f"Nothing in the catalog matches “{result['query']}” well. Closest:"
        if result.get("no_match")
        else f"For “{result['query']}” the catalog has:"
    )
    rows = []
    for c in result["candidates"][:5]:
        available = c.get("available", c["units_in_stock"])
        held = c.get("held_by_others", 0)
        if c["discontinued"]:
            stock = "discontinued"
        elif available > 0:
            stock = f"{available} available" + (f" ({held} held by other drafts)" if held else "")
        elif held:
            stock = f"none available ({held} held by other drafts)"
        else:
            stock = "out of stock"
        rows.append(
            f"- {c['name']} (#{c['product_id']}, {c['quantity_per_unit'] or 'each'}): "
            f"{money(c['unit_price'])}, {stock}"
        )
    degraded = (
        ["(Semantic search is unavailable; these are spelling matches.)"]
        if result.get("degraded")
        else []
    )
    return "\n".join([head, *rows, *degraded])


def repeated(result: dict[str, Any] | None, last: dict[str, Any] | None) -> str:
    intro = (
        f"Same as their last order, {last['order_id']} of {last['created_at'][:10]}:"
        if last
        else "Same as last time:"
    )
    return intro + "\n" + draft_reply(result, [])


def no_previous_order(customer: dict[str, Any]) -> str:
    return f"{customer['company_name']} has no previous order to repeat. What would they like?"


def _lines_in_words(lines: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line['quantity']} × {line['product_name']}" for line in lines)


def usual_drafted(
    result: dict[str, Any] | None, usual: dict[str, Any] | None, last: dict[str, Any] | None
) -> str:
    if last is not None:
        intro = (
            "They have no product they order again and again, so this is their last order, "
            f"{last['order_id']} of {last['created_at'][:10]}:"
        )
    else:
        count = (usual or {}).get("orders", 0)
        intro = f"The usual, based on their most frequent products (over {count} orders):"
    usual_lines = (usual or {}).get("usual", [])
    dropped = [line["product_name"] for line in usual_lines if line["discontinued"]]
    notes = [f"(Left out, discontinued: {', '.join(dropped)}.)"] if dropped else []
    return intro + "\n" + draft_reply(result, notes)


def habits(
    customer: dict[str, Any],
    usual: dict[str, Any] | None,
    recent: dict[str, Any] | None,
    recalled: list[dict[str, str]],
) -> str:
    who = f"{customer['company_name']} ({customer['customer_id']})"
    if usual is None or "error" in usual:
        return f"I couldn't read the order history of {who}."
    if not usual.get("orders"):
        return f"{who} has no orders on record yet."
    parts = [f"{who} has {usual['orders']} orders on record."]
    frequent = [
        f"{line['product_name']} (in {line['orders']} orders, usually {line['quantity']})"
        for line in usual.get("usual", [])
    ]
    parts.append(
        "Most often they order: " + "; ".join(frequent) + "."
        if frequent
        else "No product appears in more than one of their orders."
    )
    last = next(iter((recent or {}).get("orders", [])), None)
    if last is not None:
        parts.append(
            f"Their last order, {last['order_id']} of {last['created_at'][:10]} "
            f"({last['status']}): {_lines_in_words(last['lines'])}."
        )
    stated = [m["text"] for m in recalled if m["kind"] in ("preference", "note")]
    if stated:
        parts.append("Noted: " + " ".join(f"“{text}”" for text in stated))
    return "\n".join(parts)


def remembered(result: dict[str, Any] | None, customer: dict[str, Any]) -> str:
    if not result or "remembered" not in result:
        return f"I couldn't note that: {(result or {}).get('error', 'unknown error')}"
    memory = result["remembered"]
    name = customer.get("company_name") or customer["customer_id"]
    return (
        f"📝 Noted for {name} ({customer['customer_id']}) as a {memory['kind']}: "
        f"“{memory['text']}”. I'll keep it in mind for their next orders."
    )


NOT_A_CUSTOMER = {
    "i",
    "we",
    "they",
    "he",
    "she",
    "you",
    "customer",
    "the",
    "client",
    "our",
    "my",
    "their",
    "wir",
    "ich",
    "sie",
    "er",
    "kunde",
    "der",
    "die",
    "nosotros",
    "yo",
    "ellos",
    "el",
    "cliente",
    "nous",
    "je",
    "ils",
    "il",
    "elle",
    "le",
    "la",
    "nos",
    "eu",
    "eles",
    "ele",
    "noi",
    "io",
    "loro",
    "lui",
    "lei",
    "also",
    "and",
    "please",
    "hi",
    "hello",
    "then",
    "it",
}


def customer_changed(customer: dict[str, Any]) -> str:
    return f"Customer changed to {customer['company_name']} ({customer['customer_id']})."


def which_line(phrase: str, lines: list[dict[str, Any]]) -> str:
    names = " or ".join(line["product_name"] for line in lines[:4])
    return f"❓ Which line do you mean by “{phrase}”: {names}?"


def orphan_quantity(shown: str) -> str:
    return f"❓ I couldn't tell which product “{shown}” is for: which product?"


def how_many(phrase: str, best: dict[str, Any] | None) -> str:
    name = best["name"] if best else phrase
    return f"❓ How many {name} would they like to order (for “{phrase}”)?"


def ignored_note(ignored: list[str]) -> str | None:
    """One short line for everything set aside: "(Ignored: greeting, signature, PO 4471-B.)"."""
    seen: list[str] = []
    for entry in ignored:
        entry = entry.strip(" ,;:.")
        if entry and entry not in seen:
            seen.append(entry)
    if not seen:
        return None
    shown = ", ".join(seen[:8]) + (", …" if len(seen) > 8 else "")
    return f"(Ignored: {shown}.)"


def who_is_it_for(phrase: str | None, headers: dict[str, str]) -> str:
    """The question for a draft nobody is named for, with any hint the message gave."""
    hints = [phrase] if phrase else []
    hints += [headers[k] for k in ("from_name", "from_domain", "from_email") if headers.get(k)]
    if hints:
        shown = ", ".join(dict.fromkeys(h for h in hints if h))
        return f"❓ Who is this order for? I don't know a customer from “{shown}”."
    return "❓ Who is this order for?"


def swapped(result: dict[str, Any] | None) -> str:
    """After swap_line: what took the line's place, then the draft as it now stands."""
    if not result or "draft" not in result:
        return (
            f"I couldn't swap it: {(result or {}).get('error', 'the draft could not be changed')}"
        )
    swap = result["swapped"]
    note = (
        f"Swapped {swap['from']['product_name']} for {swap['to']['product_name']} "
        f"({swap['quantity']}, same place on the draft)."
    )
    return draft_reply(result, [note])


def shipped(result: dict[str, Any] | None) -> str:
    """After ship_available: each short line cut to what is available, or removed."""
    if not result or "draft" not in result:
        return (
            f"I couldn't change it: {(result or {}).get('error', 'the draft could not be changed')}"
        )
    notes = [_cut(item) for item in result.get("shipped") or []]
    return draft_reply(result, notes or ["Nothing on the draft was short, so nothing changed."])


def _cut(item: dict[str, Any]) -> str:
    name = item["product_name"]
    if item["removed"]:
        return f"{name}: none available, so I removed it from the draft."
    return f"{name}: cut from {item['asked']} to the {item['quantity']} available."


def which_alternative(line: dict[str, Any], options: list[dict[str, Any]]) -> str:
    listed = " ".join(f"{n}) {o['name']}" for n, o in enumerate(options, start=1))
    return f"❓ Which one should replace {line['product_name']}: {listed}?"
