"""The project's one text-folding function, for comparing words the way people type them.

`fold()` lower-cases, removes accents, spells the letters NFKD keeps (ß, ø, æ, œ, ł, đ, ı)
the way people type them without a German or Nordic keyboard and makes typographic quotes
plain. Names, queries, the reader's vocabulary and the evaluations all compare folded text,
so "Straße" matches "strasse" and "Pâté" matches "pate" everywhere. It lives in `db/`
because the domain packages (orders/, rag/) use it and may not import agents/; the reader
re-exports it from `agents.reading.text`. Stdlib only.
"""

from __future__ import annotations

import unicodedata

# Letters NFKD does not decompose. ß, æ and œ become two letters: folded text is longer
# than the original wherever they occur (as it is for ligatures such as "ﬁ").
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "ı": "i",
    }
)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})


def fold(text: str) -> str:
    """Lower case, accents removed, ß→ss, typographic quotes plain: for comparing words.

    Punctuation and spacing are kept; callers that compare word sequences split or strip
    them themselves. 'Pâté Chinois' → 'pate chinois', 'Straße' → 'strasse', 'l’œuf' → "l'oeuf".
    """
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL).translate(_QUOTES))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
