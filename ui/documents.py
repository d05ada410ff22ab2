"""Download buttons for an order's confirmation: the PDF and the plain-text e-mail body.

`download_buttons(order, key_prefix=...)` draws both side by side, on the Orders page's
order detail and on the Chat page's order card. The documents are made only when a button
is clicked (Streamlit's deferred download), not on every rerun, and clicking does not
rerun the page. Given an order id they are made from the order as it is at the click (a
cancel since the page was drawn shows as CANCELLED); given an `OrderView`, from that view.
The documents themselves are `orders.documents`'; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from orders.documents import confirmation_pdf, confirmation_text
from orders.schemas import OrderView
from ui.common import services_or_stop

PDF_LABEL = "Confirmation PDF"
TEXT_LABEL = "Confirmation e-mail text"
TEXT_MIME = "text/plain; charset=utf-8"


def download_buttons(order: int | OrderView, *, key_prefix: str) -> None:
    """The order's confirmation as a PDF and as e-mail text, two download buttons."""
    view = _order_source(order)
    order_id = order.order_id if isinstance(order, OrderView) else int(order)
    with st.container(horizontal=True):
        st.download_button(
            PDF_LABEL,
            data=lambda: confirmation_pdf(view()),
            file_name=f"order-{order_id}.pdf",
            mime="application/pdf",
            key=f"{key_prefix}_confirmation_pdf_{order_id}",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            help="The order confirmation to send the customer, as a PDF",
        )
        st.download_button(
            TEXT_LABEL,
            data=lambda: confirmation_text(view()),
            file_name=f"order-{order_id}.txt",
            mime=TEXT_MIME,
            key=f"{key_prefix}_confirmation_txt_{order_id}",
            icon=":material/mail:",
            on_click="ignore",
            help="The same confirmation as plain text, ready to paste into an e-mail",
        )


def _order_source(order: int | OrderView) -> Callable[[], OrderView]:
    """What the documents are made from when clicked: the view given, or the order read
    then. Resolved here, in the script run: the click's callable runs outside it."""
    if isinstance(order, OrderView):
        return lambda: order
    book, order_id = services_or_stop().orders, int(order)
    return lambda: book.order(order_id)
