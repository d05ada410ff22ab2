"""Edits: verbs and shapes that change the open draft, references kept for the caller."""

from __future__ import annotations

import pytest

from agents.reading.edits import read_edit

EDITS = [
    ("make the tofu 30", [("set", "tofu", 30, None)]),
    ("change the tofu to 30", [("set", "tofu", 30, None)]),
    ("make it 30", [("set", None, 30, "it")]),
    ("make that 8", [("set", None, 8, "it")]),
    ("make the first one 4", [("set", None, 4, "first")]),
    ("make the last one 2", [("set", None, 2, "last")]),
    ("drop the ikura", [("remove", "ikura", None, None)]),
    (
        "remove the ikura and the konbu",
        [("remove", "ikura", None, None), ("remove", "konbu", None, None)],
    ),
    ("also 5 konbu", [("add", "konbu", 5, None)]),
    ("add 3 konbu", [("add", "konbu", 3, None)]),
    ("3 more konbu", [("add", "konbu", 3, None)]),
    ("the tofu should be 12", [("set", "tofu", 12, None)]),
    ("actually 25 tofu", [("set", "tofu", 25, None)]),
    ("double the tarte", [("set", "tarte", None, None)]),
    ("streiche den Tofu", [("remove", "Tofu", None, None)]),
    ("quita el tofu", [("remove", "tofu", None, None)]),
    ("enlève le tofu", [("remove", "tofu", None, None)]),
    ("togli il tofu", [("remove", "tofu", None, None)]),
    ("noch 5 Konbu", [("add", "Konbu", 5, None)]),
    ("añade 3 konbu", [("add", "konbu", 3, None)]),
    ("ajoute 3 konbu", [("add", "konbu", 3, None)]),
]


@pytest.mark.parametrize(("segment", "expected"), EDITS)
def test_edit_reads(segment: str, expected: list) -> None:
    asks = read_edit(segment)
    # A reference's phrase is the caller's to show; what it refers to is `reference`.
    got = [(a.action, None if a.reference else a.phrase, a.quantity, a.reference) for a in asks]
    assert got == expected


def test_scaling_keeps_its_factor() -> None:
    (ask,) = read_edit("double the tarte")
    assert ask.factor == 2.0


def test_replace_is_a_removal_and_a_new_line() -> None:
    asks = read_edit("replace the tofu with 5 konbu")
    assert [(a.action, a.phrase, a.quantity) for a in asks] == [
        ("remove", "tofu", None),
        ("set", "konbu", 5),
    ]


@pytest.mark.parametrize("segment", ["12 tofu", "Ernst Handel", "hello"])
def test_plain_lines_are_not_edits(segment: str) -> None:
    assert read_edit(segment) == []


@pytest.mark.parametrize(
    ("segment", "reference"),
    [
        ("mach 8 daraus", "it"),
        ("mets-en 10", "it"),
        ("pon 5 de eso", "it"),
        ("quita el primero", "first"),
        ("enlève le dernier", "last"),
        ("togli l'altro", "other"),
    ],
)
def test_references_in_other_languages(segment: str, reference: str) -> None:
    (ask,) = read_edit(segment)
    assert ask.reference == reference
