"""GET /api/orders/{id}/confirmation.pdf and .txt over the real app, on both backends.

The PDF is a real one (pypdf opens it and reads the order back), sent as an attachment
named order-<id>.pdf; the text is UTF-8 plain text. Unknown orders are 404, bad ids 422,
and without a key both are 401, as on every other order route.
"""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.api.test_orders import place_order

ROUTES = ("confirmation.pdf", "confirmation.txt")


def test_the_pdf_is_a_pdf_attachment_of_the_order(client: TestClient) -> None:
    response = client.get("/api/orders/10248/confirmation.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="order-10248.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Order confirmation 10248" in text and "Vins et alcools Chevalier" in text
    assert "12 Queso Cabrales $14.00" in text and "Total $440.00" in text


def test_the_text_is_utf8_plain_text(client: TestClient) -> None:
    response = client.get("/api/orders/10248/confirmation.txt")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith("Dear Vins et alcools Chevalier,")
    assert "Total  $440.00" in body


def test_a_new_order_then_cancelled(client: TestClient, thread_id: str) -> None:
    order = place_order(client, thread_id, "Ernst Handel: 4 konbu")
    path = f"/api/orders/{order['order_id']}/confirmation"
    assert "4 Konbu $6.00" in " ".join(client.get(f"{path}.txt").text.split())
    assert client.post(f"/api/orders/{order['order_id']}/cancel").status_code == 200
    assert "CANCELLED: order" in client.get(f"{path}.txt").text
    pdf = PdfReader(io.BytesIO(client.get(f"{path}.pdf").content))
    assert "CANCELLED" in pdf.pages[0].extract_text()


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_order_is_404(client: TestClient, route: str) -> None:
    response = client.get(f"/api/orders/999999/{route}")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no order 999999."}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("order_id", ["0", "2147483648", "abc"])
def test_a_bad_order_id_is_422(client: TestClient, route: str, order_id: str) -> None:
    assert client.get(f"/api/orders/{order_id}/{route}").status_code == 422


@pytest.mark.parametrize("route", ROUTES)
def test_without_a_key_it_is_401(anonymous: TestClient, route: str) -> None:
    response = anonymous.get(f"/api/orders/10248/{route}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "APIKey"
    assert b"Queso" not in response.content


def test_the_schema_declares_both_media_types(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    pdf = paths["/api/orders/{order_id}/confirmation.pdf"]["get"]["responses"]
    txt = paths["/api/orders/{order_id}/confirmation.txt"]["get"]["responses"]
    assert list(pdf["200"]["content"]) == ["application/pdf"]
    assert list(txt["200"]["content"]) == ["text/plain"]
    for responses in (pdf, txt):  # errors are JSON, whatever the route's own media type
        for code in ("401", "404", "422"):
            assert list(responses[code]["content"]) == ["application/json"], (code, responses)
