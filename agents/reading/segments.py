"""Segments: a message cut into the pieces that may each hold a request or order lines.

Lines come from `agents.reading.noise.classify_lines`, which sets aside greetings,
closings, signatures, email headers and quoted replies. A content line loses its courtesy
("Hi team, …, thanks a lot!") and its numbers that are not quantities (phones, dates, PO
and reference numbers, money), which become cuts; then it is split at hard separators
(";", ", ", " / ", "|", sentence ends) and at connectors ("and", "und", "y", "et", "e")
where both sides carry a quantity. What was set aside is kept as `Ignored` entries, so the
reply can say in one short note what it skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.reading import noise
from agents.reading.items import NameTerms, connector_pattern
from agents.reading.lexicon import words
from agents.reading.numbers import find_quantities
from agents.reading.text import fold

_BULLET = re.compile(r"^\s*(?:[-*•·▪–—>]+|\(?\d{1,2}[.)]|[a-z][.)])\s+", re.IGNORECASE)
# ";", "|", " / ", a comma (not one inside a number: "1,000", "3,5"), a sentence end
# (not the full stop of an abbreviation of up to three letters: "4 Stk. Raclette").
_HARD = re.compile(
    r"\s*;\s*|\s*\|\s*|\s+/\s+|(?<!\d),\s*|,(?!\d)\s*|,\s+(?=\d)"
    r"|(?<=[^\W\d_]{2})[.!?]+\s+(?=\S)|[?!]+\s*"
)
_IGNORED_KINDS = {"greeting", "closing", "signature", "quote", "header"}


@dataclass
class Segment:
    """A piece of one content line; `line` is the line's index in the message."""

    text: str
    line: int


@dataclass
class Layout:
    """A message as segments, with what was set aside and the email header fields."""

    segments: list[Segment] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # "greeting", "signature", "PO 4471-B"
    headers: dict[str, str] = field(default_factory=dict)
    context_lines: list[str] = field(default_factory=list)  # header/signature text, for customers
    quoted: list[str] = field(default_factory=list)  # quoted / forwarded lines, without "> "


def layout(message: str, names: NameTerms | None = None) -> Layout:
    """Cut a cleaned message into segments; note what is ignorable. `names`: the numbers
    the catalog writes inside names, so "Travel Drive 16 GB" is no street address."""
    out = Layout()
    for info in noise.classify_lines(message):
        if info.kind == "blank":
            continue
        if info.kind == "quote":
            out.quoted.append(re.sub(r"^\s*(?:>\s*)+", "", info.text))
        if info.kind in _IGNORED_KINDS:
            out.ignored.append(info.kind)
            out.context_lines.append(info.text)
            for key, value in (info.fields or {}).items():
                out.headers.setdefault(key, value)
            continue
        text, dropped = noise.strip_courtesy(info.text)
        if not dropped:
            text = info.text  # nothing courteous: keep the line as typed ("-5 tofu")
        out.ignored.extend(dropped)
        for piece in _without_noise(text, out, names):
            for part in split_segment(piece, names):
                out.segments.append(Segment(part, info.index))
    return out


def _without_noise(text: str, out: Layout, names: NameTerms | None = None) -> list[str]:
    """The line cut at its phones, dates, PO numbers and the like (each noted as ignored)."""
    pieces, at = [], 0
    for span in sorted(noise.find_noise(text), key=lambda s: s.start):
        if span.start < at or (names is not None and names.spells(text[span.start : span.end])):
            continue
        pieces.append(text[at : span.start])
        out.ignored.append(text[span.start : span.end].strip())
        at = span.end
    pieces.append(text[at:])
    return [piece for piece in pieces if piece.strip(" ,;:.-")]


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:+-]*$")


def split_segment(line: str, names: NameTerms | None = None) -> list[str]:
    """One line split at hard separators, then at connectors between two quantities.

    A table row ("| Sir Rodney's Marmalade | 10 |") is one segment, its cells side by side.
    """
    if _TABLE_ROW.match(line):
        if _TABLE_RULE.match(line):
            return []
        line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
    line = _BULLET.sub("", line)
    parts: list[str] = []
    pieces = rejoin_abbreviations(line, _HARD.split(line))
    if names is not None and names.commas:
        pieces = _rejoin_names(line, pieces, names)
    for piece in pieces:
        if piece and piece.strip(" .,:;!?-"):
            for part in _split_dashes(piece.strip()):
                parts.extend(_split_connectors(part))
    return [part.strip(" .,:;!") for part in parts if part.strip(" .,:;!-–—")]


def _split_connectors(piece: str) -> list[str]:
    """Split at "and"/"und"/"y"/... only where each side has a quantity of its own."""
    pattern = connector_pattern()
    cuts = list(pattern.finditer(piece))
    if not cuts:
        return [piece]
    out, start = [], 0
    for match in cuts:
        left, right = piece[start : match.start()], piece[match.end() :]
        following = _next_part(right, pattern)
        if find_quantities(left) and (find_quantities(following) or _edit_verb(following)):
            out.append(left)
            start = match.end()
    out.append(piece[start:])
    return out


_DASH = re.compile(r"\s+[-–—]+\s+")


def _rejoin_names(line: str, pieces: list[str], names: NameTerms) -> list[str]:
    """ "2 Tennsco Lockers, Gray": a comma the catalog writes inside a name stays."""
    out: list[str] = []
    for piece in pieces:
        if out and names.joins(out[-1], piece) and f"{out[-1]}," in line:
            out[-1] = f"{out[-1]}, {piece}"
            continue
        out.append(piece)
    return out


def rejoin_abbreviations(line: str, pieces: list[str]) -> list[str]:
    """ "4 Stk. Raclette": a full stop after a unit word is an abbreviation, not an end."""
    out: list[str] = []
    for piece in pieces:
        last = fold(out[-1]).split()[-1:] if out else []
        if last and out[-1].endswith(".") is False and last[0] in words("unit"):
            at = line.find(piece, max(0, line.find(out[-1]) + len(out[-1])))
            if at > 0 and line[:at].rstrip().endswith("."):
                out[-1] = f"{out[-1]}. {piece}"
                continue
        out.append(piece)
    return out


def _split_dashes(piece: str) -> list[str]:
    """ "tarte au sucre 6 - no wait make the escargots 20": a dash before a correction or
    an edit starts a new segment; other dashes ("Tofu - 12") stay."""
    out, start = [], 0
    for match in _DASH.finditer(piece):
        following = fold(piece[match.end() :]).split()[:1]
        if following and (following[0] in words("correction") or _edit_verb(piece[match.end() :])):
            out.append(piece[start : match.start()])
            start = match.end()
    out.append(piece[start:])
    return [part for part in out if part.strip()]


def _edit_verb(text: str) -> bool:
    """ "change the Tunnbröd to 25 and drop the other one": the next clause is an edit."""
    first = fold(text).split()[:1]
    return bool(first) and any(first[0] in words(kind) for kind in ("remove", "set"))


def _next_part(text: str, pattern: re.Pattern[str]) -> str:
    match = pattern.search(text)
    return text[: match.start()] if match else text
