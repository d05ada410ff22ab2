"""Order confirmations to send back to the customer: a plain-text e-mail body and a PDF.

`confirmation_text(order)` is a body ready to paste into an e-mail: greeting, the order's
number and date, customer, PO number, requested delivery date, ship-to and notes, the
lines as an aligned plain-text table (quantity, product, unit price, discount, line
total), the total, who confirmed it and its status. `confirmation_pdf(order)` is the same
confirmation as a one-or-more-page A4 PDF (fpdf2). A cancelled order says CANCELLED at the
top of both, so nobody sends it as a live order.

Product names and notes are Unicode (ü, é, ß, ø, Œ, curly quotes). The text keeps them as
written. The PDF embeds Noto Sans (from the `pymupdf-fonts` package: Latin, Greek and
Cyrillic); a character the font cannot show is written as its nearest ASCII ("寿" as "?",
"ﬁ" as "fi"), and the PDF then says so in a footnote, so nothing is lost silently. If the
font cannot be loaded, the PDF falls back to a core font (Latin-1) with the same visible
replacements: making a confirmation never fails on a name.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import textwrap
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace, XPos, YPos

from orders.header import format_day
from orders.money import money
from orders.schemas import OrderLineView, OrderView

log = logging.getLogger(__name__)

SELLER = "Order Desk"
HEADINGS = ("Qty", "Product", "Unit price", "Discount", "Line total")
PRODUCT_COLUMN = 40  # characters; longer names wrap onto the next lines of the text table
NONE_GIVEN = "-"
REPLACED_NOTE = (
    "Some characters cannot be shown in this PDF's font: they are written as their nearest "
    "ASCII letters, or as ?. The plain-text confirmation keeps them as written."
)

# Closest ASCII of characters NFKD does not decompose (ß, Œ, ø) and of typographic marks,
# used only where the PDF's font lacks the character itself.
ASCII_FORMS = {
    "ß": "ss", "ẞ": "SS", "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o",
    "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Ł": "L", "ł": "l", "Þ": "Th", "þ": "th",
    "ı": "i", "‘": "'", "’": "'", "‚": ",", "‛": "'", "“": '"', "”": '"', "„": '"',
    "‟": '"', "‹": "<", "›": ">", "«": "<<", "»": ">>", "‐": "-", "‑": "-", "‒": "-",
    "–": "-", "—": "-", "―": "-", "−": "-", "…": "...", "•": "*", "·": ".", "€": "EUR",
    "£": "GBP", "™": "(TM)", "©": "(c)", "®": "(R)", "°": " deg", "\u00a0": " ",
}  # fmt: skip
# Bidirectional overrides and isolates could make a name read differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# --- what both documents say ----------------------------------------------------------


def cancelled(order: OrderView) -> bool:
    return order.status == "cancelled"


def facts(order: OrderView) -> list[tuple[str, str]]:
    """The confirmation's header as (label, value) pairs, in reading order."""
    return [
        ("Order number", str(order.order_id)),
        ("Order date", format_day(_utc(order.created_at).date())),
        ("Customer", f"{order.customer_name} ({order.customer_id})"),
        ("Your PO number", order.customer_po or NONE_GIVEN),
        (
            "Requested delivery",
            format_day(order.requested_date) if order.requested_date else "not specified",
        ),
        ("Ship to", order.ship_to_effective or NONE_GIVEN),
        ("Notes", order.notes or NONE_GIVEN),
        ("Confirmed by", order.created_by or "not recorded"),
        ("Status", status_line(order)),
    ]


def status_line(order: OrderView) -> str:
    if not cancelled(order):
        return order.status.capitalize()
    when = f" on {_moment(order.cancelled_at)}" if order.cancelled_at else ""
    return f"CANCELLED{when}"


def cancelled_banner(order: OrderView) -> str:
    return (
        f"CANCELLED: order {order.order_id} was cancelled"
        + (f" on {_moment(order.cancelled_at)}" if order.cancelled_at else "")
        + " and will not be delivered. The details below are for your records only."
    )


def line_cells(line: OrderLineView) -> tuple[str, str, str, str, str]:
    return (
        f"{line.quantity:,}",
        line.product_name,
        money(line.unit_price),
        percent(line.discount),
        money(line.line_total),
    )


def percent(fraction: Decimal) -> str:
    """A discount as a percentage ("15%", "2.5%"); "-" for none."""
    if not fraction:
        return NONE_GIVEN
    return f"{(Decimal(fraction) * 100).normalize():f}%"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive UTC, PostgreSQL an aware time in the session's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(moment: datetime) -> str:
    utc = _utc(moment)
    return f"{format_day(utc.date())} {utc:%H:%M} UTC"


# --- the plain-text e-mail body ---------------------------------------------------------


def confirmation_text(order: OrderView, *, seller: str = SELLER) -> str:
    """The order confirmation as a plain-text e-mail body (UTF-8, names as written)."""
    greeting = [f"Dear {_one_line(order.customer_name)},", ""]
    if cancelled(order):
        opening = [cancelled_banner(order)]
    else:
        opening = [f"Thank you for your order. We confirm order {order.order_id} as follows."]
    parts = [
        *greeting,
        *textwrap.wrap(" ".join(opening), 78),
        "",
        *_fact_block(facts(order)),
        "",
        *_line_table(order),
        "",
        "Kind regards,",
        _one_line(seller),
    ]
    return "\n".join(parts) + "\n"


def _fact_block(pairs: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in pairs) + 2
    lines: list[str] = []
    for label, value in pairs:
        first, *more = _plain(value).splitlines() or [""]
        lines.append(f"{label + ':':<{width}}{first}".rstrip())
        lines.extend(f"{'':<{width}}{text}".rstrip() for text in more)
    return lines


def _line_table(order: OrderView) -> list[str]:
    rows = [tuple(_one_line(cell) for cell in line_cells(line)) for line in order.lines]
    widths = [max(display_width(row[i]) for row in [HEADINGS, *rows]) for i in range(5)]
    widths[1] = min(widths[1], PRODUCT_COLUMN)
    out = [_row(HEADINGS, widths), _row(tuple("-" * w for w in widths), widths)]
    for row in rows:
        name, *rest = textwrap.wrap(row[1], widths[1]) or [""]
        out.append(_row((row[0], name, *row[2:]), widths))
        out.extend(_row(("", more, "", "", ""), widths) for more in rest)
    table_width = sum(widths) + 2 * (len(widths) - 1)
    total = f"Total  {money(order.total)}"
    out += ["", " " * max(0, table_width - len(total)) + total]
    return out


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [
        _pad(cell, width, right=index != 1)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(padded).rstrip()


def _pad(text: str, width: int, *, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced font: combining marks none, wide (CJK) two."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _plain(text: str) -> str:
    """`text` safe to paste: NFC, tabs as spaces, control and bidi-override characters as ?
    (visible), line breaks kept."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
    return "".join(
        "?" if ch in _BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch != "\n") else ch
        for ch in text
    )


def _one_line(text: str) -> str:
    return " ".join(_plain(text).split())


# --- the PDF ----------------------------------------------------------------------------


# A paragraph: left-aligned (multi_cell justifies by default), the next one below it.
_LEFT: dict[str, Any] = {"align": "L", "new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


class _QuietSubsetter(logging.Filter):
    """fontTools warns on every subset that it drops Noto's TTFA table (autohinter
    parameters, of no use in a PDF): that is expected, not worth a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "TTFA NOT subset" not in record.getMessage()


logging.getLogger("fontTools.subset").addFilter(_QuietSubsetter())


@dataclass
class _Face:
    """The font the PDF writes with and which characters it can show."""

    family: str
    shows: Callable[[str], bool]
    replaced: list[str] = field(default_factory=list)  # characters written otherwise

    def text(self, value: str) -> str:
        """`value` with every character the font cannot show replaced visibly."""
        return "".join(
            ch if ch == "\n" or self.shows(ch) else self._replace(ch) for ch in _plain(value)
        )

    def _replace(self, ch: str) -> str:
        self.replaced.append(ch)
        ascii_form = ASCII_FORMS.get(ch) or "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        if ascii_form and all(self.shows(c) for c in ascii_form):
            return ascii_form
        return "?"


def confirmation_pdf(order: OrderView, *, seller: str = SELLER) -> bytes:
    """The order confirmation as PDF bytes (A4). Never fails on a product name."""
    pdf = FPDF(format="A4")
    face = _face(pdf)
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(f"Order confirmation {order.order_id}")
    pdf.set_creator(face.text(seller))
    pdf.add_page()
    _heading(pdf, face, order, seller)
    _facts(pdf, face, order)
    _lines(pdf, face, order)
    if face.replaced:
        pdf.ln(6)
        pdf.set_font(face.family, "", 8)
        pdf.multi_cell(0, 4, REPLACED_NOTE, **_LEFT)
    return bytes(pdf.output())


def _heading(pdf: FPDF, face: _Face, order: OrderView, seller: str) -> None:
    pdf.set_font(face.family, "B", 18)
    pdf.cell(0, 10, f"Order confirmation {order.order_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(face.family, "", 10)
    pdf.multi_cell(0, 5, face.text(seller), **_LEFT)
    pdf.ln(4)
    if cancelled(order):
        pdf.set_text_color(180, 0, 0)
        pdf.set_font(face.family, "B", 13)
        pdf.multi_cell(0, 6, face.text(cancelled_banner(order)), **_LEFT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(3)


def _facts(pdf: FPDF, face: _Face, order: OrderView) -> None:
    for label, value in facts(order):
        pdf.set_font(face.family, "B", 10)
        pdf.cell(42, 6, label)
        pdf.set_font(face.family, "", 10)
        pdf.multi_cell(0, 6, face.text(value), **_LEFT)
    pdf.ln(4)


def _lines(pdf: FPDF, face: _Face, order: OrderView) -> None:
    pdf.set_font(face.family, "", 10)
    with pdf.table(
        col_widths=(14, 78, 26, 20, 28),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=6,
    ) as table:
        for cells in [HEADINGS, *(line_cells(line) for line in order.lines)]:
            row = table.row()
            for cell in cells:
                row.cell(face.text(cell))
    pdf.ln(3)
    pdf.set_font(face.family, "B", 12)
    pdf.cell(0, 8, f"Total {money(order.total)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --- fonts ------------------------------------------------------------------------------

FAMILY = "NotoSans"
FONT_CODES = {"": "notos", "B": "notosbo"}  # pymupdf_fonts' names of Noto Sans regular, bold


def _face(pdf: FPDF) -> _Face:
    """Noto Sans embedded in `pdf`, or (if that fails) the core Helvetica, never an error."""
    try:
        files = _font_files()
        for style, path in files.items():
            pdf.add_font(FAMILY, style, path)
        covered = set.intersection(*(set(pdf.fonts[f"{FAMILY.lower()}{s}"].cmap) for s in files))
    except Exception as error:  # a missing or broken font must not stop a confirmation
        log.warning("confirmation PDF without Noto Sans (%s); using a core font", error)
        return _Face("Helvetica", _latin1)
    return _Face(FAMILY, lambda ch: ord(ch) in covered and unicodedata.category(ch)[0] != "C")


def _latin1(ch: str) -> bool:
    # What fpdf2 encodes for its core fonts.
    return 0x20 <= ord(ch) <= 0x7E or 0xA0 <= ord(ch) <= 0xFF


_font_lock = threading.Lock()
_fonts_written: dict[str, Path] = {}


def _font_files() -> dict[str, Path]:
    """The Noto Sans files by style, written once per process into a folder of its own
    (again if something removed them): fpdf2 reads fonts from files, and the package ships
    them as compressed data."""
    with _font_lock:
        if not _fonts_written or not all(path.exists() for path in _fonts_written.values()):
            _fonts_written.update(_write_fonts())
        return dict(_fonts_written)


def _write_fonts() -> dict[str, Path]:
    import pymupdf_fonts

    folder = Path(tempfile.mkdtemp(prefix="orderdesk-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    files = {}
    for style, code in FONT_CODES.items():
        path = folder / f"{FAMILY}-{code}.ttf"
        path.write_bytes(pymupdf_fonts.myfont(code))
        files[style] = path
    return files
