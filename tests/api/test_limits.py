"""Request size limits (413), unknown routes and methods, and no stack trace in any answer."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from api.errors import MAX_BODY_BYTES


def test_a_declared_oversized_body_is_413(client: TestClient) -> None:
    body = b'{"thread_id": "t1", "message": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (the limit is 64 KB)."}


def test_a_streamed_oversized_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"thread_id": "t1", "message": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = client.post(
        "/api/chat", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and "too large" in response.json()["detail"]


def test_a_body_under_the_limit_reaches_validation(client: TestClient) -> None:
    body = {"thread_id": "t1", "message": "x" * 30_000}  # < 64 KB, > 4,000 characters
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422 and "at most 4000 characters" in response.json()["detail"]


def test_a_bogus_content_length_is_400(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"{}", headers={"Content-Length": "-1"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Content-Length header."}


def test_wrong_method_is_405_and_unknown_path_404(client: TestClient) -> None:
    assert client.delete("/api/orders/10248").status_code == 405
    assert client.get("/api/nothing-here").status_code == 404
