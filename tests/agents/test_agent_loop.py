"""The agent loop around a scripted model: what the offline model never does, on both backends.

A `ScriptedChatModel` plays an LLM that misbehaves or fails in ways the deterministic
offline model cannot: confirming unasked, passing bad arguments or a price, raising
mid-turn. Everything else is the product (the OrderDesk constructor, tools, middleware,
checkpointer, seeded store), and every assertion about orders and stock reads the
database.
"""

from __future__ import annotations

import json
from decimal import Decimal

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from sqlalchemy import Engine

from agents.confirmation import ATTENTION_KEY
from tests.agents.fixtures_loop import (  # noqa: F401 - fixtures
    DeskFactory,
    catalog_fixture,
    draft_lines,
    interrupted,
    loop_collection_fixture,
    make_desk_fixture,
    stock,
    store_fixture,
    store_snapshot,
    thread_id_fixture,
    thread_orders,
)
from tests.fakes import ScriptedChatModel, call, calls_tools, says

QUESO = 11  # Queso Cabrales: 21.00, 22 in stock
QUESO_PRICE = Decimal("21.00")
QUESO_STOCK = 22
ORDER_12_QUESO = "Alfreds wants 12 Queso Cabrales"


def draft_queso(quantity: int = 12) -> list:
    """The model's first answer to ORDER_12_QUESO (or another quantity): draft it for ALFKI."""
    return [
        calls_tools(
            call(
                "draft_order",
                customer_id="ALFKI",
                lines=[{"product_id": QUESO, "quantity": quantity}],
            )
        )
    ]


def test_unasked_confirmation_waits_and_a_new_message_rejects_it(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=[*draft_queso(), calls_tools(call("confirm_order"))])
    desk = make_desk(model)

    first = desk.chat(thread_id, ORDER_12_QUESO)

    assert first.error is None
    assert interrupted(desk, thread_id) and first.pending
    assert first.order_id is None
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert thread_orders(store, thread_id) == []
    assert stock(store, QUESO) == QUESO_STOCK
    assert model.remaining == 0

    model.extend(
        says("Not confirmed."),  # the model hears the rejection first
        calls_tools(call("update_draft", set_quantities=[{"product_id": QUESO, "quantity": 5}])),
        says("Now 5 x Queso Cabrales. Confirm?"),
    )
    second = desk.chat(thread_id, "make it 5 instead")

    assert second.error is None
    assert not interrupted(desk, thread_id)
    assert thread_orders(store, thread_id) == []
    assert stock(store, QUESO) == QUESO_STOCK
    assert draft_lines(desk, thread_id) == [(QUESO, 5, QUESO_PRICE)]
    assert second.reply == "Now 5 x Queso Cabrales. Confirm?"
    assert [step.name for step in second.steps] == ["update_draft"]
    rejection = model.calls[2][-1]
    assert isinstance(rejection, ToolMessage) and rejection.name == "confirm_order"
    assert rejection.status == "error" and "did not confirm" in str(rejection.content)
    assert model.calls[3][-1] == HumanMessage("make it 5 instead", id=model.calls[3][-1].id)
    assert '"quantity": 5' in model.system_prompt(-1)
    assert model.remaining == 0


def test_yes_approves_the_models_confirmation_exactly_once(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso(),
            says("12 x Queso Cabrales for Alfreds, 252.00. Confirm?"),
            calls_tools(call("confirm_order")),
            says("Order placed."),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, ORDER_12_QUESO)

    turn = desk.chat(thread_id, "yes")

    assert turn.error is None and not turn.pending
    assert not interrupted(desk, thread_id)
    orders = thread_orders(store, thread_id)
    assert orders == [(turn.order_id, [(QUESO, 12, QUESO_PRICE, Decimal("0"))])]
    assert stock(store, QUESO) == QUESO_STOCK - 12
    assert turn.draft is not None and turn.draft.status == "confirmed"
    assert turn.reply == "Order placed."
    assert model.remaining == 0

    # The Confirm button pressed again: the facade finds nothing open; the model is not asked.
    again = desk.approve(thread_id)

    assert thread_orders(store, thread_id) == orders
    assert stock(store, QUESO) == QUESO_STOCK - 12
    assert again.order_id is None and "no open draft" in again.reply
    assert model.remaining == 0


def test_approve_commits_a_pending_confirmation(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[*draft_queso(), calls_tools(call("confirm_order")), says("Order placed.")]
    )
    desk = make_desk(model)
    assert desk.chat(thread_id, ORDER_12_QUESO).pending

    turn = desk.approve(thread_id, user="alice")

    assert turn.error is None and turn.order_id is not None
    assert thread_orders(store, thread_id) == [
        (turn.order_id, [(QUESO, 12, QUESO_PRICE, Decimal("0"))])
    ]
    assert stock(store, QUESO) == QUESO_STOCK - 12
    assert not interrupted(desk, thread_id) and not turn.pending
    assert json.loads(model.tool_results(-1)["confirm_order"])["order"]["created_by"] == "alice"


def test_reject_leaves_no_order(store: Engine, make_desk: DeskFactory, thread_id: str) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso(),
            calls_tools(call("confirm_order")),
            says("Not confirmed."),
        ]
    )
    desk = make_desk(model)
    before = store_snapshot(store)
    desk.chat(thread_id, ORDER_12_QUESO)

    turn = desk.reject(thread_id)

    assert turn.error is None and turn.order_id is None and not turn.pending
    assert not interrupted(desk, thread_id)
    assert thread_orders(store, thread_id) == []
    assert stock(store, QUESO) == QUESO_STOCK
    assert desk.current_draft(thread_id) is None
    assert store_snapshot(store)["counts"]["orders"] == before["counts"]["orders"]
    assert model.remaining == 0


def test_reject_discards_the_draft_whatever_the_model_answers(
    make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso(),
            calls_tools(call("confirm_order")),
            says("Not confirmed."),
            says("Okay."),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, ORDER_12_QUESO)

    turn = desk.reject(thread_id)

    assert not turn.pending
    assert desk.current_draft(thread_id) is None


def test_approve_commits_a_confirmable_draft_whatever_the_model_answers(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[*draft_queso(), says("Confirm?"), says("Sure, anything else?")]
    )
    desk = make_desk(model)
    assert desk.chat(thread_id, ORDER_12_QUESO).pending

    turn = desk.approve(thread_id)

    assert turn.order_id is not None
    assert len(thread_orders(store, thread_id)) == 1


def test_bad_tool_arguments_come_back_as_errors_and_write_nothing(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    bad_calls = {
        "unknown product": call(
            "draft_order", customer_id="ALFKI", lines=[{"product_id": 999, "quantity": 3}]
        ),
        "zero quantity": call(
            "draft_order", customer_id="ALFKI", lines=[{"product_id": QUESO, "quantity": 0}]
        ),
        "negative quantity": call(
            "draft_order", customer_id="ALFKI", lines=[{"product_id": QUESO, "quantity": -4}]
        ),
        "unknown customer": call(
            "draft_order", customer_id="NOPE1", lines=[{"product_id": QUESO, "quantity": 2}]
        ),
        "no draft to change": call("update_draft", add=[{"product_id": QUESO, "quantity": 2}]),
        "no draft to confirm": call("confirm_order"),
    }
    model = ScriptedChatModel(
        script=[*(calls_tools(c) for c in bad_calls.values()), says("Nothing to confirm.")]
    )
    desk = make_desk(model)
    before = store_snapshot(store)

    turn = desk.chat(thread_id, "Alfreds wants 999 of product 999")
    # confirm_order with no draft to show is refused by the facade, not left waiting.
    assert not interrupted(desk, thread_id) and not turn.pending
    refused = model.tool_results(len(bad_calls))["confirm_order"]
    assert "no draft ready to confirm" in refused

    seen = [model.tool_results(n) for n in range(1, len(bad_calls))]
    errors = {
        label: json.loads(result[bad_calls[label]["name"]]).get("error")
        for label, result in zip(list(bad_calls)[:-1], seen, strict=True)
    }
    assert all(errors.values()), errors
    assert "999" in errors["unknown product"]
    assert "at least 1" in errors["zero quantity"]
    assert "NOPE1" in errors["unknown customer"]
    assert store_snapshot(store) == before
    assert turn.error is None and desk.current_draft(thread_id) is None


def test_arguments_outside_the_tool_schema_reach_the_model_as_errors(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            calls_tools(
                call(
                    "draft_order",
                    customer_id="ALFKI",
                    lines=[{"product_id": "cheese", "quantity": "lots"}],
                )
            ),
            calls_tools(call("draft_order", customer_id="ALFKI")),
            calls_tools(call("sell_everything", price=0)),
            says("Sorry, I could not draft that."),
        ]
    )
    desk = make_desk(model)
    before = store_snapshot(store)

    turn = desk.chat(thread_id, "Alfreds wants lots of cheese")

    answers = [model.calls[n][-1] for n in (1, 2, 3)]
    assert all(isinstance(a, ToolMessage) and a.status == "error" for a in answers)
    assert "lines.0.quantity" in str(answers[0].content)
    assert "lines" in str(answers[1].content) and "required" in str(answers[1].content)
    assert "not a valid tool" in str(answers[2].content)
    assert turn.error is None and turn.reply == "Sorry, I could not draft that."
    assert store_snapshot(store) == before


def test_a_typed_price_never_reaches_the_order(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    priced = [{"product_id": QUESO, "quantity": 2, "unit_price": 0.01, "discount": 0.9}]
    model = ScriptedChatModel(
        script=[
            calls_tools(call("draft_order", customer_id="ALFKI", lines=priced)),
            says("2 x Queso Cabrales. Confirm?"),
            calls_tools(call("confirm_order")),
            says("Order placed."),
        ]
    )
    desk = make_desk(model)

    desk.chat(thread_id, "Alfreds: 2 Queso Cabrales at 0.01 each, 90% off")
    drafted = json.loads(model.tool_results(1)["draft_order"])["draft"]
    turn = desk.chat(thread_id, "yes")

    assert drafted["lines"][0]["unit_price"] == "21.00"
    assert thread_orders(store, thread_id) == [
        (turn.order_id, [(QUESO, 2, QUESO_PRICE, Decimal("0"))])
    ]
    assert turn.draft is not None and turn.draft.total == Decimal("42.00")


def test_a_failing_model_gives_a_clear_turn_and_the_thread_goes_on(
    make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            calls_tools(call("search_catalog", query="Queso Cabrales")),
            RuntimeError("model backend exploded"),
        ]
    )
    desk = make_desk(model)

    failed = desk.chat(thread_id, ORDER_12_QUESO)

    assert failed.error == "model backend exploded"
    assert "went wrong" in failed.reply and "try again" in failed.reply
    assert failed.draft is None and desk.current_draft(thread_id) is None

    model.extend(*draft_queso(), says("Drafted."))
    retried = desk.chat(thread_id, ORDER_12_QUESO)
    assert retried.error is None and retried.reply == "Drafted."
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]

    model.extend(RuntimeError("rate limited"))
    failed_edit = desk.chat(thread_id, "make it 5 instead")
    assert failed_edit.error == "rate limited"
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert failed_edit.draft is not None and failed_edit.draft.lines[0].quantity == 12

    model.extend(
        calls_tools(call("update_draft", set_quantities=[{"product_id": QUESO, "quantity": 5}])),
        says("Now 5."),
    )
    edited = desk.chat(thread_id, "make it 5 instead")
    assert edited.error is None and edited.reply == "Now 5."
    assert draft_lines(desk, thread_id) == [(QUESO, 5, QUESO_PRICE)]
    assert model.remaining == 0


def test_a_model_failure_after_the_commit_still_reports_the_order(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso(),
            says("Confirm?"),
            calls_tools(call("confirm_order")),
            RuntimeError("model backend exploded"),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, ORDER_12_QUESO)

    turn = desk.chat(thread_id, "yes")

    orders = thread_orders(store, thread_id)
    assert len(orders) == 1  # committed: the tool ran before the model failed
    assert turn.order_id == orders[0][0]
    assert "unchanged" not in turn.reply


def test_a_model_failure_after_a_draft_change_does_not_claim_it_is_unchanged(
    make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=[*draft_queso(), RuntimeError("model backend exploded")])
    desk = make_desk(model)

    turn = desk.chat(thread_id, ORDER_12_QUESO)

    assert turn.error is not None
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]  # the tool did write
    assert "unchanged" not in turn.reply


def test_approval_is_only_asked_for_a_draft_the_user_can_see(
    make_desk: DeskFactory, thread_id: str
) -> None:
    drafts_and_confirms = calls_tools(
        call("draft_order", customer_id="ALFKI", lines=[{"product_id": QUESO, "quantity": 12}]),
        call("confirm_order"),
    )
    desk = make_desk(ScriptedChatModel(script=[drafts_and_confirms]))

    turn = desk.chat(thread_id, ORDER_12_QUESO)

    assert not (turn.pending and turn.draft is None)


def test_threads_never_see_each_others_draft(make_desk: DeskFactory, thread_id: str) -> None:
    other = f"{thread_id}-b"
    model = ScriptedChatModel(script=[*draft_queso(), says("Drafted.")])
    desk = make_desk(model)
    desk.chat(thread_id, ORDER_12_QUESO)
    assert '"customer_id": "ALFKI"' in model.system_prompt(-1)

    model.extend(
        calls_tools(call("update_draft", remove=[QUESO])),
        says("There is no draft here."),
    )
    turn = desk.chat(other, "drop the cheese")

    assert "<draft>null</draft>" in model.system_prompt(-2)
    assert "<draft>null</draft>" in model.system_prompt(-1)
    assert "error" in json.loads(model.tool_results(-1)["update_draft"])
    seen = [m.content for m in model.calls[-2] if isinstance(m, HumanMessage)]
    assert seen == ["drop the cheese"]
    assert turn.draft is None and desk.current_draft(other) is None
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]


def test_a_new_desk_resumes_a_pending_approval(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    first = ScriptedChatModel(script=[*draft_queso(), calls_tools(call("confirm_order"))])
    assert make_desk(first).chat(thread_id, ORDER_12_QUESO).pending

    restarted = make_desk(ScriptedChatModel(script=[says("Order placed.")]))
    assert interrupted(restarted, thread_id)
    assert [m.content for m in restarted.history(thread_id) if isinstance(m, HumanMessage)] == [
        ORDER_12_QUESO
    ]
    turn = restarted.approve(thread_id)

    assert turn.error is None and turn.reply == "Order placed."
    assert thread_orders(store, thread_id) == [
        (turn.order_id, [(QUESO, 12, QUESO_PRICE, Decimal("0"))])
    ]
    assert stock(store, QUESO) == QUESO_STOCK - 12


def test_confirming_a_short_draft_tells_the_model_why(
    make_desk: DeskFactory, store: Engine, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso(50),
            says("50 Queso Cabrales: only 22 in stock."),
            calls_tools(call("confirm_order")),
            says("Only 22 are in stock, so I did not confirm."),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds wants 50 Queso Cabrales")

    turn = desk.chat(thread_id, "confirm it anyway")

    refused = model.tool_results()["confirm_order"]
    assert "Queso Cabrales: 50 asked, 22 available" in refused
    assert turn.order_id is None and not turn.pending
    assert stock(store, QUESO) == QUESO_STOCK


# --- needs attention: open items block confirmation -----------------------------------

MOZZARELLA_QUESTION = "Which mozzarella: Mozzarella di Giovanni (72) or Gorgonzola Telino (31)?"
OPEN_MOZZARELLA = {
    "kind": "ambiguous",
    "phrase": "5 mozzarella",
    "quantity": 5,
    "question": MOZZARELLA_QUESTION,
    "candidates": [72, 31],
}


def draft_queso_with_a_question() -> list:
    """The model drafts 12 Queso for ALFKI and lists the mozzarella it could not place."""
    return [
        calls_tools(
            call(
                "draft_order",
                customer_id="ALFKI",
                lines=[{"product_id": QUESO, "quantity": 12}],
                open_items=[OPEN_MOZZARELLA],
            )
        ),
        says(f"12 x Queso Cabrales drafted. {MOZZARELLA_QUESTION}"),
    ]


def test_open_items_reach_the_draft_the_tool_result_and_the_turn(
    make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=draft_queso_with_a_question())
    desk = make_desk(model)

    turn = desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales and 5 mozzarella")

    drafted = json.loads(model.tool_results(1)["draft_order"])["draft"]
    assert drafted["needs_attention"] is True and drafted["confirmable"] is False
    assert drafted["open_items"] == [OPEN_MOZZARELLA]
    assert turn.error is None and not turn.pending
    assert turn.attention == [MOZZARELLA_QUESTION]
    assert turn.as_json()["attention"] == [MOZZARELLA_QUESTION]
    assert turn.draft is not None and turn.draft.needs_attention
    assert draft_lines(desk, thread_id) == [(QUESO, 12, QUESO_PRICE)]
    assert '"needs_attention": true' in model.system_prompt(-1)


def test_yes_while_the_draft_needs_attention_is_answered_with_the_question(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=draft_queso_with_a_question())
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales and 5 mozzarella")
    before = store_snapshot(store)

    turn = desk.chat(thread_id, "yes, confirm")

    assert MOZZARELLA_QUESTION in turn.reply and "cannot be confirmed" in turn.reply
    assert turn.order_id is None and not turn.pending
    assert turn.attention == [MOZZARELLA_QUESTION]
    assert store_snapshot(store) == before and thread_orders(store, thread_id) == []
    assert not interrupted(desk, thread_id)
    assert model.remaining == 0 and len(model.calls) == 2  # the model was not asked


def test_approve_refuses_while_the_draft_needs_attention_and_changes_nothing(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=draft_queso_with_a_question())
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales and 5 mozzarella")
    before = store_snapshot(store)

    turn = desk.approve(thread_id, user="alice")

    assert turn.order_id is None and not turn.pending
    assert MOZZARELLA_QUESTION in turn.reply and turn.attention == [MOZZARELLA_QUESTION]
    assert store_snapshot(store) == before
    assert desk.current_draft(thread_id) is not None  # still open, still asking
    assert len(model.calls) == 2


def test_a_confirmation_the_model_asks_for_while_items_are_open_is_refused(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            *draft_queso_with_a_question(),
            calls_tools(call("confirm_order")),
            says(MOZZARELLA_QUESTION),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales and 5 mozzarella")

    turn = desk.chat(thread_id, "put it through")  # not approval words: the model decides

    refused = model.tool_results(-1)["confirm_order"]
    assert "needs attention" in refused and MOZZARELLA_QUESTION in refused
    assert not interrupted(desk, thread_id) and not turn.pending
    assert thread_orders(store, thread_id) == []


def test_answering_the_question_clears_it_and_then_yes_confirms(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(script=draft_queso_with_a_question())
    desk = make_desk(model)
    desk.chat(thread_id, "Alfreds wants 12 Queso Cabrales and 5 mozzarella")

    model.extend(
        calls_tools(call("update_draft", add=[{"product_id": 72, "quantity": 5}])),
        says("Added 5 Mozzarella di Giovanni."),
    )
    kept = desk.chat(thread_id, "the Giovanni one")
    assert kept.attention == [MOZZARELLA_QUESTION] and not kept.pending  # null keeps them

    model.extend(
        calls_tools(call("update_draft", open_items=[])),
        says("Nothing left to ask. Confirm?"),
    )
    cleared = desk.chat(thread_id, "that's everything")
    assert cleared.attention == [] and cleared.pending
    assert cleared.draft is not None and cleared.draft.confirmable

    model.extend(calls_tools(call("confirm_order")), says("Order placed."))
    turn = desk.chat(thread_id, "yes")
    assert turn.order_id is not None
    assert thread_orders(store, thread_id) == [
        (turn.order_id, [(QUESO, 12, QUESO_PRICE, Decimal("0")), (72, 5, Decimal("34.80"), 0)])
    ]


def test_questions_the_model_asks_without_a_draft_are_attention(
    make_desk: DeskFactory, thread_id: str
) -> None:
    question = "I do not know the customer 'Zyx Traders': who is the order for?"
    asks = AIMessage(content=question, additional_kwargs={ATTENTION_KEY: [question, 7, ""]})
    desk = make_desk(ScriptedChatModel(script=[asks]))

    turn = desk.chat(thread_id, "Zyx Traders wants 5 tofu")

    assert turn.draft is None and not turn.pending
    assert turn.attention == [question]  # non-strings and blanks are dropped


def test_cancel_that_order_cancels_the_one_this_conversation_placed(
    store: Engine, make_desk: DeskFactory, thread_id: str
) -> None:
    model = ScriptedChatModel(
        script=[
            calls_tools(call("cancel_order")),
            says("This conversation has not placed an order."),
        ]
    )
    desk = make_desk(model)
    desk.chat(thread_id, "cancel that order")
    assert "has not placed an order" in json.loads(model.tool_results(-1)["cancel_order"])["error"]

    model.extend(*draft_queso(), says("Confirm?"))
    desk.chat(thread_id, ORDER_12_QUESO)
    placed = desk.approve(thread_id)
    assert placed.order_id is not None and stock(store, QUESO) == QUESO_STOCK - 12

    model.extend(calls_tools(call("cancel_order", order_id=None)), says("Cancelled."))
    desk.chat(thread_id, "cancel that order")

    cancelled = json.loads(model.tool_results(-1)["cancel_order"])["order"]
    assert (cancelled["order_id"], cancelled["status"]) == (placed.order_id, "cancelled")
    assert stock(store, QUESO) == QUESO_STOCK

    model.extend(calls_tools(call("cancel_order")), says("It was already cancelled."))
    desk.chat(thread_id, "cancel that order")
    assert "cancelled" in json.loads(model.tool_results(-1)["cancel_order"])["error"]
    assert stock(store, QUESO) == QUESO_STOCK  # the stock came back once
