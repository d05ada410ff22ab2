"""Order errors: each says, in words a sales person understands, what was refused and why.

Every function in `orders/` validates before it writes, so raising one of these leaves
the database as it was.
"""

from __future__ import annotations

from collections.abc import Sequence


class OrderError(ValueError):
    """Base class: a request the order domain refuses. `str(error)` is for people."""


class UnknownCustomer(OrderError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"There is no customer with the code {customer_id!r}.")
        self.customer_id = customer_id


class UnknownProduct(OrderError):
    def __init__(self, product_id: object) -> None:
        super().__init__(f"There is no product with the id {product_id!r} in the catalog.")
        self.product_id = product_id


class InvalidQuantity(OrderError):
    """Not a positive whole number, or above MAX_LINE_QUANTITY."""


class InvalidLines(OrderError):
    """The lines of a request are malformed (missing fields, too many lines, duplicates)."""


class InvalidHeader(OrderError):
    """An order-header value is refused (a PO number too long, a delivery date in the past
    or too far ahead, ...); the message names each field and why."""


class InvalidOpenItems(OrderError):
    """The open items of a request are malformed (unknown kind, no question, too many)."""


class DraftNotFound(OrderError):
    def __init__(self, draft_id: int) -> None:
        super().__init__(f"There is no draft {draft_id}.")
        self.draft_id = draft_id


class DraftClosed(OrderError):
    """The draft was already confirmed or discarded; it can no longer change."""


class EmptyDraft(OrderError):
    """Confirmation asked for a draft without lines or without a customer."""


class DraftNeedsAttention(OrderError):
    """The draft has open items (unplaced phrases, questions) to resolve before confirming."""

    def __init__(self, questions: Sequence[str]) -> None:
        self.questions = list(questions)
        these = "this is" if len(self.questions) == 1 else "these are"
        super().__init__(
            f"The draft cannot be confirmed until {these} answered: " + " ".join(self.questions)
        )


class DraftAlreadyOpen(OrderError):
    """The conversation has an open draft already; there is at most one per thread."""

    def __init__(self, thread_id: str) -> None:
        super().__init__(
            f"Conversation {thread_id!r} already has an open draft: change that one, or "
            "discard it first."
        )
        self.thread_id = thread_id


class NoOpenDraft(OrderError):
    """The conversation has no open draft to confirm or discard."""


class Unavailable(OrderError):
    """A line cannot be sold: its product is discontinued or short of stock."""

    def __init__(self, message: str, *, product_id: int, available: int) -> None:
        super().__init__(message)
        self.product_id = product_id
        self.available = available


class IdempotencyConflict(OrderError):
    """The idempotency key was already used to confirm a different draft."""


class OrderNotFound(OrderError):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"There is no order {order_id}.")
        self.order_id = order_id


class NotYourOrder(OrderError):
    """The order belongs to another customer than the one this conversation is about."""


class AlreadyCancelled(OrderError):
    """The order was cancelled before."""
