"""The offline order model: a deterministic `BaseChatModel` that drives the tools by rules.

It reads the conversation the way an LLM would - the system message (which carries the
current draft as JSON and what is remembered about the turn's customer), the user's last
message and the tool results since - and
answers with the next step: tool calls (find_customer, search_catalog, draft_order,
update_draft, confirm_order, ...) or the reply text. Every call recomputes its plan from
the messages, so it keeps no state of its own and a thread can resume in any process.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr
from rapidfuzz import fuzz, process

from agents.offline import replies
from agents.offline.grammar import Ask, Reading, clean, fold, note_of, read_message
from config import get_settings

DRAFT_TAG = re.compile(r"<draft>(.*?)</draft>", re.DOTALL)
MEMORIES_TAG = re.compile(r"<memories[^>]*>(.*?)</memories>", re.DOTALL)
MEMORY_LINE = re.compile(r"^- \[(?P<kind>\w+) (?P<date>[\d-]+)\] (?P<text>.*)$", re.MULTILINE)
# A customer named by code: "for ZQXWV", "customer ZQXWV", "what does ZQXWV ...", or a
# message that starts with one ("ZQXWV wants ...", "ZQXWV: ...").
CODE_REFERENCE = re.compile(
    r"(?:^|\b(?:for|of|does|did|customer|client|account)\s+(?:customer\s+)?)"
    r"(?P<ref>[A-Z]{5})(?![\w'’-])"
)
# ... or by name, where the request needs a customer ("the usual for Nonexistent Trading").
NAME_REFERENCE = re.compile(
    r"\b(?:for|of|does|did)\s+(?P<ref>[A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,4})"
)
PREFERENCE_WORDS = re.compile(
    r"\b(?:always|never|prefers?|likes?|wants?|only|usually|every|don'?t|do not|rather)\b",
    re.IGNORECASE,
)


@dataclass
class Step:
    """The tool calls made since the user's last message, with their parsed results."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)  # tool_call_id -> parsed JSON
    recalled: list[dict[str, str]] = field(default_factory=list)  # the <memories> lines

    def done(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        return [(c, self.results.get(c["id"])) for c in self.calls if c["name"] == name]


@dataclass
class Plan:
    """What the turn resolved to: the draft change to make and what to tell the user."""

    customer: dict[str, Any] | None = None
    set_lines: list[dict[str, int]] = field(default_factory=list)
    add_lines: list[dict[str, int]] = field(default_factory=list)
    remove: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new_draft: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.set_lines or self.add_lines or self.remove or self.customer)


class OfflineOrderModel(BaseChatModel):
    """Rules over the domain, speaking the tool-calling protocol of a chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    customers: Any = None  # orders.customers.CustomerIndex, to spot the customer in a message
    max_line_quantity: int | None = None
    # A turn calls the model several times on the same message: read it once.
    _readings: dict[tuple[str, bool], Reading] = PrivateAttr(default_factory=dict)
    _found: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "order-desk-offline"

    @property
    def model_name(self) -> str:
        return "offline"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> OfflineOrderModel:  # type: ignore[override]
        return self  # the tools it may call are fixed: those of agents.tools

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    # --- reading the conversation ---------------------------------------------------

    def respond(self, messages: list[BaseMessage]) -> AIMessage:
        draft = _current_draft(messages)
        last_human = max(
            (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=None
        )
        if last_human is None:
            return AIMessage(content=replies.GREETING)
        text = clean(str(messages[last_human].content))
        step = _step(messages[last_human + 1 :])
        step.recalled = _recalled(messages)
        if _rejected(step):
            return AIMessage(content=replies.not_confirmed(draft))
        # Read the message as it was read at the start of the turn: a draft created by this
        # turn's own tools must not turn "3 extra olive oil" into an edit halfway through.
        had_draft = _turn_had_draft(messages[last_human + 1 :], default=draft is not None)
        reading = self._read(text, has_draft=had_draft)
        handler = getattr(self, f"_on_{reading.intent}")
        answer = handler(reading, text, draft, step)
        if not step.calls:
            answer.additional_kwargs[TURN_HAD_DRAFT] = had_draft
        return answer

    def _read(self, text: str, *, has_draft: bool) -> Reading:
        key = (text, has_draft)
        cached = self._readings.get(key)
        if cached is None:
            customer = self._customer_in(text, None)
            cached = read_message(without_customer(text, customer), has_draft=has_draft)
            if len(self._readings) > 512:
                self._readings.clear()
            self._readings[key] = cached
        return copy.deepcopy(cached)

    # --- intents ----------------------------------------------------------------------

    def _on_chat(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft)
        if customer and draft is not None and customer["customer_id"] != draft.get("customer_id"):
            return self._drive(Plan(customer=customer), draft, step, reading)
        unknown = None if customer else self._unknown_reference(text)
        if unknown:
            return AIMessage(content=replies.unknown_customer(unknown))
        if reading.price_request:
            follow = replies.what_to_order(customer) if customer and draft is None else ""
            return AIMessage(content=f"{replies.PRICES_FIXED} {follow}".strip())
        if customer and draft is None:
            return AIMessage(content=replies.what_to_order(customer))
        return AIMessage(content=replies.did_not_understand(text, draft))

    def _on_confirm(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        done = step.done("confirm_order")
        if done:
            return AIMessage(content=replies.confirmed(done[-1][1]))
        if draft is None:
            return AIMessage(content=replies.NOTHING_TO_CONFIRM)
        if not draft.get("confirmable"):
            return AIMessage(content=replies.cannot_confirm(draft))
        return _call("confirm_order", {})

    def _on_discard(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        done = step.done("discard_draft")
        if done:
            return AIMessage(content=replies.discarded(done[-1][1]))
        if draft is None:
            return AIMessage(content=replies.NOTHING_TO_CANCEL)
        return _call("discard_draft", {})

    def _on_cancel_order(
        self, reading: Reading, text: str, draft: dict | None, step: Step
    ) -> AIMessage:
        done = step.done("cancel_order")
        if done:
            return AIMessage(content=replies.order_cancelled(done[-1][1]))
        return _call("cancel_order", {"order_id": reading.order_id})

    def _on_status(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        done = step.done("order_status")
        if done:
            return AIMessage(content=replies.status(done[-1][1], reading.order_id))
        return _call("order_status", {"order_id": reading.order_id})

    def _on_search(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        done = step.done("search_catalog")
        if done:
            return AIMessage(content=replies.search_answer(done[-1][1]))
        return _call("search_catalog", {"query": reading.query or text, "k": 5})

    def _on_repeat(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft)
        if customer is None:
            return AIMessage(content=self._which_customer(text, replies.WHICH_CUSTOMER_FOR_REPEAT))
        drafted = step.done("draft_order")
        if drafted:
            return AIMessage(content=replies.repeated(drafted[-1][1], _last_confirmed(step)))
        history = step.done("recent_orders")
        if not history:
            return _call("recent_orders", {"customer_id": customer["customer_id"], "n": 5})
        last = _last_confirmed(step)
        if last is None:
            return AIMessage(content=replies.no_previous_order(customer))
        lines = [
            {"product_id": line["product_id"], "quantity": line["quantity"]}
            for line in last["lines"]
        ]
        return _call("draft_order", {"customer_id": customer["customer_id"], "lines": lines})

    def _on_usual(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft) or _draft_customer(draft)
        if customer is None:
            return AIMessage(content=self._which_customer(text, replies.WHICH_CUSTOMER_FOR_USUAL))
        usual = _result(step, "usual_products")
        drafted = step.done("draft_order")
        if drafted:
            reply = replies.usual_drafted(drafted[-1][1], usual, _last_confirmed(step))
            return AIMessage(content=reply)
        if usual is None:
            return _call("usual_products", {"customer_id": customer["customer_id"], "n": 5})
        lines = [
            {"product_id": line["product_id"], "quantity": line["quantity"]}
            for line in usual.get("usual", [])
            if not line["discontinued"]
        ]
        if not lines:  # nothing they order repeatedly: their last order is the usual
            if not step.done("recent_orders"):
                return _call("recent_orders", {"customer_id": customer["customer_id"], "n": 5})
            last = _last_confirmed(step)
            if last is None:
                return AIMessage(content=replies.no_previous_order(customer))
            lines = _order_lines(last)
        return _call("draft_order", {"customer_id": customer["customer_id"], "lines": lines})

    def _on_habits(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft) or _draft_customer(draft)
        if customer is None:
            return AIMessage(content=self._which_customer(text, replies.WHICH_CUSTOMER_FOR_HABITS))
        if not step.calls:
            args = {"customer_id": customer["customer_id"]}
            return AIMessage(
                content="",
                tool_calls=[
                    _tool_call("usual_products", {**args, "n": 5}),
                    _tool_call("recent_orders", {**args, "n": 1}),
                ],
            )
        usual = _result(step, "usual_products")
        recent = _result(step, "recent_orders")
        return AIMessage(content=replies.habits(customer, usual, recent, step.recalled))

    def _on_remember(
        self, reading: Reading, text: str, draft: dict | None, step: Step
    ) -> AIMessage:
        customer = self._customer_in(text, draft) or _draft_customer(draft)
        if customer is None:
            return AIMessage(content=self._which_customer(text, replies.WHICH_CUSTOMER_FOR_NOTE))
        done = step.done("remember")
        if done:
            return AIMessage(content=replies.remembered(done[-1][1], customer))
        note = note_of(text) or reading.note or text
        kind = "preference" if PREFERENCE_WORDS.search(note) else "note"
        args = {"customer_id": customer["customer_id"], "note": note, "kind": kind}
        return _call("remember", args)

    def _on_order(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        return self._on_edit(reading, text, draft, step)

    def _on_edit(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft)
        unknown = None if customer else self._unknown_reference(text)
        if unknown:  # "ZQXWV wants 5 tofu": never draft for a customer who does not exist
            return AIMessage(content=replies.unknown_customer(unknown, order=True))
        searches = self._searches_needed(reading, draft)
        if not step.calls:
            calls = [
                _tool_call("search_catalog", {"query": phrase, "k": k}) for phrase, k in searches
            ]
            if customer is not None and customer["customer_id"] != (draft or {}).get("customer_id"):
                lookup = {"name_or_code": customer["customer_id"]}
                calls.insert(0, _tool_call("find_customer", lookup))
            if calls:
                return AIMessage(content="", tool_calls=calls)
        plan = self._plan(reading, draft, step, customer)
        return self._drive(plan, draft, step, reading)

    # --- planning -----------------------------------------------------------------------

    def _drive(self, plan: Plan, draft: dict | None, step: Step, reading: Reading) -> AIMessage:
        changed = step.done("draft_order") or step.done("update_draft")
        if changed:
            return AIMessage(content=replies.draft_reply(changed[-1][1], plan.notes))
        if not plan.changes:
            return AIMessage(content=replies.nothing_drafted(plan.notes, draft))
        if plan.new_draft or draft is None:
            lines = plan.set_lines + plan.add_lines
            if not lines:
                return AIMessage(content=replies.nothing_drafted(plan.notes, draft, plan.customer))
            customer_id = (plan.customer or {}).get("customer_id")
            return _call("draft_order", {"customer_id": customer_id, "lines": lines})
        args: dict[str, Any] = {}
        if plan.set_lines:
            args["set_quantities"] = plan.set_lines
        if plan.add_lines:
            args["add"] = plan.add_lines
        if plan.remove:
            args["remove"] = plan.remove
        if plan.customer and plan.customer["customer_id"] != draft.get("customer_id"):
            args["customer_id"] = plan.customer["customer_id"]
        if not args:
            return AIMessage(content=replies.nothing_drafted(plan.notes, draft))
        return _call("update_draft", args)

    def _plan(
        self, reading: Reading, draft: dict | None, step: Step, customer: dict | None
    ) -> Plan:
        plan = Plan(customer=_found_customer(step) or customer)
        found = {call["args"]["query"]: result for call, result in step.done("search_catalog")}
        limit = self.max_line_quantity or get_settings().max_line_quantity
        named_new_customer = plan.customer is not None and (
            draft is None or plan.customer["customer_id"] != draft.get("customer_id")
        )
        plan.new_draft = draft is None or (reading.intent == "order" and named_new_customer)
        on_draft = [] if plan.new_draft else (draft or {}).get("lines", [])
        for ask in reading.asks:
            self._plan_line(plan, ask, on_draft, found, limit)
        plan.notes += [replies.unclear_segment(s) for s in reading.unparsed if _worth_asking(s)]
        if reading.price_request:
            plan.notes.append(replies.PRICES_FIXED)
        return plan

    def _plan_line(
        self,
        plan: Plan,
        ask: Ask,
        on_draft: list[dict[str, Any]],
        found: dict[str, Any],
        limit: int,
    ) -> None:
        if ask.action == "remove" and ask.phrase == "*":
            plan.remove.extend(int(line["product_id"]) for line in on_draft)
            return
        editing = ask.action == "remove" or ask.factor is not None
        if not editing and not _quantity_ok(ask, limit):
            plan.notes.append(replies.bad_quantity(ask, limit))
            return
        product = _on_draft(ask.phrase, on_draft) if on_draft else None
        if product is None:
            result = found.get(ask.phrase)
            if result is None:  # never drop a line silently
                plan.notes.append(replies.unresolved(ask, {}))
                return
            if editing:
                product = _best_on_draft(result, on_draft)
                if product is None:
                    plan.notes.append(replies.not_on_draft(ask.phrase))
                    return
            else:
                best = _usable(result)
                if best is None:
                    plan.notes.append(replies.unresolved(ask, result))
                    return
                product = best
        product_id = int(product["product_id"])
        if ask.action == "remove":
            plan.remove.append(product_id)
            return
        if ask.factor is not None:
            current = next(
                (line["quantity"] for line in on_draft if line["product_id"] == product_id), 0
            )
            ask.quantity = max(1, round(current * ask.factor))
        line = {"product_id": product_id, "quantity": int(ask.quantity or 0)}
        (plan.add_lines if ask.action == "add" else plan.set_lines).append(line)

    def _searches_needed(self, reading: Reading, draft: dict | None) -> list[tuple[str, int]]:
        """(phrase, k) to look up; phrases naming a draft line in an edit need no search."""
        limit = self.max_line_quantity or get_settings().max_line_quantity
        lines = (draft or {}).get("lines", [])
        phrases: dict[str, int] = {}
        for ask in reading.asks:
            editing = ask.action == "remove" or ask.factor is not None
            if not editing and not _quantity_ok(ask, limit) or ask.phrase == "*":
                continue
            if (reading.intent == "edit" or editing) and lines:
                if _on_draft(ask.phrase, lines) is not None:
                    continue
            # Finding a draft line by description ("the cheese") needs a longer list.
            phrases.setdefault(ask.phrase, 20 if editing and lines else 5)
        return list(phrases.items())

    def _unknown_reference(self, text: str, *, by_name: bool = False) -> str | None:
        """A customer the message names by code (or, `by_name`, by name) that no customer is."""
        if self.customers is None:
            return None
        for pattern in (CODE_REFERENCE, NAME_REFERENCE) if by_name else (CODE_REFERENCE,):
            for match in pattern.finditer(text):
                reference = match["ref"].strip(" .'’-")
                if fold(reference) in replies.SMALL_TALK:
                    continue
                found = self.customers.lookup(reference)
                if pattern is CODE_REFERENCE:  # a code names one customer exactly, or none
                    unknown = found.best is None or found.best.customer_id != reference
                else:  # a name that fits several customers is a question, not "unknown"
                    unknown = found.best is None and not found.ambiguous
                if unknown:
                    return reference
        return None

    def _which_customer(self, text: str, question: str) -> str:
        unknown = self._unknown_reference(text, by_name=True)
        return replies.unknown_customer(unknown) if unknown else question

    def _customer_in(self, text: str, draft: dict | None) -> dict[str, Any] | None:
        if self.customers is None:
            return None
        if text not in self._found:
            if len(self._found) > 512:
                self._found.clear()
            self._found[text] = self.customers.find_in(text)
        match = self._found[text]
        if match is None:
            return None
        aliases = [match.company_name, match.contact_name or "", match.customer_id]
        return {
            "customer_id": match.customer_id,
            "company_name": match.company_name,
            "aliases": aliases,
        }


# --- helpers ------------------------------------------------------------------------------


TURN_HAD_DRAFT = "orderdesk_turn_had_draft"


def _turn_had_draft(since_user: list[BaseMessage], *, default: bool) -> bool:
    """Whether the conversation had an open draft when the user's message arrived."""
    for message in since_user:
        if isinstance(message, AIMessage) and TURN_HAD_DRAFT in message.additional_kwargs:
            return bool(message.additional_kwargs[TURN_HAD_DRAFT])
    return default


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[_tool_call(name, args)])


def _tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}


def _current_draft(messages: list[BaseMessage]) -> dict[str, Any] | None:
    for message in messages:
        if isinstance(message, SystemMessage):
            match = DRAFT_TAG.search(str(message.content))
            if match:
                data = json.loads(match.group(1))
                return data if data and data.get("status") == "open" else None
    return None


def _order_lines(order: dict[str, Any]) -> list[dict[str, int]]:
    return [{"product_id": x["product_id"], "quantity": x["quantity"]} for x in order["lines"]]


def _draft_customer(draft: dict[str, Any] | None) -> dict[str, Any] | None:
    if not draft or not draft.get("customer_id"):
        return None
    return {"customer_id": draft["customer_id"], "company_name": draft.get("customer_name")}


def _recalled(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """The memories the system prompt lists for the turn's customer."""
    for message in messages:
        if isinstance(message, SystemMessage):
            match = MEMORIES_TAG.search(str(message.content))
            if match:
                return [m.groupdict() for m in MEMORY_LINE.finditer(match.group(1))]
    return []


def _result(step: Step, name: str) -> dict[str, Any] | None:
    done = step.done(name)
    return done[-1][1] if done and isinstance(done[-1][1], dict) else None


def _step(messages: list[BaseMessage]) -> Step:
    step = Step()
    for message in messages:
        if isinstance(message, AIMessage):
            step.calls.extend(message.tool_calls)
        elif isinstance(message, ToolMessage):
            try:
                step.results[message.tool_call_id] = json.loads(str(message.content))
            except json.JSONDecodeError:
                step.results[message.tool_call_id] = {"error": str(message.content)}
    return step


def _rejected(step: Step) -> bool:
    done = step.done("confirm_order")
    return (
        bool(done)
        and isinstance(done[-1][1], dict)
        and "order" not in done[-1][1]
        and ("error" in done[-1][1] and "reject" in str(done[-1][1]["error"]).lower())
    )


def _found_customer(step: Step) -> dict[str, Any] | None:
    for _, result in reversed(step.done("find_customer")):
        if isinstance(result, dict) and result.get("match"):
            return result["match"]
    return None


def _last_confirmed(step: Step) -> dict[str, Any] | None:
    for _, result in step.done("recent_orders"):
        for order in (result or {}).get("orders", []):
            if order.get("status") == "confirmed":
                return order
    return None


def _quantity_ok(ask: Ask, limit: int) -> bool:
    return ask.quantity is not None and 0 < ask.quantity <= limit


def _usable(result: dict[str, Any]) -> dict[str, Any] | None:
    if not result or result.get("no_match") or result.get("ambiguous"):
        return None
    candidates = result.get("candidates") or []
    return candidates[0] if candidates else None


def _on_draft(phrase: str, lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The draft line a phrase clearly refers to ("the tofu", "ikura"), if any."""
    if not lines:
        return None
    names = {i: fold(line["product_name"]) for i, line in enumerate(lines)}
    scored = process.extract(fold(phrase), names, scorer=fuzz.WRatio, limit=2)
    if not scored or scored[0][1] < 85:
        return None
    if len(scored) > 1 and scored[1][1] >= scored[0][1] - 3:
        exact = [i for i, name in names.items() if name == fold(phrase)]
        if not exact:
            return None
        return lines[exact[0]]
    return lines[scored[0][2]]


def _best_on_draft(result: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    ids = {line["product_id"] for line in lines}
    for candidate in (result or {}).get("candidates", []):
        if candidate["product_id"] in ids:
            return candidate
    return None


def without_customer(text: str, customer: dict[str, Any] | None) -> str:
    """The message with the customer's mention (and its "for" / "wants") cut out.

    So "tofu x12 for Wolski Zajazd" reads as a line, not as a product named "tofu for
    Wolski Zajazd". The best-matching run of words (fuzzy, accents aside) is removed.
    """
    if not customer:
        return text
    aliases = [fold(a) for a in customer.get("aliases", []) if a]
    tokens = list(re.finditer(r"[^\s,;:|()]+", text))
    words = [fold(token.group()).strip(" .'!?-—") for token in tokens]
    best: tuple[float, int, int, int] | None = None
    for i in range(len(tokens)):
        for j in range(i + 1, min(len(tokens), i + 7) + 1):
            window = " ".join(words[i:j]).strip()
            score = max((_alias_score(window, alias) for alias in aliases), default=0)
            key = (score, j - i, -i, j)
            if score >= 88 and (best is None or key > best):
                best = key
    if best is None:
        return text
    _, _, neg_i, j = best
    start, end = tokens[-neg_i].start(), tokens[j - 1].end()
    before = re.sub(
        r"(?:\b(?:for|to|from|customer|client|cust|account|acct|order for|on an order for|"
        r"an order for|new order for|order from)\s*[:\-—]?\s*)+$",
        "",
        text[:start],
        flags=re.IGNORECASE,
    )
    after = re.sub(r"^['’]?s?\s*(?:[:—–]|-(?=\s))*\s*", "", text[end:])
    return f"{before}\n{after}"


def _alias_score(window: str, alias: str) -> float:
    if not window or not alias:
        return 0.0
    words = alias.split()
    n = len(window.split())
    if n < len(words):
        # A shortened name: "Alfreds" for "Alfreds Futterkiste", "Bon app" for "Bon app'".
        head = " ".join(words[:n])
        if len(window) < 4:
            return 0.0
        return fuzz.ratio(window, head) - 4
    return fuzz.ratio(window, alias)


def _worth_asking(segment: str) -> bool:
    words = re.findall(r"[^\W\d_]+", fold(segment))
    return 0 < len(words) <= 4 and not set(words) <= replies.SMALL_TALK
