"""GET /api/search: hybrid catalog search with scores and the ambiguity / no-match flags."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_a_description_finds_the_product(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "cajun seasoning", "k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["query"], body["ambiguous"], body["no_match"], body["degraded"]) == (
        "cajun seasoning",
        False,
        False,
        False,
    )
    assert len(body["candidates"]) == 3
    best = body["candidates"][0]
    assert (best["product_id"], best["name"], best["unit_price"]) == (
        4,
        "Chef Anton's Cajun Seasoning",
        "22.00",
    )
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    assert best["semantic"] is not None  # vectors were used


def test_two_cheeses_are_ambiguous(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "queso"}).json()
    assert body["ambiguous"] is True and body["no_match"] is False
    assert {c["product_id"] for c in body["candidates"][:2]} == {11, 12}


def test_nothing_sold_is_no_match(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "diesel engine oil"}).json()
    assert body["no_match"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.q"),
        ({"q": ""}, "query.q"),
        ({"q": "x" * 201}, "query.q"),
        ({"q": "tofu", "k": 0}, "query.k"),
        ({"q": "tofu", "k": 21}, "query.k"),
        ({"q": "tofu", "k": "many"}, "query.k"),
    ],
)
def test_bad_search_input_is_422(client: TestClient, params: dict, field: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422 and field in response.json()["detail"]
