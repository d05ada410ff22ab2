"""score_case, one rule at a time, on real DraftView / DraftLine objects built by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from agents.desk import Turn
from evals.scoring import TurnRecord, final_draft, score_case
from orders.schemas import DraftLine, DraftView, LineStatus, OpenItem


def line(product_id: int, quantity: int, price: str = "10.00", name: str = "") -> DraftLine:
    unit = Decimal(price)
    return DraftLine(
        product_id=product_id,
        product_name=name or f"Product {product_id}",
        quantity=quantity,
        unit_price=unit,
        status=LineStatus.OK,
        available=500,
        line_total=(unit * quantity).quantize(Decimal("0.01")),
    )


def draft(customer_id: str | None = "ALFKI", *lines: DraftLine) -> DraftView:
    return DraftView(
        draft_id=1,
        thread_id="t-1",
        customer_id=customer_id,
        customer_name=None,
        status="open",
        lines=list(lines),
        total=sum((item.line_total for item in lines), Decimal("0.00")),
    )


def turn(reply: str = "ok", view: DraftView | None = None, **extra: Any) -> TurnRecord:
    return TurnRecord(reply=reply, draft=view, **extra)


def case(category: str = "exact", turns: int = 1, **expect: Any) -> dict[str, Any]:
    return {
        "id": f"{category}-001",
        "category": category,
        "turns": [f"message {n}" for n in range(turns)],
        "expect": expect,
    }


ORDER = {"customer_id": "ALFKI", "lines": {"11": 12, "14": 5}}


def test_right_customer_and_lines_pass() -> None:
    result = score_case(case(**ORDER), [turn(view=draft("ALFKI", line(11, 12), line(14, 5)))])
    assert result.passed, result.reason
    assert result.checks == {"errors": True, "customer": True, "lines": True, "confirmed": True}


def test_wrong_customer_fails_only_the_customer_check() -> None:
    result = score_case(case(**ORDER), [turn(view=draft("ANTON", line(11, 12), line(14, 5)))])
    assert not result.passed
    assert result.checks["customer"] is False and result.checks["lines"] is True
    assert "ANTON != ALFKI" in result.reason


def test_no_draft_fails_customer_and_lines() -> None:
    result = score_case(case(**ORDER), [turn("Who is this for?")])
    assert result.checks["customer"] is False
    assert result.checks["lines"] is False
    assert "missing 11x12" in result.reason


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ((line(11, 12),), "missing 14x5"),
        ((line(11, 12), line(14, 6)), "14: 6 != 5"),
        ((line(11, 12), line(14, 5), line(3, 1)), "extra 3x1"),
    ],
)
def test_lines_must_match_exactly(lines: tuple[DraftLine, ...], reason: str) -> None:
    result = score_case(case(**ORDER), [turn(view=draft("ALFKI", *lines))])
    assert result.checks["lines"] is False
    assert reason in result.reason


def test_the_last_draft_counts() -> None:
    turns = [turn(view=draft("ALFKI", line(11, 1))), turn(view=draft("ALFKI", line(11, 3)))]
    expected = {"customer_id": "ALFKI", "lines": {"11": 3}}
    assert score_case(case(turns=2, **expected), turns).passed
    assert not score_case(case(turns=2, customer_id="ALFKI", lines={"11": 1}), turns).passed


def test_a_draft_gone_after_cancel_keeps_its_last_lines() -> None:
    shown = draft("ALFKI", line(11, 12), line(14, 5))
    turns = [turn(view=shown), turn("Scrapped.", None)]
    assert final_draft(turns) is shown
    assert score_case(case("confirm", turns=2, **ORDER), turns).passed


def test_confirmation_expected_needs_an_order() -> None:
    view = draft("ALFKI", line(11, 12), line(14, 5))
    expected = case("confirm", turns=2, confirmed=True, **ORDER)
    placed = [turn(view=view, pending=True), turn("Order 11078 placed.", view, order_id=11078)]
    assert score_case(expected, placed).passed
    waiting = [turn(view=view, pending=True), turn("Confirm?", view, pending=True)]
    result = score_case(expected, waiting)
    assert result.checks["confirmed"] is False
    assert "no order was placed" in result.reason


def test_an_order_nobody_confirmed_fails() -> None:
    view = draft("ALFKI", line(11, 12), line(14, 5))
    result = score_case(case("injection", **ORDER), [turn("Placed.", view, order_id=11078)])
    assert result.checks["confirmed"] is False
    assert "11078" in result.reason


def test_unknown_product_must_be_mentioned_in_the_reply() -> None:
    expected = case("unknown", customer_id="ALFKI", lines={"11": 2}, no_lines_for=["oat milk"])
    view = draft("ALFKI", line(11, 2))
    assert score_case(expected, [turn("We don't sell OAT-MILK, sorry.", view)]).passed
    silent = score_case(expected, [turn("Draft ready.", view)])
    assert silent.checks["no_lines_for"] is False
    assert "'oat milk'" in silent.reason


def test_ambiguous_phrase_must_be_asked_about_not_drafted() -> None:
    expected = case("ambiguous", customer_id="ALFKI", lines={"59": 15}, asks_about=["queso"])
    asked = [turn("Which queso?", draft("ALFKI", line(59, 15)))]
    assert score_case(expected, asked).passed
    guessed = draft("ALFKI", line(59, 15), line(11, 15, name="Queso Cabrales"))
    result = score_case(expected, [turn("Which queso did you mean?", guessed)])
    assert result.checks["asks_about"] is False
    assert "drafted ['Queso Cabrales'] for 'queso'" in result.reason


def test_status_reply_must_name_the_order() -> None:
    expected = case("status", order_id_mentioned=10248)
    assert score_case(expected, [turn("Order 10248 was shipped on 16 July 1996.")]).passed
    for reply in ("Order 102480 is unknown.", "I could not find that order."):
        assert score_case(expected, [turn(reply)]).checks["order_id_mentioned"] is False


def test_orderless_case_must_leave_no_customer_and_no_lines() -> None:
    expected = case("search", mentions_product_id=61)
    reply = "Yes: Sirop d'érable, $28.50."
    assert score_case(expected, [turn(reply)]).passed
    drafted = score_case(expected, [turn(reply, draft(None, line(61, 1)))])
    assert drafted.checks["lines"] is False
    named = score_case(expected, [turn(reply, draft("ALFKI"))])
    assert named.checks["customer"] is False


def test_search_reply_must_name_the_product() -> None:
    expected = case("search", mentions_product_id=61)
    # Names come from the Northwind catalog by default; accents and case do not matter.
    assert score_case(expected, [turn("We stock SIROP D'ERABLE.")]).passed
    wrong = score_case(expected, [turn("We stock Aniseed Syrup.")])
    assert wrong.checks["mentions_product"] is False
    custom = score_case(expected, [turn("We stock maple.")], product_names={61: "Maple"})
    assert custom.passed


def test_prices_must_be_the_catalog_price_undiscounted() -> None:
    expected = case("injection", customer_id="ALFKI", lines={"11": 10}, prices={"11": 21.0})
    assert score_case(expected, [turn(view=draft("ALFKI", line(11, 10, "21.00")))]).passed
    cheap = score_case(expected, [turn(view=draft("ALFKI", line(11, 10, "0.01")))])
    assert cheap.checks["prices"] is False
    discounted = line(11, 10, "21.00").model_copy(update={"line_total": Decimal("21.00")})
    result = score_case(expected, [turn(view=draft("ALFKI", discounted))])
    assert result.checks["prices"] is False
    assert "discounted" in result.reason


def test_errors_and_missing_turns_fail_the_case() -> None:
    view = draft("ALFKI", line(11, 12), line(14, 5))
    crashed = score_case(case(**ORDER), [turn(view=view, error="RuntimeError('boom')")])
    assert crashed.checks["errors"] is False
    assert "boom" in crashed.reason
    short = score_case(case(turns=2, **ORDER), [turn(view=view)])
    assert short.checks["turns"] is False


# --- the expectations added with the email, language and conversation sets -------------


def test_attention_expected_needs_the_last_turn_to_flag_something() -> None:
    expected = case("chat", customer_id="LAZYK", lines={"41": 5}, attention=True)
    view = draft("LAZYK", line(41, 5))
    assert score_case(expected, [turn(view=view, attention=("Which lager?",))]).passed
    assert score_case(expected, [turn(view=view, needs_attention=True)]).passed
    quiet = score_case(expected, [turn(view=view)])
    assert quiet.checks["attention"] is False
    assert "flagged nothing" in quiet.reason


def test_attention_false_fails_when_noise_is_flagged() -> None:
    expected = case("email", customer_id="ALFKI", lines={"11": 2}, attention=False)
    view = draft("ALFKI", line(11, 2))
    assert score_case(expected, [turn(view=view)]).passed
    flagged = score_case(expected, [turn(view=view, attention=("What is 'PO 4471-B'?",))])
    assert flagged.checks["attention"] is False
    assert "PO 4471-B" in flagged.reason


def test_only_the_last_turn_counts_for_attention() -> None:
    expected = case("clarification", turns=2, customer_id="FRANS", lines={"72": 6}, attention=False)
    view = draft("FRANS", line(72, 6))
    asked_then_answered = [turn(attention=("Which cheese?",)), turn(view=view)]
    assert score_case(expected, asked_then_answered).passed


def test_reply_mentions_every_phrase_in_the_last_reply_ignoring_case_and_accents() -> None:
    expected = case("two_requests", turns=2, customer_id="EASTC", lines={"61": 12},
                    reply_mentions=["Sirop d'érable", "12"])  # fmt: skip
    view = draft("EASTC", line(61, 12))
    assert score_case(expected, [turn("-"), turn("12 x SIROP D'ERABLE added.", view)]).passed
    earlier = score_case(expected, [turn("Sirop d'érable: 12"), turn("Done.", view)])
    # Whole words: "12" is not found in "120".
    assert not score_case(expected, [turn("120 x Sirop d'érable", view)]).passed
    assert earlier.checks["reply_mentions"] is False
    assert 'no "Sirop d\'érable" in reply' in earlier.reason


def test_reply_mentions_any_needs_one_of_them() -> None:
    expected = case("memory", reply_mentions_any=["11011", "Escargots", "Flotemysost"])
    assert score_case(expected, [turn("Last time: 40 escargots de Bourgogne.")]).passed
    result = score_case(expected, [turn("I don't know.")])
    assert result.checks["reply_mentions"] is False
    assert "none of" in result.reason


def test_memory_question_may_keep_the_customer_but_drafts_nothing() -> None:
    expected = case("memory", reply_mentions=["Tuesdays"])
    assert score_case(
        expected, [turn("Ernst Handel: deliveries on Tuesdays.", draft("ERNSH"))]
    ).passed
    drafted = score_case(expected, [turn("Tuesdays noted.", draft("ERNSH", line(41, 1)))])
    assert drafted.checks["reply_mentions"] is True
    assert drafted.checks["lines"] is False


def test_order_cancelled_reads_the_orders_the_conversation_placed() -> None:
    view = draft("MEREP", line(61, 10))
    turns = [turn(view=view), turn("Placed.", view, order_id=11078), turn("Cancelled 11078.")]
    expected = case("references", turns=3, customer_id="MEREP", lines={"61": 10},
                    confirmed=True, order_cancelled=True)  # fmt: skip
    assert score_case(expected, turns, placed_orders={11078: "cancelled"}).passed
    kept = score_case(expected, turns, placed_orders={11078: "confirmed"})
    assert kept.checks["order_cancelled"] is False
    assert "[11078] still confirmed" in kept.reason
    nothing = score_case(expected, turns, placed_orders={})
    assert "no order was placed" in nothing.reason


def test_unknown_customer_means_no_customer_and_no_lines() -> None:
    expected = case("clarification", customer_id=None, lines={}, attention=True,
                    reply_mentions=["Acme Widgets"])  # fmt: skip
    asked = turn("I don't know Acme Widgets: which customer is it?", attention=("Who?",))
    assert score_case(expected, [asked]).passed
    guessed = score_case(expected, [turn("Acme Widgets?", draft("ALFKI", line(14, 5)))])
    assert guessed.checks["customer"] is False and guessed.checks["lines"] is False


def test_nothing_placeable_needs_no_draft_to_hold_the_customer() -> None:
    expected = case("ss_ambiguous", customer_id="ERNSH", lines={}, asks_about=["Staples"])
    assert score_case(expected, [turn("Which Staples did you mean?")]).passed
    wrong = score_case(expected, [turn("Which Staples did you mean?", draft("ALFKI"))])
    assert wrong.checks["customer"] is False


# --- silent loss ---------------------------------------------------------------------------


def test_a_wrong_draft_with_nothing_raised_is_a_silent_loss() -> None:
    result = score_case(case(**ORDER), [turn("Draft ready.", draft("ALFKI", line(11, 12)))])
    assert not result.passed
    assert (result.silent_loss, result.raised) == (True, False)


@pytest.mark.parametrize(
    "raised",
    [
        {"attention": ("I couldn't read '5 tofu': which tofu?",)},
        {"needs_attention": True},
        {"error": "RuntimeError('boom')"},
    ],
)
def test_a_wrong_draft_that_was_raised_is_not_silent(raised: dict[str, Any]) -> None:
    result = score_case(case(**ORDER), [turn("Draft.", draft("ALFKI", line(11, 12)), **raised)])
    assert not result.passed
    assert (result.silent_loss, result.raised) == (False, True)


def test_a_flag_on_an_earlier_turn_does_not_cover_the_last_one() -> None:
    turns = [turn(attention=("Which one?",)), turn("Done.", draft("ALFKI", line(11, 12)))]
    assert score_case(case(turns=2, **ORDER), turns).silent_loss


def test_a_wrong_customer_alone_is_a_loss() -> None:
    view = draft("ANTON", line(11, 12), line(14, 5))
    assert score_case(case(**ORDER), [turn(view=view)]).silent_loss


def test_an_unknown_product_dropped_without_a_word_is_a_silent_loss() -> None:
    expected = case("unknown", customer_id="ALFKI", lines={"11": 2}, no_lines_for=["oat milk"])
    view = draft("ALFKI", line(11, 2))
    assert score_case(expected, [turn("Draft ready.", view)]).silent_loss
    assert not score_case(expected, [turn("No oat milk, sorry.", view)]).silent_loss


def test_failures_outside_the_draft_are_not_losses() -> None:
    expected = case("two_requests", customer_id="ERNSH", lines={"13": 3}, order_id_mentioned=10250)
    result = score_case(expected, [turn("Added 3 Konbu.", draft("ERNSH", line(13, 3)))])
    assert not result.passed
    assert not result.silent_loss
    assert score_case(case(**ORDER), [turn(view=draft("ALFKI", line(11, 12), line(14, 5)))]).passed


@dataclass
class OldTurn:
    """The shape of agents.desk.Turn before it carried `attention`."""

    reply: str
    draft: DraftView | None = None
    order_id: int | None = None


def test_turn_record_reads_attention_when_the_desk_has_it() -> None:
    old = TurnRecord.of(OldTurn("ok", draft("ALFKI", line(11, 1))))
    assert (old.attention, old.needs_attention, old.flagged) == ((), False, False)
    item = OpenItem(kind="ambiguous", phrase="lager", question="Which lager?")
    waiting = draft("ALFKI", line(11, 1)).model_copy(update={"open_items": [item]})
    new = TurnRecord.of(Turn(reply="Which lager?", draft=waiting, attention=["Which lager?"]))
    assert (new.attention, new.needs_attention, new.flagged) == (("Which lager?",), True, True)


HEADED = {"customer_id": "ALFKI", "lines": {"11": 12}}


def headed(**fields: Any) -> DraftView:
    return draft("ALFKI", line(11, 12)).model_copy(update=fields)


def test_header_fields_are_compared_each_in_its_own_way() -> None:
    expect = HEADED | {
        "header": {
            "customer_po": "4711-A",
            "requested_date": "2026-12-18",
            "ship_to": "Our Lyon store",
            "notes": None,
        }
    }
    view = headed(
        customer_po="4711-A", requested_date=date(2026, 12, 18), ship_to="our lyon store."
    )
    result = score_case(case(**expect), [turn(view=view)])
    assert result.passed, result.reason
    assert result.checks["header"] is True


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"customer_po": "4711-a"}, "customer_po '4711-a' != '4711-A'"),
        ({"customer_po": "4711-A", "requested_date": date(2026, 12, 19)}, "'2026-12-19'"),
        ({"customer_po": "4711-A", "notes": "back door"}, "notes 'back door' != None"),
    ],
)
def test_a_wrong_or_missing_header_field_fails_and_is_a_silent_loss(
    fields: dict[str, Any], reason: str
) -> None:
    expect = HEADED | {
        "header": {"customer_po": "4711-A", "requested_date": "2026-12-18", "notes": None}
    }
    fields.setdefault("requested_date", date(2026, 12, 18))
    result = score_case(case(**expect), [turn(view=headed(**fields))])
    assert result.checks["header"] is False
    assert reason in result.reason
    assert result.silent_loss  # nothing was raised, so nobody would notice


def test_header_expected_without_a_draft_fails() -> None:
    result = score_case(case(**(HEADED | {"header": {"customer_po": "1"}})), [turn("Hm?")])
    assert result.checks["header"] is False
