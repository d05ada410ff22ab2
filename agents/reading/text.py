"""Text folding and cleaning: the project's one way to compare words.

`fold()` is what every matcher uses (customers, catalog spelling, the reader, the
evaluations): lower case, accents and ligatures removed, typographic quotes made plain.
It lives in `db.text` (the domain uses it too) and is re-exported here. It keeps one
character per character for Latin text except ß, æ and œ (→ ss, ae, oe) and ligatures, so
spans found in folded text line up with the original only where those are absent.
`clean()` makes a message printable first.
"""

from __future__ import annotations

import re
import unicodedata

from db.text import fold

__all__ = ["clean", "fold"]

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})
# Vulgar fractions: NFKC would turn "3½" into "31⁄2", i.e. thirty-one.
_VULGAR_FRACTION = re.compile(r"(\d*)([\u00bc-\u00be\u2150-\u215e\u2189])")


def clean(message: str) -> str:
    """Printable text with one space between words; control characters and NUL removed.

    Vulgar fractions become decimals first ("3½" → "3.5"), so that NFKC cannot glue them
    to the digits before them; the fraction slash becomes "/". Invisible format characters
    (zero-width spaces and joiners, BOM, bidi overrides, soft hyphens) are dropped, so a
    word reads as it displays ("con" + ZWSP + "firm" is "confirm"); other control characters,
    NUL and lone surrogates become spaces. Blank lines at either end are dropped.
    """
    message = _VULGAR_FRACTION.sub(_decimal, message).replace("\u2044", "/")
    message = unicodedata.normalize("NFKC", message)
    message = "".join(_printable(ch) for ch in message).translate(_QUOTES)
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in message.splitlines())
    return "\n".join(lines).strip()


def _printable(ch: str) -> str:
    if ch in "\n\t":
        return ch
    category = unicodedata.category(ch)
    return ch if category[0] != "C" else "" if category == "Cf" else " "


def _decimal(match: re.Match[str]) -> str:
    fraction = f"{unicodedata.numeric(match.group(2)):.3f}".rstrip("0")  # "0.5", "0.333"
    return match.group(1) + fraction[1:] if match.group(1) else fraction
