"""Packs: what one unit of a product holds, and what a quantity with a unit word means.

A line's quantity counts units, and one unit is what the catalog's `quantity_per_unit`
says: "24 - 12 oz bottles" (24 bottles), "10 boxes x 30 bags" (10 boxes of 30 bags each:
300 bags), "1 kg pkg." (one package, nothing counted inside), "750 cc per bottle" (one
bottle), "500 g" (nothing counted). `parse_pack` reads that text into a `Pack`, and
`convert` answers what "48 bottles" or "5 boxes" or "10 kg" of the product is in units -
exactly, as a fraction, or not at all - so nobody drafts 48 units (1,152 bottles) for 48
bottles. Item words are normalised through one small lexicon (singular and plural, the
catalog's abbreviations "pkgs." and "sausgs.", and the unit words of the six languages
the reader knows), kept here because domain code reads no agent data. Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from rapidfuzz import fuzz

from db.text import fold

# Canonical item -> the ways people and the catalog write it (en, de, es, fr, it, pt).
ITEM_WORDS: dict[str, tuple[str, ...]] = {
    "unit": (
        "unit", "units", "each", "ea", "einheit", "einheiten", "unidad", "unidades", "ud",
        "ud.", "uds", "uds.", "u.", "unite", "unites", "unita", "unidade", "un.",
    ),
    "piece": (
        "piece", "pieces", "pc", "pcs", "pc.", "pcs.", "stuck", "stk", "stk.", "st.", "stck",
        "pieza", "piezas", "pce", "pces", "pezzo", "pezzi", "pz", "pz.", "pzi", "peca",
        "pecas", "pc", "pcs",
    ),
    "case": (
        "case", "cases", "cs", "kiste", "kisten", "kasten", "kasten", "gebinde", "caja",
        "cajas", "cj", "caisse", "caisses", "colis", "cassa", "casse", "collo", "colli",
        "caixa", "caixas", "cx", "cx.", "fardo", "fardos",
    ),
    "box": (
        "box", "boxes", "bx", "gift box", "gift boxes", "schachtel", "schachteln", "boite",
        "boites", "scatola", "scatole",
    ),
    "carton": (
        "carton", "cartons", "ctn", "ctns", "karton", "kartons", "kt", "cartones",
        "cartone", "cartoni",
    ),
    "crate": ("crate", "crates", "engradado", "engradados"),
    "pack": ("pack", "packs", "pk", "pks"),
    "package": (
        "package", "packages", "pkg", "pkg.", "pkgs", "pkgs.", "packet", "packets",
        "packung", "packungen", "pck.", "paket", "pakete", "paquete", "paquetes", "paquet",
        "paquets", "pacote", "pacotes", "confezione", "confezioni", "conf.", "conf", "pacco",
        "pacchi", "pacchetto", "pacchetti", "embalagem", "embalagens", "envase", "envases",
    ),
    "bottle": (
        "bottle", "bottles", "btl", "btls", "flasche", "flaschen", "fl.", "fl", "botella",
        "botellas", "bouteille", "bouteilles", "bt", "flacon", "flacons", "bottiglia",
        "bottiglie", "flacone", "flaconi", "garrafa", "garrafas",
    ),
    "jar": (
        "jar", "jars", "glass", "glasses", "glas", "glaser", "frasco", "frascos", "tarro",
        "tarros", "bote", "botes", "pot", "pots", "bocal", "bocaux", "barattolo", "barattoli",
        "vasetto", "vasetti", "pote", "potes",
    ),
    "tin": (
        "tin", "tins", "can", "cans", "dose", "dosen", "lata", "latas", "canette", "canettes",
        "lattina", "lattine", "bidon", "bidons",
    ),
    "bag": (
        "bag", "bags", "sack", "sacks", "beutel", "tute", "tuten", "sacke", "bolsa", "bolsas",
        "saco", "sacos", "sachet", "sachets", "sac", "sacs", "busta", "buste", "sacco",
        "sacchi", "sacchetto", "sacchetti",
    ),
    "bar": ("bar", "bars", "tafel", "tafeln", "tableta", "tabletas", "tablette", "tablettes"),
    "round": ("round", "rounds"),
    "pie": ("pie", "pies"),
    "sausage": (
        "sausage", "sausages", "sausg", "sausgs", "sausgs.", "wurst", "wurste", "salchicha",
        "salchichas", "saucisse", "saucisses", "salsiccia", "salsicce", "salsicha", "salsichas",
    ),
    "tray": (
        "tray", "trays", "bandeja", "bandejas", "barquette", "barquettes", "plateau",
        "plateaux", "vaschetta", "vaschette",
    ),
    "pallet": (
        "pallet", "pallets", "palette", "paletten", "palettes", "paleta", "paletas", "bancale",
        "bancali",
    ),
    "tub": ("tub", "tubs", "eimer"),
    "ream": ("ream", "reams"),
    "roll": ("roll", "rolls"),
}  # fmt: skip
# Words that name the whole unit: "3 cases", "2 Kartons", "diez cajas", "12 pcs", "16
# units". A pack that counts the same item inside a unit ("10 boxes x 30 bags") wins.
PACK_ITEMS = frozenset({"unit", "piece", "case", "box", "carton", "crate", "pack", "package"})
# Items that hold many units, never one: "2 pallets" is a question whatever the pack.
MULTIPLES = frozenset({"pallet", "tray"})
# Measures, in grams or millilitres. Ounces are left out: the catalog's "12 oz bottles"
# are fluid ounces and its "6 oz jars" are weight, so an ounce converts nothing.
MASS: dict[str, Fraction] = {
    **dict.fromkeys(("kg", "kgs", "k", "kilo", "kilos", "kilogram", "kilograms"), Fraction(1000)),
    **dict.fromkeys(("kilogramm", "chilo", "chili", "quilo", "quilos"), Fraction(1000)),
    **dict.fromkeys(("g", "gr", "gram", "grams", "gramm", "gramos", "grammes"), Fraction(1)),
    **dict.fromkeys(("grammi", "gramas"), Fraction(1)),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), Fraction(45359237, 100000)),
}
VOLUME: dict[str, Fraction] = {
    **dict.fromkeys(("l", "liter", "litre", "litres", "litro", "litros", "litri"), Fraction(1000)),
    **dict.fromkeys(("cl",), Fraction(10)),
    **dict.fromkeys(("ml", "cc"), Fraction(1)),
}
_UNCOUNTED = ("oz",)  # a measure in a pack text that converts nothing


@functools.cache
def _item_of() -> dict[str, str]:
    return {fold(form): item for item, forms in ITEM_WORDS.items() for form in forms}


def item_word(word: str) -> str | None:
    """The canonical item a word names ("Flaschen" → "bottle", "pkgs." → "package"), or
    None. The last word counts ("gift boxes" → "box"); a plural the lexicon lacks is
    tried without its "s" / "es"."""
    folded = re.sub(r"\s+", " ", fold(word)).strip(" ,;:")
    table = _item_of()
    for candidate in (folded, folded.rstrip("."), *folded.rsplit(" ", 1)[-1:]):
        for form in (candidate, candidate.rstrip(".")):
            if form in table:
                return table[form]
            for ending in ("es", "s"):
                if form.endswith(ending) and form[: -len(ending)] in table:
                    return table[form[: -len(ending)]]
    return None


def measure_of(word: str) -> tuple[str, Fraction] | None:
    """("mass", grams) or ("volume", millilitres) of one `word` ("kg", "Liter"), or None."""
    folded = fold(word).strip(" .")
    if folded in MASS:
        return "mass", MASS[folded]
    if folded in VOLUME:
        return "volume", VOLUME[folded]
    return None


@dataclass(frozen=True, slots=True)
class Level:
    """One counted level of a pack: `count` of `item` ("10 boxes"), as written in `word`."""

    count: int
    item: str
    word: str


@dataclass(frozen=True, slots=True)
class Pack:
    """What one unit of a product holds.

    `levels` outermost first: "10 boxes x 30 bags" is (10 box, 30 bag); empty when one
    unit is one thing ("1 kg pkg.", "500 g", no text at all). `item` is what that one
    thing is, when the text names it ("package", "bottle", "box"); `size` the amount one
    innermost item holds, as (dimension, amount in g or ml), when it is a mass or volume.
    """

    text: str
    levels: tuple[Level, ...] = ()
    item: str | None = None
    size: tuple[str, Fraction] | None = None

    def per_unit(self, item: str) -> int | None:
        """How many `item` one unit holds ("bag" of "10 boxes x 30 bags": 300), or None."""
        total = 1
        for level in self.levels:
            total *= level.count
            if level.item == item:
                return total
        return None

    def amount(self, dimension: str) -> Fraction | None:
        """The mass (g) or volume (ml) of one unit, when the text gives it."""
        if self.size is None or self.size[0] != dimension:
            return None
        counts = [level.count for level in self.levels]
        total = Fraction(1)
        for count in counts:
            total *= count
        return total * self.size[1]

    @property
    def inner(self) -> Level | None:
        """The innermost counted level ("30 bags" of "10 boxes x 30 bags")."""
        return self.levels[-1] if self.levels else None


_MEASURE_WORDS = "|".join(
    re.escape(word) for word in sorted({*MASS, *VOLUME, *_UNCOUNTED}, key=len, reverse=True)
)
_LEVEL = re.compile(
    rf"^(?:(?P<count>\d+)(?!\d)(?!\s*(?:[.,]\d+\s*)?(?:{_MEASURE_WORDS})\b)\s*(?:-\s*)?)?"
    rf"(?:(?P<amount>\d+(?:[.,]\d+)?)\s*(?P<measure>{_MEASURE_WORDS})\b\.?\s*)?"
    r"(?:per\s+)?(?P<item>.*?)\s*$"
)


def parse_pack(text: str | None) -> Pack:
    """`quantity_per_unit` read: "24 - 12 oz bottles", "10 boxes x 30 bags", "1 kg pkg.",
    "750 cc per bottle", "500 g"; None, "" and "each" (Superstore) are one thing each.
    Never raises: a text it cannot read is one uncounted unit, so nothing converts."""
    written = (text or "").strip()
    levels: list[Level] = []
    item: str | None = None
    size: tuple[str, Fraction] | None = None
    for part in re.split(r"\s+x\s+", fold(written)):
        match = _LEVEL.match(part.strip())
        if match is None:
            return Pack(written)
        word = match["item"].strip()
        named = item_word(word) if word else None
        found = measure_of(match["measure"]) if match["amount"] else None
        if found is not None:
            size = (found[0], Fraction(match["amount"].replace(",", ".")) * found[1])
        if match["count"]:
            if named is None:
                return Pack(written)
            levels.append(Level(int(match["count"]), named, word))
        elif len(levels) == 0:
            item = named
    if item == "unit":
        item = None
    return Pack(written, tuple(levels), item, size)


Kind = Literal["units", "inner", "measure", "unknown"]


@dataclass(frozen=True, slots=True)
class Conversion:
    """What `quantity` `word` of a product is in units.

    `kind`: "units" (the word names the unit, or there is none: the quantity is units),
    "inner" (it names an item inside the unit: units = quantity / per_unit), "measure"
    (a mass or volume: units = quantity × measure / the unit's amount) or "unknown" (the
    word does not fit this product: `units` is None). `per_unit` is how many of `word`
    one unit holds (for "inner" and "measure").
    """

    quantity: int
    word: str | None
    kind: Kind
    units: Fraction | None
    per_unit: Fraction | None = None
    item: str | None = None

    @property
    def whole(self) -> bool:
        return self.units is not None and self.units.denominator == 1 and self.units > 0

    @property
    def choices(self) -> tuple[int, ...]:
        """The whole numbers of units around a quantity that is not whole: (1, 2) for 1.5;
        (1,) below one unit; () when it is whole or unknown."""
        if self.units is None or self.whole:
            return ()
        low = self.units.numerator // self.units.denominator
        return (low, low + 1) if low >= 1 else (1,)


def _one_thing(pack: Pack, item: str) -> bool:
    """A pack that counts nothing and names no container ("500 ml", "500 g", "each") is
    one thing, whatever it comes in: "6 bottles" of it are 6 units."""
    return not pack.levels and pack.item is None and item not in MULTIPLES


def convert(quantity: int, word: str | None, pack: Pack) -> Conversion:
    """`quantity` `word` of a product packed as `pack`, in units.

    An item the pack counts wins over the words that name a unit ("5 boxes" of "10 boxes
    x 30 bags" is half a unit); a word naming the pack's own one thing ("2 pkgs" of "1 kg
    pkg.", "6 bottles" of "500 ml") or a unit ("3 cases") leaves the quantity as it is;
    a mass or volume converts
    through the pack's size; anything else ("bottles" of a product sold in tins, "kg" of
    one sold in bottles) is unknown.
    """
    if not word:
        return Conversion(quantity, word, "units", Fraction(quantity))
    item = item_word(word)
    if item is not None:
        per_unit = pack.per_unit(item)
        if per_unit is not None:
            units = Fraction(quantity, per_unit)
            return Conversion(quantity, word, "inner", units, Fraction(per_unit), item)
        if item == pack.item or item in PACK_ITEMS or _one_thing(pack, item):
            return Conversion(quantity, word, "units", Fraction(quantity), item=item)
        return Conversion(quantity, word, "unknown", None, item=item)
    measure = measure_of(word)
    amount = pack.amount(measure[0]) if measure else None
    if measure is None or not amount:
        return Conversion(quantity, word, "unknown", None)
    per_unit = amount / measure[1]
    return Conversion(quantity, word, "measure", quantity / per_unit, per_unit)


_OF = frozenset({"of", "de", "di", "da", "do", "du", "des", "del", "della", "von", "vom"})
_FUZZY_ITEM = 80  # rapidfuzz ratio at which a typed word is the pack's own item word
_NAME_LEFT = 85  # the phrase without that word must still name the product this well


def item_in_phrase(phrase: str, pack: Pack, name: str) -> str | None:
    """The item of `pack` a product phrase counts in when the reader saw no unit word:
    its first word ("botles of lumberjak lager", "btls stout") or its last ("tourtière
    pies"), when that word is one of the items the pack itself counts -
    misspelt, abbreviated or a word the reader does not know ("bars" of "12 - 100 g
    bars") - and the rest of the phrase still names the product ("meat pies" names
    Tourtière by the pies: nothing is taken from it). None otherwise."""
    tokens = fold(phrase).replace(".", " ").split()
    if len(tokens) < 2 or not pack.levels:
        return None
    after_first = tokens[2:] if tokens[1] in _OF else tokens[1:]
    for word, rest in ((tokens[0], after_first), (tokens[-1], tokens[:-1])):
        if not rest or word in fold(name).split():
            continue  # nothing left to name the product, or a word of its name
        item = _pack_item_like(word, pack)
        if item and fuzz.partial_ratio(" ".join(rest), fold(name)) >= _NAME_LEFT:
            return item
    return None


def _pack_item_like(word: str, pack: Pack) -> str | None:
    """The pack's item `word` stands for: the item itself, a misspelling of one of its
    forms (ratio >= _FUZZY_ITEM), or an abbreviation (its letters in order, the first
    the same: "btls", "pkgs", "bxs")."""
    if len(word) < 3:
        return None
    for level in pack.levels:
        forms = {fold(level.word), *(fold(form) for form in ITEM_WORDS.get(level.item, ()))}
        for form in forms:
            if word == form or fuzz.ratio(word, form) >= _FUZZY_ITEM or _abbreviates(word, form):
                return level.word
    return None


def _abbreviates(short: str, word: str) -> bool:
    if short[0] != word[0] or len(short) >= len(word):
        return False
    letters = iter(word)
    return all(letter in letters for letter in short)


__all__ = [
    "ITEM_WORDS",
    "MULTIPLES",
    "PACK_ITEMS",
    "Conversion",
    "Level",
    "Pack",
    "convert",
    "item_in_phrase",
    "item_word",
    "measure_of",
    "parse_pack",
]
