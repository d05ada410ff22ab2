"""The offline order model: a deterministic `BaseChatModel` that drives the tools by rules.

It reads the conversation the way an LLM would - the system message (which carries the
current draft as JSON and what is remembered about the turn's customer), the user's last
message and the tool results since - and
answers with the next step: tool calls (find_customer, search_catalog, draft_order,
update_draft, confirm_order, ...) or the reply text. Every call recomputes its plan from
the messages, so it keeps no state of its own and a thread can resume in any process.

It streams like a hosted model: `respond()` decides the whole answer, and `_stream` hands
it out as chunks (the text word by word, each tool call as a tool-call chunk), so a
streamed answer adds up to exactly what `invoke` returns. Both report usage: the
whitespace-separated words the call read and wrote (see `_usage`).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, PrivateAttr
from rapidfuzz import fuzz, process

from agents.offline import packs, replies, substitutes
from agents.reading import noise
from agents.reading.header import find_header, header_fields
from agents.reading.intents import note_of
from agents.reading.items import Ask, NameTerms, split_at_connectors
from agents.reading.reader import Reading, read_message
from agents.reading.text import clean, fold
from agents.reading.today import today
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
    earlier: list[BaseMessage] = field(default_factory=list)  # the conversation before
    planned: dict[str, Any] = field(default_factory=dict)  # notes of the draft change made

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
    open_items: list[dict[str, Any]] = field(default_factory=list)  # what still needs an answer
    open_changed: bool = False  # the draft's open items differ from before the turn
    ignored: list[str] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)  # PO, requested_date (ISO), ...

    @property
    def changes(self) -> bool:
        return bool(
            self.set_lines
            or self.add_lines
            or self.remove
            or self.customer
            or self.open_changed
            or self.header
        )

    def ask(self, item: dict[str, Any]) -> None:
        """An open question: kept on the draft (it blocks confirmation) and in the reply."""
        self.open_items.append(item)
        self.open_changed = True
        self.notes.append(item["question"])


class OfflineOrderModel(BaseChatModel):
    """Rules over the domain, speaking the tool-calling protocol of a chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    customers: Any = None  # orders.customers.CustomerIndex, to spot the customer in a message
    product_names: Any = None  # the catalog's product names, for numbers inside names
    max_line_quantity: int | None = None
    stop: list[str] | None = None  # default stop sequences, as a call's `stop` argument
    # A turn calls the model several times on the same message: read it once.
    _readings: dict[tuple[str, bool], Reading] = PrivateAttr(default_factory=dict)
    _found: dict[str, Any] = PrivateAttr(default_factory=dict)
    _terms: NameTerms | None = PrivateAttr(default=None)

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
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages, stop))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # BaseChatModel.stream() reports each chunk to the callbacks itself and passes no
        # run_manager; a caller that does pass one (the v2 event bridge) gets them here.
        for chunk in _chunks(self._answer(messages, stop)):
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # Reading is CPU work (fuzzy matching): off the event loop, as _agenerate does.
        answer = await run_in_executor(None, self._answer, messages, stop)
        for chunk in _chunks(answer):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _answer(self, messages: list[BaseMessage], stop: list[str] | None) -> AIMessage:
        """`respond()`, cut at the first stop sequence, with its usage and model name."""
        answer = self.respond(messages)
        answer.content = _cut_at_stop(str(answer.content), stop or self.stop or [])
        answer.usage_metadata = _usage(messages, answer)
        answer.response_metadata["model_name"] = self.model_name
        return answer

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
        # Only a draft offered before this message can be chosen for, and a PO number or a
        # date in it is not a choice ("PO number: 1" is not "option 1").
        choosing = find_header(text, has_draft=True).rest if had_draft else ""
        substituted = substitutes.respond(choosing, draft, step, messages[:last_human])
        if substituted is not None:  # an alternative taken, or what is available shipped
            if not step.calls:
                substituted.additional_kwargs[TURN_HAD_DRAFT] = had_draft
            return substituted
        reading = self._read(text, has_draft=had_draft)
        answer = self._answer_all(reading, text, draft, step, messages[:last_human])
        if not step.calls:
            answer.additional_kwargs[TURN_HAD_DRAFT] = had_draft
        return answer

    def _answer_all(
        self,
        reading: Reading,
        text: str,
        draft: dict | None,
        step: Step,
        earlier: list[BaseMessage],
    ) -> AIMessage:
        """Every request of the message: their tool calls together, then their replies."""
        step.earlier = earlier
        parts = [reading] + [
            Reading(r.intent, order_id=r.order_id, query=r.query)  # type: ignore[arg-type]
            for r in reading.requests
        ]
        answers = [getattr(self, f"_on_{part.intent}")(part, text, draft, step) for part in parts]
        calls, seen = [], set()
        for answer in answers:
            for call in answer.tool_calls:
                key = (call["name"], json.dumps(call["args"], sort_keys=True, default=str))
                if key not in seen:
                    seen.add(key)
                    calls.append(call)
        if calls:
            message = AIMessage(content="", tool_calls=calls)
            for answer in answers:
                if PLANNED in answer.additional_kwargs:
                    message.additional_kwargs[PLANNED] = answer.additional_kwargs[PLANNED]
            return message
        attention = [q for a in answers for q in a.additional_kwargs.get(ATTENTION, [])]
        content = "\n\n".join(str(a.content) for a in answers if a.content)
        message = AIMessage(content=content)
        for answer in answers:
            message.additional_kwargs.update(answer.additional_kwargs)
        if attention:
            message.additional_kwargs[ATTENTION] = attention
        return message

    def _read(self, text: str, *, has_draft: bool) -> Reading:
        key = (text, has_draft)
        cached = self._readings.get(key)
        if cached is None:
            customer = self._customer_in(text, None)
            cached = read_message(
                without_customer(text, customer), has_draft=has_draft, names=self._name_terms()
            )
            if len(self._readings) > 512:
                self._readings.clear()
            self._readings[key] = cached
        return copy.deepcopy(cached)

    # --- intents ----------------------------------------------------------------------

    def _on_chat(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft)
        if customer and draft is None and _pending(step.earlier):
            return self._on_edit(reading, text, draft, step)  # the lines held back for them
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
            questions = [item["question"] for item in draft.get("open_items") or []]
            return _attention(replies.cannot_confirm(draft), questions)
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
        if reading.order_id is None and draft is not None:
            return self._on_discard(reading, text, draft, step)  # "cancel the order": the draft
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
        customer = self._customer_in(text, draft) or self._named(
            _conversation_customer(step.earlier)
        )
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
        args = {"customer_id": customer["customer_id"], "lines": lines}
        return _call("draft_order", _with_header(args, reading))

    def _on_usual(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = (
            self._customer_in(text, draft)
            or _draft_customer(draft)
            or self._named(_conversation_customer(step.earlier))
        )
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
        args = {"customer_id": customer["customer_id"], "lines": lines}
        return _call("draft_order", _with_header(args, reading))

    def _on_habits(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = (
            self._customer_in(text, draft)
            or _draft_customer(draft)
            or self._named(_conversation_customer(step.earlier))
        )
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
        customer = (
            self._customer_in(text, draft)
            or _draft_customer(draft)
            or self._named(_conversation_customer(step.earlier))
        )
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

    def _on_header(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        """ "PO is 7781", "deliver on the 20th", "ship to our Lyon store": the draft's header."""
        return self._on_edit(reading, text, draft, step)

    def _on_edit(self, reading: Reading, text: str, draft: dict | None, step: Step) -> AIMessage:
        customer = self._customer_in(text, draft)
        unknown = None if customer else self._unknown_customer(text, reading, draft)
        if unknown:  # "ZQXWV wants 5 tofu": never draft for a customer who does not exist
            question = replies.unknown_customer(unknown, order=True)
            message = _attention(question, [question])
            # Kept in the conversation, so naming the customer next drafts these lines.
            message.additional_kwargs[PENDING] = [
                {"phrase": a.phrase, "quantity": a.quantity, "raw": a.raw_quantity}
                for a in reading.asks
                if a.phrase and a.quantity is not None
            ]
            return message
        if customer is not None and draft is None and _only_a_customer(reading):
            pending = _pending(step.earlier)
            if pending:  # "sorry, it's for Ernst Handel" after "Acme Widgets wants 5 tofu"
                reading = copy.copy(reading)
                reading.asks = [Ask(p["phrase"], p["quantity"], p["raw"]) for p in pending]
        done = {call["args"].get("query") for call, _ in step.done("search_catalog")}
        calls = [
            _tool_call("search_catalog", {"query": phrase, "k": k})
            for phrase, k in self._searches_needed(reading, draft)
            if phrase not in done
        ]
        if customer is not None and customer["customer_id"] != (draft or {}).get("customer_id"):
            if not step.done("find_customer"):
                calls.insert(
                    0, _tool_call("find_customer", {"name_or_code": customer["customer_id"]})
                )
        if calls and not (step.done("draft_order") or step.done("update_draft")):
            return AIMessage(content="", tool_calls=calls)
        plan = self._plan(reading, draft, step, customer)
        return self._drive(plan, draft, step, reading)

    # --- planning -----------------------------------------------------------------------

    def _drive(self, plan: Plan, draft: dict | None, step: Step, reading: Reading) -> AIMessage:
        changed = step.done("draft_order") or step.done("update_draft")
        if changed:
            # The notes of the plan that made the change: planning again now would read the
            # changed draft ("ikura is not on the draft" right after removing it).
            notes = step.planned.get("notes", plan.notes)
            ignored = step.planned.get("ignored", plan.ignored)
            asked = (changed[-1][0].get("args") or {}).get("header")
            reply = replies.draft_reply(changed[-1][1], notes, ignored, header=asked)
            return AIMessage(content=reply)
        if not plan.changes:
            if not plan.notes:
                return AIMessage(content=replies.did_not_understand(reading_text(reading), draft))
            return _open(replies.nothing_drafted(plan.notes, draft), plan.open_items)
        if plan.new_draft or draft is None:
            lines = plan.set_lines + plan.add_lines
            # A draft with no lines is kept only to hold a quantity the user gave for a
            # phrase that fits several products; other questions live in the reply.
            keep = [
                i
                for i in plan.open_items
                if i["kind"] == "ambiguous" and i["quantity"] or packs.holds_customer(i)
            ]
            if not lines and not ((keep or plan.header) and plan.customer):
                if plan.customer and not plan.notes and draft is None:
                    return AIMessage(content=replies.what_to_order(plan.customer))
                if plan.header:  # "PO 4711" with nothing to put it on
                    plan.notes.insert(0, replies.header_without_draft(plan.header))
                reply = replies.nothing_drafted(plan.notes, draft, plan.customer)
                return _open(reply, plan.open_items)
            customer_id = (plan.customer or {}).get("customer_id")
            args = {"customer_id": customer_id, "lines": lines}
            if plan.open_items:
                args["open_items"] = plan.open_items
            if plan.header:
                args["header"] = plan.header
            return _planned(_call("draft_order", args), plan)
        args: dict[str, Any] = {}
        if plan.set_lines:
            args["set_quantities"] = plan.set_lines
        if plan.add_lines:
            args["add"] = plan.add_lines
        if plan.remove:
            args["remove"] = plan.remove
        if plan.customer and plan.customer["customer_id"] != draft.get("customer_id"):
            args["customer_id"] = plan.customer["customer_id"]
            plan.notes.insert(0, replies.customer_changed(plan.customer))
        if plan.open_changed:
            args["open_items"] = plan.open_items
        if plan.header:
            args["header"] = plan.header
        if not args:
            return _open(replies.nothing_drafted(plan.notes, draft), plan.open_items)
        return _planned(_call("update_draft", args), plan)

    def _plan(
        self, reading: Reading, draft: dict | None, step: Step, customer: dict | None
    ) -> Plan:
        plan = Plan(customer=_found_customer(step) or customer, ignored=list(reading.ignored))
        plan.header, unread = header_fields(reading.order_header, today())
        plan.notes += [replies.unread_date(written) for written in unread]
        found = {
            call["args"]["query"]: _judged(call["args"]["query"], result)
            for call, result in step.done("search_catalog")
        }
        limit = self.max_line_quantity or get_settings().max_line_quantity
        named_new_customer = plan.customer is not None and (
            draft is None or plan.customer["customer_id"] != draft.get("customer_id")
        )
        plan.new_draft = draft is None or (reading.intent == "order" and named_new_customer)
        on_draft = [] if plan.new_draft else (draft or {}).get("lines", [])
        if draft is None:  # the questions the last reply asked with no draft to hold them
            before = _previous_open(step.earlier)
        else:
            before = [] if plan.new_draft else list(draft.get("open_items") or [])
        remaining = [dict(item) for item in before]
        last = _last_mentioned(step.earlier, on_draft)
        for ask in reading.asks:
            self._plan_line(plan, ask, on_draft, found, limit, remaining, last)
        plan.notes += [replies.unclear_segment(s) for s in reading.unparsed if _worth_asking(s)]
        if plan.customer is not None or (draft or {}).get("customer_id"):
            remaining[:] = [i for i in remaining if i.get("kind") != "unknown_customer"]
        elif plan.new_draft and (plan.set_lines or plan.add_lines):
            question = replies.who_is_it_for(reading.customer_phrase, reading.headers)
            plan.ask(_item("unknown_customer", reading.customer_phrase or "", None, question, []))
        plan.notes += [f"Still open: {item['question']}" for item in remaining]
        plan.open_items = remaining + plan.open_items
        if [i.get("phrase") for i in remaining] != [i.get("phrase") for i in before]:
            plan.open_changed = True
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
        remaining: list[dict[str, Any]],
        last: int | None,
    ) -> None:
        if ask.action == "remove" and ask.phrase == "*":
            plan.remove.extend(int(line["product_id"]) for line in on_draft)
            remaining.clear()
            return
        editing = ask.action == "remove" or ask.factor is not None
        if ask.action == "remove" and ask.phrase and _drop_open(ask.phrase, remaining, {}):
            # "forget the blue widgets": the open question goes, and no line is touched.
            plan.open_changed = True
            plan.notes.append(f"Dropped “{ask.phrase}” from the open questions.")
            return
        if not ask.phrase and (not ask.reference or packs.answers_open(ask, remaining)):
            if packs.answer_in_units(plan, ask, remaining, on_draft):
                self._plan_bare_quantity(plan, ask, on_draft, remaining, limit)
            return
        if ask.same_quantity and on_draft:  # "add the same amount of Sasquatch Ale"
            model_line = _referenced("it", on_draft, last)
            if model_line is not None:
                ask.quantity, ask.raw_quantity = int(model_line["quantity"]), "the same amount"
        if ask.replaces and on_draft:  # the new product takes the replaced line's quantity
            old = _on_draft(ask.replaces, on_draft)
            if old is not None:
                ask.quantity, ask.raw_quantity = int(old["quantity"]), str(old["quantity"])
                ask.replaces = None
        if (
            not editing
            and ask.quantity is None
            and ask.raw_quantity is None
            and not ask.replaces
            and not ask.same_quantity
        ):
            self._plan_leftover(plan, ask.phrase, found, remaining, on_draft, limit)
            return
        if not editing and not _quantity_ok(ask, limit):
            result = found.get(ask.phrase) or {}
            best = _usable(result)
            ids = [int(best["product_id"])] if best else []
            question = packs.pack_hint(replies.bad_quantity(ask, limit), ask, best)
            plan.ask(_item("bad_quantity", ask.source or ask.phrase, None, question, ids))
            return
        product = None
        if ask.reference == "all" and on_draft and not editing:
            for line in on_draft:  # "make them both 7"
                each = Ask(line["product_name"], ask.quantity, ask.raw_quantity, ask.action)
                self._plan_line(plan, each, on_draft, found, limit, remaining, last)
            return
        if ask.reference == "all" and on_draft and ask.action == "remove":
            plan.remove.extend(int(line["product_id"]) for line in on_draft)
            return
        if ask.replaces and on_draft:  # "swap the biscuits for Zaanse koeken"
            old = _on_draft(ask.replaces, on_draft)
            ask.quantity = int(old["quantity"]) if old else None
            ask.raw_quantity = str(ask.quantity) if old else None
            if old is None:
                question = replies.which_line(ask.replaces, on_draft)
                plan.ask(_item("question", ask.replaces, None, question, []))
                return
        if ask.reference == "other" and on_draft:
            touched = {line["product_id"] for line in plan.set_lines + plan.add_lines}
            others = [line for line in on_draft if int(line["product_id"]) not in touched]
            product = others[0] if len(others) == 1 else None
            if product is None:
                question = replies.which_line(ask.phrase or "the other one", on_draft)
                plan.ask(_item("question", ask.phrase or "the other one", None, question, []))
                return
        elif ask.reference and (on_draft or plan.set_lines):
            placed = plan.set_lines + plan.add_lines
            recent = int(placed[-1]["product_id"]) if placed else last
            on_ids = {int(line["product_id"]) for line in on_draft}
            if ask.reference == "it" and placed and recent not in on_ids and ask.quantity:
                placed[-1]["quantity"] = int(ask.quantity)  # "the Cabrales, and make it 8"
                return
            product = _referenced(ask.reference, on_draft, recent)
            if product is None:
                question = replies.which_line(ask.phrase or "it", on_draft)
                plan.ask(_item("question", ask.phrase or "it", ask.quantity, question, []))
                return
        elif on_draft:
            product = _on_draft(ask.phrase, on_draft)
        if product is None:
            result = found.get(ask.phrase)
            if result is None:  # never drop a line silently
                question = replies.unresolved(ask, {})
                plan.ask(_item("unplaced", ask.source or ask.phrase, ask.quantity, question, []))
                return
            if editing:
                product = _best_on_draft(ask.phrase, result, on_draft)
                if product is None:
                    if ask.action == "remove" and _drop_open(ask.phrase, remaining, result):
                        plan.notes.append(f"Dropped “{ask.phrase}” from the open questions.")
                        return
                    plan.notes.append(replies.not_on_draft(ask.phrase))
                    return
            else:
                best = _usable(result)
                if best is None:
                    kind = "ambiguous" if result.get("ambiguous") else "unplaced"
                    ids = _close_ids(result) if kind == "ambiguous" else []
                    question = replies.unresolved(ask, result)
                    plan.ask(_item(kind, ask.phrase, ask.quantity, question, ids))
                    return
                product = best
        product_id = int(product["product_id"])
        _resolve(remaining, product_id)
        if ask.action == "remove":
            plan.remove.append(product_id)
            return
        if ask.factor is not None:
            current = next(
                (line["quantity"] for line in on_draft if line["product_id"] == product_id), 0
            )
            ask.quantity = max(1, round(current * ask.factor))
        if not packs.counted_in_units(plan, ask, product):
            return  # "36 bottles" of a case of 24: asked, never rounded
        line = {"product_id": product_id, "quantity": int(ask.quantity or 0)}
        (plan.add_lines if ask.action == "add" else plan.set_lines).append(line)

    def _plan_bare_quantity(
        self,
        plan: Plan,
        ask: Ask,
        on_draft: list[dict[str, Any]],
        remaining: list[dict[str, Any]],
        limit: int,
    ) -> None:
        """A quantity with no product: the answer to "how many?", or a question back."""
        waiting = [i for i in remaining if len(i.get("candidates") or []) == 1]
        if len(waiting) == 1 and _quantity_ok(ask, limit):
            item = waiting[0]
            remaining.remove(item)
            plan.open_changed = True
            line = {"product_id": int(item["candidates"][0]), "quantity": int(ask.quantity or 0)}
            plan.set_lines.append(line)
            return
        if len(on_draft) == 1 and _quantity_ok(ask, limit) and not remaining:
            # "no wait, 12" with one line on the draft: that line's quantity
            line = {
                "product_id": int(on_draft[0]["product_id"]),
                "quantity": int(ask.quantity or 0),
            }
            (plan.add_lines if ask.action == "add" else plan.set_lines).append(line)
            return
        shown = ask.raw_quantity or str(ask.quantity)
        question = replies.orphan_quantity(shown)
        plan.ask(_item("unplaced", ask.source or shown, ask.quantity, question, []))

    def _plan_leftover(
        self,
        plan: Plan,
        phrase: str,
        found: dict[str, Any],
        remaining: list[dict[str, Any]],
        on_draft: list[dict[str, Any]],
        limit: int,
    ) -> None:
        """Words with no quantity: an answer to an open question, a product to ask about,
        or (matching no product) text that asks for nothing."""
        result = found.get(phrase) or {}
        candidates = result.get("candidates") or []
        if not candidates:
            return
        ids = [int(c["product_id"]) for c in candidates]
        for item in remaining:
            chosen = _chosen(phrase, candidates, item)
            if chosen is not None and item.get("quantity"):
                remaining.remove(item)
                plan.open_changed = True
                plan.set_lines.append({"product_id": chosen, "quantity": int(item["quantity"])})
                return
        parts = [part for part in _parts(phrase) if (found.get(part) or {}).get("candidates")]
        if len(parts) > 1 and all(
            _holds_name(part, found[part]["candidates"][0]["name"]) for part in parts
        ):
            for part in parts:  # "Tofu y sinco de Konbu": one question per product
                self._plan_leftover(plan, part, found, remaining, on_draft, limit)
            return
        top = candidates[0]["name"]
        # The whole name of a product among unreadable words ("sinco de Konbu") is a product
        # mention, whatever the search thought of the extra words.
        holds = _holds_name(phrase, top)
        if not holds and (result.get("no_match") or not _looks_like_product(phrase, top)):
            for part in _parts(phrase):  # each product of a run that could not be read
                if part in found:
                    self._plan_leftover(plan, part, found, remaining, on_draft, limit)
            return  # "hope you are well", "please deliver to the back door": no product
        if on_draft and _on_draft(phrase, on_draft) is not None:
            return  # names a line already drafted, and asks nothing of it
        best = _usable(result) or (candidates[0] if holds and len(_parts(phrase)) < 2 else None)
        dead = [line for line in on_draft if line.get("status") == "discontinued"]
        if best is not None and len(dead) == 1 and not best.get("discontinued"):
            # The desk said the line cannot be sold; naming another product replaces it.
            plan.remove.append(int(dead[0]["product_id"]))
            plan.set_lines.append(
                {"product_id": int(best["product_id"]), "quantity": int(dead[0]["quantity"])}
            )
            plan.notes.append(f"Replaced {dead[0]['product_name']} with {best['name']}.")
            return
        question = replies.how_many(phrase, best)
        plan.ask(
            _item(
                "question", phrase, None, question, [int(best["product_id"])] if best else ids[:4]
            )
        )

    def _searches_needed(self, reading: Reading, draft: dict | None) -> list[tuple[str, int]]:
        """(phrase, k) to look up; phrases naming a draft line in an edit need no search."""
        lines = (draft or {}).get("lines", [])
        phrases: dict[str, int] = {}
        for ask in reading.asks:
            editing = ask.action == "remove" or ask.factor is not None
            if ask.phrase in ("*", "") or ask.reference:
                continue
            if (reading.intent == "edit" or editing) and lines:
                if _on_draft(ask.phrase, lines) is not None:
                    continue
            # Finding a draft line by description ("the cheese") needs a longer list.
            phrases.setdefault(ask.phrase, 20 if editing and lines else 5)
        for phrase in reading.leftovers:
            phrases.setdefault(phrase, 5)
            for part in _parts(phrase):  # "dose cajas de Tofu y sinco de Konbu"
                phrases.setdefault(part, 5)
        return list(phrases.items())

    def _unknown_customer(self, text: str, reading: Reading, draft: dict | None) -> str | None:
        """A customer the message names (by code, or before "wants") that no customer is."""
        unknown = self._unknown_reference(text)
        if unknown or self.customers is None or not reading.customer_phrase:
            return unknown
        phrase = reading.customer_phrase.strip(" .,:;")
        words = fold(phrase).split()
        if not words or set(words) <= replies.NOT_A_CUSTOMER or not phrase[:1].isupper():
            return None
        found = self.customers.lookup(phrase)
        return phrase if found.best is None and not found.ambiguous else None

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

    def _name_terms(self) -> NameTerms | None:
        if self._terms is None and self.product_names:
            self._terms = NameTerms.from_names(list(self.product_names))
        return self._terms

    def _named(self, customer: dict[str, Any] | None) -> dict[str, Any] | None:
        """A customer known by code only, with its company name from the index."""
        if customer is None or self.customers is None:
            return customer
        found = self.customers.lookup(customer["customer_id"]).best
        return {**customer, "company_name": found.company_name} if found else customer

    def _which_customer(self, text: str, question: str) -> str:
        unknown = self._unknown_reference(text, by_name=True)
        return replies.unknown_customer(unknown) if unknown else question

    def _customer_in(self, text: str, draft: dict | None) -> dict[str, Any] | None:
        if self.customers is None:
            return None
        if text not in self._found:
            if len(self._found) > 512:
                self._found.clear()
            # Without its header: "N.º de pedido 1" must not sound like a contact "Pedro".
            plain = find_header(text).rest
            self._found[text] = (
                self.customers.find_in(plain)
                or self._from_content(plain)
                or self._from_context(plain)
            )
        match = self._found[text]
        if match is None:
            return None
        aliases = [match.company_name, match.contact_name or "", match.customer_id]
        return {
            "customer_id": match.customer_id,
            "company_name": match.company_name,
            "aliases": aliases,
        }

    def _from_content(self, text: str) -> Any:
        """The customer named in the body of a pasted email, when its signature or address
        names another one too ("C/ Romero, 33" beside "Godos Cocina Típica")."""
        lines = noise.classify_lines(text)
        body = "\n".join(info.text for info in lines if info.kind == "content")
        if not body or len(body) == len(text):
            return None
        return self.customers.find_in(body)

    def _from_context(self, text: str) -> Any:
        """The customer of a pasted email named only in its headers or signature: each such
        line on its own, then the sender's email domain; None unless exactly one fits."""
        found: dict[str, Any] = {}
        domains: list[str] = []
        for info in noise.classify_lines(text):
            if info.kind not in ("header", "signature", "closing", "greeting"):
                continue
            fields = info.fields or {}
            for piece in (info.text, *(str(v) for k, v in fields.items() if "domain" not in k)):
                match = self.customers.find_in(piece)
                if match is not None:
                    found[match.customer_id] = match
            domains += [str(v) for k, v in fields.items() if k.endswith(("domain", "email"))]
        if not found:
            for domain in domains:
                match = self.customers.by_domain(domain)
                if match is not None:
                    found[match.customer_id] = match
        return next(iter(found.values())) if len(found) == 1 else None


# --- streaming and usage --------------------------------------------------------------


def _chunks(answer: AIMessage) -> Iterator[ChatGenerationChunk]:
    """The answer as a stream that adds up to it: the text word by word (each word with the
    whitespace after it), then one chunk per tool call (its arguments as a JSON string).
    Every chunk has the answer's id; the first carries its additional_kwargs (merged once,
    never concatenated), the last its usage and model name and `chunk_position="last"`."""
    calls = [
        [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)]
        for i, c in enumerate(answer.tool_calls)
    ]
    pieces: list[dict[str, Any]] = [{"content": w} for w in _words_of(str(answer.content))]
    pieces += [{"content": "", "tool_call_chunks": chunk} for chunk in calls]
    pieces = pieces or [{"content": ""}]
    pieces[0]["additional_kwargs"] = dict(answer.additional_kwargs)
    pieces[-1].update(
        usage_metadata=answer.usage_metadata,
        response_metadata=dict(answer.response_metadata),
        chunk_position="last",
    )
    for piece in pieces:
        yield ChatGenerationChunk(message=AIMessageChunk(id=answer.id, **piece))


def _words_of(text: str) -> list[str]:
    """The text as words, each with the whitespace after it; joined, they are the text."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def _cut_at_stop(text: str, stop: list[str]) -> str:
    """The text up to (without) the first of the stop sequences it contains."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(found)] if found else text


def _usage(messages: list[BaseMessage], answer: AIMessage) -> UsageMetadata:
    """What the call read and wrote, in whitespace-separated words: the model has no
    tokenizer. Input: the text of every message given (system prompt, user, tool results,
    earlier answers) and the JSON of the tool calls those answers made; output: the same of
    the answer. Deterministic, and the same for `invoke` and `stream`."""
    read = sum(_word_count(m) for m in messages)
    wrote = _word_count(answer)
    return UsageMetadata(input_tokens=read, output_tokens=wrote, total_tokens=read + wrote)


def _word_count(message: BaseMessage) -> int:
    calls = message.tool_calls if isinstance(message, AIMessage) else []
    said = [message.text] + [
        json.dumps({"name": c["name"], "args": c["args"]}, default=str) for c in calls
    ]
    return len(" ".join(said).split())


# --- helpers ------------------------------------------------------------------------------


TURN_HAD_DRAFT = "orderdesk_turn_had_draft"
# The questions a reply asks that no draft holds (read by the desk into Turn.attention).
ATTENTION = "orderdesk_attention"


PLANNED = "orderdesk_planned"
PENDING = "orderdesk_pending"  # lines asked for while the customer was unknown


def _pending(earlier: list[BaseMessage]) -> list[dict[str, Any]]:
    """The lines the desk's last reply held back for an unknown customer, if it did."""
    for message in reversed(earlier):
        if isinstance(message, AIMessage) and message.content:
            return list(message.additional_kwargs.get(PENDING) or [])
    return []


def _only_a_customer(reading: Reading) -> bool:
    """The message names nothing to order: only (perhaps) who it is for."""
    return all(ask.quantity is None for ask in reading.asks)


def _conversation_customer(earlier: list[BaseMessage]) -> dict[str, Any] | None:
    """The customer the conversation was last about ("what did they order last time?")."""
    for message in reversed(earlier):
        if not isinstance(message, AIMessage):
            continue
        for call in reversed(message.tool_calls):
            code = (call.get("args") or {}).get("customer_id")
            if isinstance(code, str) and code:
                return {"customer_id": code, "company_name": code}
    return None


def _with_header(args: dict[str, Any], reading: Reading) -> dict[str, Any]:
    """ "Same as last time for Alfreds, PO 4711": the draft gets the header given too."""
    header, _ = header_fields(reading.order_header, today())
    return {**args, "header": header} if header else args


def _planned(message: AIMessage, plan: Plan) -> AIMessage:
    """A draft change carries its plan's notes, for the reply written after it runs."""
    message.additional_kwargs[PLANNED] = {"notes": plan.notes, "ignored": plan.ignored}
    return message


OPEN_ITEMS = "orderdesk_open_items"


def _open(content: str, items: list[dict[str, Any]]) -> AIMessage:
    """A reply asking questions no draft holds: kept in the conversation for the answer."""
    message = _attention(content, [item["question"] for item in items])
    if items:
        message.additional_kwargs[OPEN_ITEMS] = items
    return message


def _previous_open(earlier: list[BaseMessage]) -> list[dict[str, Any]]:
    for message in reversed(earlier):
        if isinstance(message, AIMessage) and message.content:
            return [dict(item) for item in message.additional_kwargs.get(OPEN_ITEMS) or []]
    return []


def reading_text(reading: Reading) -> str:
    return " ".join(ask.phrase for ask in reading.asks)


def _attention(content: str, questions: list[str]) -> AIMessage:
    message = AIMessage(content=content)
    if questions:
        message.additional_kwargs[ATTENTION] = list(questions)
    return message


def _item(
    kind: str, phrase: str, quantity: int | None, question: str, candidates: list[int]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "phrase": phrase[:200],
        "quantity": quantity,
        "question": question,
        "candidates": candidates,
    }


def _close_ids(result: dict[str, Any]) -> list[int]:
    candidates = result.get("candidates") or []
    if not candidates:
        return []
    floor = min(candidates[0]["score"] - 0.15, SEMANTIC_RIVAL)
    return [int(c["product_id"]) for c in candidates if c["score"] >= floor][:4]


def _resolve(remaining: list[dict[str, Any]], product_id: int) -> None:
    """A placed line answers every open question it was one of the candidates of."""
    for item in list(remaining):
        if product_id in (item.get("candidates") or []):
            remaining.remove(item)


def _drop_open(phrase: str, remaining: list[dict[str, Any]], result: dict[str, Any]) -> bool:
    """ "forget the oat milk": the open question about it goes."""
    for item in list(remaining):
        if fuzz.WRatio(fold(phrase), fold(item.get("phrase") or "")) >= 85:
            remaining.remove(item)
            return True
    return False


def _chosen(phrase: str, candidates: list[dict[str, Any]], item: dict[str, Any]) -> int | None:
    """The open item's candidate a phrase picks ("the mozzarella" of "which cheese?")."""
    options = set(item.get("candidates") or [])
    if candidates and int(candidates[0]["product_id"]) in options:
        return int(candidates[0]["product_id"])  # "maple" for "which syrup?"
    for candidate in candidates[:3]:
        if int(candidate["product_id"]) in options and _looks_like_product(
            phrase, candidate["name"]
        ):
            return int(candidate["product_id"])
    return None


def _looks_like_product(phrase: str, name: str) -> bool:
    """Every word of the phrase is (nearly) a word of the product's name."""
    tokens = [t for t in re.findall(r"[^\W_]{3,}", fold(phrase)) if t not in replies.SMALL_TALK]
    names = re.findall(r"[^\W_]{2,}", fold(name))
    if not tokens or not names:
        return False
    return all(max(fuzz.ratio(t, n) for n in names) >= 85 for t in tokens)


def _parts(phrase: str) -> list[str]:
    """A run of words cut at its connectors ("X y Y", "X and Y"), when it has any."""
    parts = split_at_connectors(phrase)
    return parts if len(parts) > 1 else []


def _holds_name(phrase: str, name: str) -> bool:
    """Every word of the product's name is in the phrase ("twleve tofu" holds Tofu): words
    naming a product beside words that could not be read are a product to ask about."""
    tokens = re.findall(r"[^\W_]{2,}", fold(phrase))
    names = [n for n in re.findall(r"[^\W_]{3,}", fold(name)) if n not in replies.SMALL_TALK]
    if not tokens or not names:
        return False
    return all(max(fuzz.ratio(n, t) for t in tokens) >= 85 for n in names)


def _last_mentioned(earlier: list[BaseMessage], lines: list[dict[str, Any]]) -> int | None:
    """The product of the line the conversation last drafted or changed ("make that 8")."""
    on_draft = {int(line["product_id"]) for line in lines}
    for message in reversed(earlier):
        if not isinstance(message, AIMessage):
            continue
        for call in reversed(message.tool_calls):
            args = call.get("args") or {}
            if call["name"] == "draft_order":
                named = [line.get("product_id") for line in args.get("lines") or []]
            elif call["name"] == "update_draft":
                named = [
                    line.get("product_id")
                    for key in ("set_quantities", "add")
                    for line in args.get(key) or []
                ]
            else:
                continue
            for product_id in reversed(named):
                if product_id in on_draft:
                    return int(product_id)
    return None


def _referenced(reference: str, lines: list[dict[str, Any]], last: int | None) -> dict | None:
    """The draft line "it" / "the first one" / "the last one" means, if clear."""
    if reference == "first":
        return lines[0]
    if reference == "second":
        return lines[1] if len(lines) > 1 else None
    if reference == "last":
        return lines[-1]
    if len(lines) == 1:
        return lines[0]
    return next((line for line in lines if int(line["product_id"]) == last), None)


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
            if PLANNED in message.additional_kwargs:
                step.planned = dict(message.additional_kwargs[PLANNED])
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


CLOSE_SECOND = 0.08  # a runner-up this close to the best is a question, not a guess
SEMANTIC_RIVAL = 0.5  # "pies": Perth Pasties by spelling, Pâté chinois by meaning


def _judged(phrase: str, result: Any) -> Any:
    """The search's verdict, made stricter for drafting a line from a phrase: a word
    fragment the best name does not contain ("max" for Maxilaku) is no match, and a
    runner-up nearly as good ("syrup": Aniseed Syrup, Sirop d'érable) makes it a question."""
    if not isinstance(result, dict) or not result.get("candidates"):
        return result
    if result.get("ambiguous"):
        return _by_model_code(phrase, result)
    if result.get("no_match"):
        return result
    top, *rest = result["candidates"]
    if fold(phrase).strip() == fold(top["name"]).strip():
        return result
    tokens = re.findall(r"[^\W_]+", fold(phrase))
    names = re.findall(r"[^\W_]+", fold(top["name"]))
    if len(tokens) != 1:
        return result  # a phrase of several words: the search's own verdict stands
    token = tokens[0]
    if len(token) < 4 and token not in names:
        return {**result, "no_match": True}
    second = rest[0]["score"] if rest else 0.0
    in_name = any(fuzz.ratio(name.rstrip("s"), token.rstrip("s")) >= 85 for name in names)
    if second >= top["score"] - CLOSE_SECOND or (not in_name and second >= SEMANTIC_RIVAL):
        return {**result, "ambiguous": True}
    return result


def _by_model_code(phrase: str, result: dict[str, Any]) -> dict[str, Any]:
    """ "GBC DocuBind TL300" between TL300 and TL200: a code with digits that exactly one of
    the close candidates carries picks it."""
    codes = [t for t in re.findall(r"[^\W_]+", fold(phrase)) if any(ch.isdigit() for ch in t)]
    candidates = result["candidates"]
    if not codes:
        return result
    close = [c for c in candidates if c["score"] >= candidates[0]["score"] - 0.15]
    carrying = [c for c in close if set(codes) <= set(re.findall(r"[^\W_]+", fold(c["name"])))]
    if len(carrying) != 1:
        return result
    chosen = carrying[0]
    rest = [c for c in candidates if c is not chosen]
    return {**result, "ambiguous": False, "candidates": [chosen, *rest]}


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
    exact = [i for i, name in names.items() if name == fold(phrase).strip()]
    if exact:
        return lines[exact[0]]
    # Any word of a line's name names it: "the tofu" is Longlife Tofu when no other line
    # has tofu in its name.
    worded = [
        i for i, line in enumerate(lines) if _looks_like_product(phrase, line["product_name"])
    ]
    if len(worded) == 1:
        return lines[worded[0]]
    scored = process.extract(fold(phrase), names, scorer=fuzz.WRatio, limit=2)
    if not scored or scored[0][1] < 85:
        return None
    if len(scored) > 1 and scored[1][1] >= scored[0][1] - 3:
        exact = [i for i, name in names.items() if name == fold(phrase)]
        if not exact:
            return None
        return lines[exact[0]]
    return lines[scored[0][2]]


def _best_on_draft(
    phrase: str, result: dict[str, Any], lines: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The draft line a description means ("the cheese"), found among the search's close
    candidates; None when the phrase names a product that is not on the draft ("drop the
    ikura" while the draft holds konbu)."""
    ids = {line["product_id"] for line in lines}
    candidates = (result or {}).get("candidates") or []
    if not candidates:
        return None
    top = candidates[0]
    if top["product_id"] not in ids and _looks_like_product(phrase, top["name"]):
        return None
    for candidate in candidates:
        if candidate["score"] < top["score"] - 0.15:
            break
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
