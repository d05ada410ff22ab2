"""Words per language, kept as data: `lexicon/<lang>.json`, one file per language.

Each file maps a kind ("approve", "discard", "connector", "unit", "courtesy", ...) to a
list of words or short phrases as people type them. `words(kind)` returns them folded
(`agents.reading.text.fold`), for one language or all of them, so callers compare folded
text with folded words and never keep vocabulary in code. A few kinds map each phrase to
a value instead ("number_phrase": "a couple" → 2); `table(kind)` returns those, keyed by
the folded phrase, and `words(kind)` their phrases.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from agents.reading.text import fold

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
LANGUAGES = ("en", "de", "es", "fr", "pt", "it")


Value = int | str


@functools.cache
def _table(lang: str) -> dict[str, list[str] | dict[str, Value]]:
    path = LEXICON_DIR / f"{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {kind: entries for kind, entries in data.items() if not kind.startswith("_")}


@functools.cache
def words(kind: str, lang: str | None = None) -> frozenset[str]:
    """The folded words and phrases of `kind`, in `lang` or (None) in every language."""
    langs = LANGUAGES if lang is None else (lang,)
    return frozenset(fold(entry) for code in langs for entry in _table(code).get(kind, ()))


@functools.cache
def table(kind: str, lang: str | None = None) -> dict[str, Value]:
    """A kind that maps phrases to values, keyed by folded phrase; later languages win ties."""
    langs = LANGUAGES if lang is None else (lang,)
    out: dict[str, Value] = {}
    for code in langs:
        entries = _table(code).get(kind, {})
        if isinstance(entries, dict):
            out.update({fold(phrase): value for phrase, value in entries.items()})
    return out


def kinds() -> frozenset[str]:
    """Every kind any language defines."""
    return frozenset(kind for code in LANGUAGES for kind in _table(code))
