"""GET /api/orders/{id}/confirmation.pdf and .txt: an order's confirmation to send back.

Both read the order through the order book (the key rules and statuses of the other order
routes: 401 without a key, 404 for an unknown order) and render it with
`orders.documents`: the PDF as an attachment named order-<id>.pdf, the text as UTF-8 plain
text ready to paste into an e-mail.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from api.errors import COMMON_ERRORS, ORDER_ERRORS
from api.routes.orders import BookDep, OrderId
from orders.documents import confirmation_pdf, confirmation_text

router = APIRouter(prefix="/orders", tags=["orders"])


class PDFResponse(Response):
    media_type = "application/pdf"


def json_errors() -> dict[int | str, dict[str, Any]]:
    """The order routes' error responses, documented as the JSON they are.

    FastAPI documents an error response's `model` under the route's own media type, which
    here is a PDF or text; these say application/json explicitly instead.
    """
    return {
        code: {
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{spec['model'].__name__}"}
                }
            }
        }
        for code, spec in {**COMMON_ERRORS, **ORDER_ERRORS}.items()
    }


def success(media_type: str, schema: dict[str, str], description: str) -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}, "description": description}


@router.get(
    "/{order_id}/confirmation.pdf",
    response_class=PDFResponse,
    responses={
        200: success(
            "application/pdf",
            {"type": "string", "format": "binary"},
            "The order confirmation as a PDF attachment (order-<id>.pdf)",
        ),
        **json_errors(),
    },
)
def get_confirmation_pdf(book: BookDep, order_id: OrderId) -> PDFResponse:
    """The order's confirmation as a PDF: customer, header, lines, prices, total, who
    confirmed it and its status (a cancelled order says CANCELLED)."""
    document = confirmation_pdf(book.order(order_id))
    disposition = f'attachment; filename="order-{order_id}.pdf"'
    return PDFResponse(document, headers={"Content-Disposition": disposition})


@router.get(
    "/{order_id}/confirmation.txt",
    response_class=PlainTextResponse,
    responses={
        200: success(
            "text/plain",
            {"type": "string"},
            "The order confirmation as a plain-text e-mail body (UTF-8)",
        ),
        **json_errors(),
    },
)
def get_confirmation_txt(book: BookDep, order_id: OrderId) -> PlainTextResponse:
    """The order's confirmation as a plain-text e-mail body, ready to paste."""
    return PlainTextResponse(confirmation_text(book.order(order_id)))
