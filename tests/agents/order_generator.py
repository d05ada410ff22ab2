"""Hypothesis strategies that write orders the way customers and sales staff do.

Orders are built from the real seeded catalog (products in stock and not discontinued,
every customer) and rendered as chat messages or pasted emails in English, German,
Spanish, French, Portuguese or Italian: a customer reference (company name, its
distinctive short form, the 5-letter code or the contact name) in one of several
places, 1-15 lines in mixed quantity forms and separators, and noise lines full of
numbers (order numbers, dates, phones, addresses). The vocabulary tables here are the
test's own and deliberately independent of the product's reader (agents/offline,
agents/reading): the properties check that the reader generalises to text it was not
written from. Each drawn `GeneratedOrder` knows what it asks for, so a test can compare
the draft the desk made with the intended one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hypothesis import assume
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.models import Customer, Product

LANGUAGES = ("en", "de", "es", "fr", "pt", "it")
MAX_LINE_QUANTITY = 50


# --- the catalog, as the seeded database holds it ----------------------------------------


@dataclass(frozen=True)
class CatalogProduct:
    product_id: int
    name: str
    stock: int


@dataclass(frozen=True)
class CatalogCustomer:
    customer_id: str
    company: str
    contact: str | None
    short: str | None  # a distinctive short form of the company name, when it has one

    def references(self) -> dict[str, str]:
        """Every way a message may name this customer, by kind."""
        found = {"company": self.company, "code": self.customer_id}
        if self.short:
            found["short"] = self.short
        if self.contact:
            found["contact"] = self.contact
        return found


@dataclass(frozen=True)
class Catalog:
    products: tuple[CatalogProduct, ...]
    customers: tuple[CatalogCustomer, ...]


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of `text` (the test's own, so it
    also runs against code that predates agents/reading)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Words too common (in any of the six languages, or in shop names) to stand for a company.
GENERIC_WORDS = frozenset(
    "around blauer bottom centro chop comercio consolidated eastern familia folies folk "
    "france great hungry island laughing lazy lonesome maison north old paris piccolo "
    "princesa queen quick rancho save seven split white trail the galeria oceano tradicao "
    "magazzini romero sante wellington furia specialites supremes victuailles vins mere "
    "godos gourmet rattlesnake drachenblut richter".split()
)


def short_form(company: str, taken: set[str]) -> str | None:
    """The company's first word when it alone identifies the company: at least 4 letters,
    not a generic word, and no word of another customer's or any product's name."""
    words = company.split()
    if len(words) < 2:
        return None
    first = re.split(r"[-/]", words[0])[0].strip(".,")
    key = fold(first)
    if "'" in first or len(key) < 4 or key in GENERIC_WORDS or key in taken:
        return None
    return first


def load_catalog(engine: Engine) -> Catalog:
    """Orderable products and every customer, read from the seeded database."""
    with Session(engine) as session:
        products = session.scalars(
            select(Product)
            .where(Product.units_in_stock > 0, Product.discontinued.is_(False))
            .order_by(Product.product_id)
        ).all()
        every_product = session.scalars(select(Product.name)).all()
        customers = session.scalars(select(Customer).order_by(Customer.customer_id)).all()
        rows = [(c.customer_id, c.company_name, c.contact_name) for c in customers]
        orderable = tuple(CatalogProduct(p.product_id, p.name, p.units_in_stock) for p in products)
    product_words = {w for name in every_product for w in fold(name).split()}
    built = []
    for customer_id, company, contact in rows:
        others = {
            w
            for other_id, other_company, other_contact in rows
            if other_id != customer_id
            for w in fold(f"{other_company} {other_contact or ''}").split()
        }
        short = short_form(company, others | product_words)
        built.append(CatalogCustomer(customer_id, company, contact, short))
    return Catalog(products=orderable, customers=tuple(built))


# --- vocabulary, per language (the test's own tables) -------------------------------------


@dataclass(frozen=True)
class Language:
    code: str
    connector: str  # "and"
    for_word: str  # "for <customer>"
    order_for: str  # "Order for <customer>:"
    wants: str  # "<customer> wants ..."
    subject: str  # "Subject: Order ..."
    units: tuple[str, ...]  # "{n} <unit> {p}"
    numbers: dict[int, str]
    greetings: tuple[str, ...]
    intros: tuple[str, ...]
    closings: tuple[str, ...]
    department: tuple[str, ...]  # an unnamed signature
    delivery: str  # "Delivery by 15/12/2026"
    reference: str  # "Our reference: PO 4471-B"


def _numbers(words: str, start: int = 2) -> dict[int, str]:
    table = dict(enumerate(words.split()[:11], start=start))
    tail = words.split()[11:]
    table.update(zip((15, 20), tail, strict=True))
    return table


LANGUAGE = {
    "en": Language(
        "en",
        "and",
        "for",
        "Order for",
        "wants",
        "Order",
        ("pcs", "units of"),
        {1: "one"}
        | _numbers("two three four five six seven eight nine ten eleven twelve fifteen twenty"),
        ("Hi,", "Hello team,", "Good morning,"),
        ("Please send us the following:", "We would like to order:", "Could you ship:"),
        ("Thanks,", "Best regards,", "Kind regards,"),
        ("Purchasing", "The buying team"),
        "Delivery by",
        "Our reference:",
    ),
    "de": Language(
        "de",
        "und",
        "für",
        "Bestellung für",
        "möchte",
        "Bestellung",
        ("Stück",),
        _numbers("zwei drei vier fünf sechs sieben acht neun zehn elf zwölf fünfzehn zwanzig"),
        ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"),
        ("Bitte liefern Sie uns:", "Wir bestellen hiermit:", "Wir benötigen:"),
        ("Mit freundlichen Grüßen", "Viele Grüße", "Danke und Gruß"),
        ("Einkauf", "Ihr Einkaufsteam"),
        "Lieferung bis",
        "Unser Zeichen:",
    ),
    "es": Language(
        "es",
        "y",
        "para",
        "Pedido para",
        "quiere",
        "Pedido",
        ("unidades de", "cajas de"),
        _numbers("dos tres cuatro cinco seis siete ocho nueve diez once doce quince veinte"),
        ("Hola,", "Buenos días,", "Estimados señores,"),
        ("Por favor, envíennos:", "Quisiéramos pedir:", "Necesitamos:"),
        ("Saludos,", "Un saludo,", "Atentamente,"),
        ("Compras", "Departamento de compras"),
        "Entrega antes del",
        "Nuestra referencia:",
    ),
    "fr": Language(
        "fr",
        "et",
        "pour",
        "Commande pour",
        "voudrait",
        "Commande",
        ("cartons de",),
        _numbers("deux trois quatre cinq six sept huit neuf dix onze douze quinze vingt"),
        ("Bonjour,", "Madame, Monsieur,", "Bonjour à tous,"),
        ("Merci de nous livrer :", "Nous souhaitons commander :", "Pourriez-vous envoyer :"),
        ("Cordialement,", "Bien à vous,", "Merci d'avance,"),
        ("Service achats", "Les achats"),
        "Livraison avant le",
        "Notre référence :",
    ),
    "pt": Language(
        "pt",
        "e",
        "para",
        "Encomenda para",
        "quer",
        "Encomenda",
        ("caixas de",),
        _numbers("dois três quatro cinco seis sete oito nove dez onze doze quinze vinte"),
        ("Olá,", "Bom dia,", "Prezados,"),
        ("Por favor, enviem:", "Gostaríamos de encomendar:", "Precisamos de:"),
        ("Atenciosamente,", "Obrigado,", "Cumprimentos,"),
        ("Compras", "Departamento de compras"),
        "Entrega até",
        "Nossa referência:",
    ),
    "it": Language(
        "it",
        "e",
        "per",
        "Ordine per",
        "vuole",
        "Ordine",
        ("pezzi di",),
        _numbers("due tre quattro cinque sei sette otto nove dieci undici dodici quindici venti"),
        ("Buongiorno,", "Salve,", "Gentili signori,"),
        ("Vi preghiamo di inviarci:", "Vorremmo ordinare:", "Ci servono:"),
        ("Cordiali saluti,", "Grazie,", "Distinti saluti,"),
        ("Ufficio acquisti", "Acquisti"),
        "Consegna entro il",
        "Nostro riferimento:",
    ),
}

# Quantity forms that read the same in every language ({n} digits, {p} the product).
SYMBOL_FORMS = (
    "{p} x{n}",
    "{p} x {n}",
    "{n}x {p}",
    "{n} x {p}",
    "{p} ×{n}",
    "{p} - {n}",
    "{p}: {n}",
    "{p} (qty {n})",
)
STREETS = (
    "Obere Str. {n}, {zip} Berlin",
    "Avda. de la Constitución {n}, {zip} México D.F.",
    "{n} Hanover Sq., London WA1 1DP",
    "Rua do Paço, {n}, {zip}-876 São Paulo",
    "Via Monte Bianco {n}, {zip} Torino",
    "{n}, rue des Bouchers, {zip} Marseille",
)


# --- what a drawn order holds ------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    product: CatalogProduct
    quantity: int
    phrase: str  # the product as the message writes it
    form: str  # the quantity form used, e.g. "{p} x{n}" or "words:{n} {p}"
    text: str  # the line as written


@dataclass(frozen=True)
class GeneratedOrder:
    lang: str
    style: str  # "chat" or "email"
    customer: CatalogCustomer
    reference_kind: str  # company / short / code / contact
    reference: str
    position: str  # first / end / from / subject / signature
    separator: str
    lines: tuple[Line, ...]
    message: str
    noise: tuple[str, ...] = field(default=())

    @property
    def expected(self) -> dict[int, int]:
        return {line.product.product_id: line.quantity for line in self.lines}

    def __repr__(self) -> str:
        intended = ", ".join(f"{ln.quantity} × {ln.product.name} [{ln.form}]" for ln in self.lines)
        return (
            f"GeneratedOrder({self.lang}, {self.style}, customer {self.customer.customer_id} "
            f"by {self.reference_kind} {self.reference!r} at {self.position}, "
            f"separator {self.separator!r})\n  intended: {intended}\n  message:\n    "
            + self.message.replace("\n", "\n    ")
        )


# --- strategies --------------------------------------------------------------------------


def product_phrases(product: CatalogProduct) -> st.SearchStrategy[str]:
    """The catalog spelling, lower-cased, without accents, or both."""
    variants = {
        product.name,
        product.name.lower(),
        without_accents(product.name),
        without_accents(product.name).lower(),
    }
    return st.sampled_from(sorted(variants))


@st.composite
def order_line(
    draw: st.DrawFn, product: CatalogProduct, lang: Language, *, other_units: bool
) -> Line:
    quantity = draw(st.integers(1, min(product.stock, MAX_LINE_QUANTITY)))
    phrase = draw(product_phrases(product))
    units = LANGUAGE["en"].units + lang.units if other_units else lang.units
    if quantity == 1:  # "1 units of", "1 cajas de": only "pcs" reads right in the singular
        units = ("pcs",) if other_units else ()
    forms = [*SYMBOL_FORMS, "{n} {p}", *(f"{{n}} {unit} {{p}}" for unit in units)]
    form = draw(st.sampled_from(forms))
    number = str(quantity)
    spelled = form == "{n} {p}" or form.removeprefix("{n} ").removesuffix(" {p}") in units
    if spelled and quantity in lang.numbers and draw(st.booleans()):
        number, form = lang.numbers[quantity], f"words:{form}"
    text = form.removeprefix("words:").format(n=number, p=phrase)
    return Line(product, quantity, phrase, form, text)


def join_lines(texts: Sequence[str], separator: str, lang: Language) -> str:
    if separator == "newline":
        return "\n".join(texts)
    if separator.startswith("bullet"):
        return "\n".join(f"{separator.removeprefix('bullet')} {t}" for t in texts)
    if separator == "numbered":
        return "\n".join(f"{i}. {t}" for i, t in enumerate(texts, start=1))
    if separator == "and":
        return f" {lang.connector} ".join(texts)
    if separator == "comma-and" and len(texts) > 1:
        return ", ".join(texts[:-1]) + f" {lang.connector} {texts[-1]}"
    return ("; " if separator == "semicolon" else ", ").join(texts)


INLINE = ("comma", "semicolon", "and", "comma-and")
LISTED = ("newline", "bullet-", "bullet*", "bullet•", "numbered")


@st.composite
def noise_line(draw: st.DrawFn, lang: Language) -> str:
    kind = draw(st.sampled_from(("po", "date", "phone", "address")))
    if kind == "po":
        number = draw(st.integers(1000, 9999))
        return f"{lang.reference} PO {number}-{draw(st.sampled_from('ABCDEFGH'))}"
    if kind == "date":
        day, month = draw(st.integers(1, 28)), draw(st.integers(1, 12))
        return f"{lang.delivery} {day:02d}/{month:02d}/{draw(st.integers(2026, 2027))}"
    if kind == "phone":
        country = draw(st.sampled_from(("43", "49", "34", "33", "351", "39", "44")))
        a, b = draw(st.integers(100, 9999)), draw(st.integers(1000, 9999))
        return f"Tel. +{country} {a} {b}"
    street = draw(st.sampled_from(STREETS))
    return street.format(n=draw(st.integers(1, 250)), zip=draw(st.integers(10000, 99999)))


def _reference(draw: st.DrawFn, customer: CatalogCustomer, kinds: Iterable[str]) -> tuple[str, str]:
    available = customer.references()
    kind = draw(st.sampled_from([k for k in kinds if k in available]))
    return kind, available[kind]


@st.composite
def orders(
    draw: st.DrawFn,
    catalog: Catalog,
    *,
    langs: Sequence[str] = LANGUAGES,
    styles: Sequence[str] = ("chat", "email"),
    min_lines: int = 1,
    max_lines: int = 15,
) -> GeneratedOrder:
    """One order message: the customer, the lines it asks for, and the text."""
    lang = LANGUAGE[draw(st.sampled_from(list(langs)))]
    style = draw(st.sampled_from(list(styles)))
    customer = draw(st.sampled_from(catalog.customers))
    products = draw(
        st.lists(
            st.sampled_from(catalog.products),
            min_size=min_lines,
            max_size=max_lines,
            unique_by=lambda p: p.product_id,
        )
    )
    other_units = lang.code == "en" or draw(st.booleans())
    lines = tuple(draw(order_line(p, lang, other_units=other_units)) for p in products)
    build = chat_message if style == "chat" else email_message
    return draw(build(lang, customer, lines))


@st.composite
def chat_message(
    draw: st.DrawFn, lang: Language, customer: CatalogCustomer, lines: tuple[Line, ...]
) -> GeneratedOrder:
    kind, reference = _reference(draw, customer, ("company", "short", "code", "contact"))
    position = draw(st.sampled_from(("first", "end")))
    separator = draw(st.sampled_from(INLINE + LISTED))
    body = join_lines([line.text for line in lines], separator, lang)
    listed = separator in LISTED
    if position == "first":
        lead = draw(
            st.sampled_from((f"{reference}:", f"{lang.order_for} {reference}:"))
            if listed
            else st.sampled_from(
                (f"{reference}:", f"{lang.order_for} {reference}:", f"{reference} {lang.wants}")
            )
        )
        text = f"{lead}\n{body}" if listed else f"{lead} {body}"
    else:
        text = (
            f"{body}\n{lang.for_word} {reference}"
            if listed
            else f"{body} {lang.for_word} {reference}"
        )
    noise: tuple[str, ...] = ()
    if draw(st.booleans()):
        noise = (draw(noise_line(lang)),)
        text = f"{text}\n{noise[0]}"
    return GeneratedOrder(
        lang.code, "chat", customer, kind, reference, position, separator, lines, text, noise
    )


@st.composite
def email_message(
    draw: st.DrawFn, lang: Language, customer: CatalogCustomer, lines: tuple[Line, ...]
) -> GeneratedOrder:
    position = draw(st.sampled_from(("first", "from", "subject", "signature")))
    kinds = (
        ("company", "short", "contact")
        if position == "signature"
        else ("company", "short", "code", "contact")
    )
    kind, reference = _reference(draw, customer, kinds)
    separator = draw(st.sampled_from(LISTED + ("comma-and",)))
    noise = [draw(noise_line(lang)) for _ in range(draw(st.integers(1, 3)))]
    head: list[str] = []
    if position == "first":
        head.append(f"{lang.order_for} {reference}")
    if position == "from":
        address = draw(
            st.sampled_from(("", " <orders@mail.example>", " <purchasing@shop.example>"))
        )
        head.append(f"From: {reference}{address}")
    if position == "subject":
        head.append(f"Subject: {lang.subject} {reference}")
    elif draw(st.booleans()):
        head.append(f"Subject: {lang.subject} PO {draw(st.integers(1000, 9999))}-B")
    greeting = draw(st.sampled_from(lang.greetings))
    intro = draw(st.sampled_from(lang.intros))
    body = join_lines([line.text for line in lines], separator, lang)
    signer = reference if position == "signature" else draw(st.sampled_from(lang.department))
    closing = draw(st.sampled_from(lang.closings))
    parts = [*head, "", greeting, "", intro, body, noise[0], "", closing, signer, *noise[1:]]
    text = "\n".join(parts).lstrip("\n")
    return GeneratedOrder(
        lang.code,
        "email",
        customer,
        kind,
        reference,
        position,
        separator,
        lines,
        text,
        tuple(noise),
    )


# --- follow-up edits ---------------------------------------------------------------------

EDIT_STOPWORDS = frozenset("the and with from hot new dried sauce mix lager".split())


@dataclass(frozen=True)
class Edit:
    target: CatalogProduct
    word: str  # the word of the target's name the edit calls it by
    quantity: int
    message: str  # "make the <word> N", maybe "for <another form of the customer>"


def edit_words(order: GeneratedOrder, line: Line) -> list[str]:
    """Words of the line's product name that name no other line of the order."""
    others = {
        w for other in order.lines if other is not line for w in fold(other.product.name).split()
    }
    return [
        w
        for w in line.product.name.split()
        if len(fold(w)) >= 4 and fold(w) not in EDIT_STOPWORDS and fold(w) not in others
    ]


@st.composite
def order_and_edit(
    draw: st.DrawFn, catalog: Catalog, **options: object
) -> tuple[GeneratedOrder, Edit]:
    """An order, then "make the <word> N" for one of its lines (N differs from its quantity);
    the edit may name the customer again in another form ("... for ALFKI")."""
    order = draw(orders(catalog, **options))  # type: ignore[arg-type]
    targets = [line for line in order.lines if edit_words(order, line)]
    assume(targets)
    line = draw(st.sampled_from(targets))
    word = draw(st.sampled_from(edit_words(order, line)))
    word = draw(st.sampled_from(sorted({word, word.lower()})))
    limit = min(line.product.stock, MAX_LINE_QUANTITY)
    quantity = draw(st.integers(1, limit).filter(lambda n: n != line.quantity))
    message = f"make the {word} {quantity}"
    others = {k: v for k, v in order.customer.references().items() if k != order.reference_kind}
    if others and draw(st.booleans()):
        message += f" for {others[draw(st.sampled_from(sorted(others)))]}"
    return order, Edit(line.product, word, quantity, message)
