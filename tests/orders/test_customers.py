"""Fuzzy customer lookup on the seeded Northwind store (SQLite and PostgreSQL).

Every customer must be found by name, code, folded name and contact; short and misspelt
references, whole order messages, and the evaluation set's 218 order conversations must
resolve to the right customer; unknown and ambiguous references must not be guessed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Customer, Product
from db.text import fold as fold_letters
from orders.customers import CustomerIndex, find_customer, fold

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "northwind.jsonl"
FIND_IN_FLOOR = 0.97

# Short, shortened, lower-case, accent-less and misspelt references staff really type.
REFERENCES = [
    ("Alfreds", "ALFKI"),
    ("alfred futterkiste", "ALFKI"),
    ("Ernst Handel", "ERNSH"),
    ("ernst", "ERNSH"),
    ("Bon app", "BONAP"),
    ("la maison d'asie", "LAMAI"),
    ("maison d asie", "LAMAI"),
    ("Que Delicia", "QUEDE"),
    ("Du monde entier", "DUMON"),
    ("Hungry Owl", "HUNGO"),
    ("hungry coyote import", "HUNGC"),
    ("Great Lakes", "GREAL"),
    ("Old World Deli", "OLDWO"),
    ("Split Rail", "SPLIR"),
    ("trails head", "TRAIH"),
    ("Wartian Herku", "WARTH"),
    ("Frankenversnd", "FRANK"),
    ("Konigliche Essen", "KOENE"),
    ("Berglunds snabbkop", "BERGS"),
    ("Folk & Fa HB", "FOLKO"),
    ("Save a lot", "SAVEA"),
    ("Lets Stop and Shop", "LETSS"),
    ("quickstop", "QUICK"),
    ("tortuga restaurant", "TORTU"),
    ("Wellington", "WELLI"),
    ("Lehmans Marktstand", "LEHMS"),
    ("Galeria del Gastronomo", "GALED"),
    ("Oceano Atlantico", "OCEAN"),
    ("FISSA Fabrica Inter Salchichas SA", "FISSA"),
    ("Franchi SpA", "FRANS"),
    ("Richter Supermarket", "RICSU"),
    ("Rattlesnake Canyon", "RATTC"),
    ("Big Cheese", "THEBI"),
    ("Cracker Box", "THECR"),
    ("Wandernde Kuh", "WANDK"),
    ("Tradicao Hipermercados", "TRADH"),
    ("Princesa Isabel", "PRINI"),
    ("vins et alcools chevalier", "VINET"),
    ("Blauer See", "BLAUS"),
    ("Paris specialites", "PARIS"),
    ("Specialites du monde", "SPECD"),
    ("Chop suey", "CHOPS"),
    ("antonio moreno", "ANTON"),
    ("Bs Beverages", "BSBEV"),
    ("Lonesome Pine", "LONEP"),
    ("Mere Paillard", "MEREP"),
    ("north south", "NORTS"),
    ("Seven Seas", "SEVES"),
    ("Ottlieb", "DRACD"),
    ("Yoshi Latimer", "HUNGC"),
]

# Whole order messages: the customer anywhere, in any form, next to product names.
MESSAGES = [
    ("Alfreds Futterkiste wants 12 tofu and 3 ikura", "ALFKI"),
    ("12 tofu for ernst handel please", "ERNSH"),
    ("Customer: QUICK\n- 5 ikura", "QUICK"),
    ("can you send Maria Anders 10 konbu", "ALFKI"),
    ("Hungry Coyote: 10 Laughing Lumberjack Lager", "HUNGC"),
    ("10 Laughing Lumberjack Lager for Hungry Owl", "HUNGO"),
    ("Laughing Bacchus wants 6 Laughing Lumberjack Lager", "LAUGB"),
    ("Antonio Moreno needs 4 Chef Anton's Cajun Seasoning", "ANTON"),
    ("ANTON: 12 Chef Anton's Gumbo Mix", "ANTON"),
    ("12 Chef Anton's Cajun Seasoning for Bon app'", "BONAP"),
    ("please put 3 konbu on an order for la maison d'asie", "LAMAI"),
    ("order for que delicia - 4 tofu, 2 ikura", "QUEDE"),
    ("Alfred Futterkiste 5 pavlova", "ALFKI"),
    ("Frankenversnd: 20 raclette", "FRANK"),
    ("big order from Königlich Essen today: 30 tofu", "KOENE"),
    ("Du monde entier — 9 filo mix", "DUMON"),
    ("5 escargots for Mere Paillarde", "MEREP"),
    ("send 4 ikura to Toms Spezialitaten", "TOMSP"),
    ("HILAA\n1. Konbu x 5", "HILAA"),
    ("5 tofu | customer: wellington importadora", "WELLI"),
    ("Sven Ottlieb called for 12 konbu", "DRACD"),
    ("the cracker box wants 3 ikura", "THECR"),
    ("Yoshi Latimer (Hungry Coyote) wants 8 tofu", "HUNGC"),
    ("Reggiani Caseifici — 10 mozzarella", "REGGC"),
    ("8 pavlova for Save-a-lot", "SAVEA"),
    ("Split Rail Beer & Ale needs 6 Sasquatch Ale", "SPLIR"),
    ("3 Queso Cabrales for The Big Cheese", "THEBI"),
    ("Spécialités du monde: 3 ikura", "SPECD"),
    ("Paris spécialités: 3 ikura", "PARIS"),
    ("Océano Atlántico Ltda. — 3 tofu", "OCEAN"),
    ("Franchi S.p.A. would like 4 Rogede sild", "FRANS"),
    ("12 tofu, 3 konbu\nbonap", "BONAP"),
]

# Messages that name no customer, or two, or only a weak hint: find_in must not guess.
NO_CUSTOMER = [
    "10 Laughing Lumberjack Lager and 5 tofu",
    "12 Chef Anton's Cajun Seasoning, 3 Chef Anton's Gumbo Mix",
    "12 chef anton cajun seasoning",
    "hungry for 5 tofu",
    "Maria wants 10 konbu",
    "12 tofu for Acme Corp",
    "ship 5 tofu to Paris",
    "Alfreds and Ernst Handel both want 5 tofu",
    "5 of the Norwegian brown cheese",
    "where is order 10248?",
    "a quick order: 12 tofu for the old place",
]


@pytest.fixture
def customers(session: Session) -> list[Customer]:
    return list(session.scalars(select(Customer).order_by(Customer.customer_id)))


@pytest.fixture
def index(session: Session) -> CustomerIndex:
    return CustomerIndex.load(session=session)


def misses(index: CustomerIndex, cases: list[tuple[str, str]]) -> list[tuple[str, str, object]]:
    """(reference, expected, got) for every reference lookup does not resolve as expected."""
    wrong = []
    for text, expected in cases:
        best = index.lookup(text).best
        if best is None or best.customer_id != expected:
            wrong.append((text, expected, best and best.customer_id))
    return wrong


def test_index_holds_every_customer(index: CustomerIndex, customers: list[Customer]) -> None:
    assert len(customers) == 91
    assert len(index) == len(customers)


def test_every_customer_by_exact_name(index: CustomerIndex, customers: list[Customer]) -> None:
    cases = [(c.company_name, c.customer_id) for c in customers]
    assert misses(index, cases) == []
    assert all(index.lookup(name).best.score == 1.0 for name, _ in cases)  # type: ignore[union-attr]


def test_every_customer_by_code(index: CustomerIndex, customers: list[Customer]) -> None:
    cases = [(c.customer_id, c.customer_id) for c in customers]
    cases += [(f" {c.customer_id.lower()} ", c.customer_id) for c in customers]
    assert misses(index, cases) == []


def test_every_customer_by_lowercase_name_without_accents(
    index: CustomerIndex, customers: list[Customer]
) -> None:
    cases = [(fold_letters(c.company_name), c.customer_id) for c in customers]
    changed = [text for text, _ in cases if text not in {c.company_name.lower() for c in customers}]
    assert len(changed) >= 15  # the set really exercises accent folding
    assert misses(index, cases) == []


def test_every_customer_by_unique_contact_name(
    index: CustomerIndex, customers: list[Customer]
) -> None:
    counts = Counter(fold(c.contact_name) for c in customers if c.contact_name)
    cases = [
        (c.contact_name, c.customer_id)
        for c in customers
        if c.contact_name and counts[fold(c.contact_name)] == 1
    ]
    assert len(cases) >= 90
    assert misses(index, cases) == []


def test_every_customer_named_in_a_message(index: CustomerIndex, customers: list[Customer]) -> None:
    wrong = []
    for c in customers:
        for message in (f"{c.company_name} wants 12 tofu", f"12 tofu for {c.contact_name}"):
            found = index.find_in(message)
            if found is None or found.customer_id != c.customer_id:
                wrong.append((message, found))
    assert wrong == []


def test_short_and_misspelt_references(index: CustomerIndex) -> None:
    assert len(REFERENCES) >= 40
    assert misses(index, REFERENCES) == []


def test_unknown_customer_has_no_best_match(index: CustomerIndex) -> None:
    for text in ("Acme Corp", "Globex Corporation", "Initech", "Wayne Enterprises", "", "  "):
        found = index.lookup(text)
        assert found.best is None, text
        assert not found.ambiguous, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hungry", {"HUNGC", "HUNGO"}),
        ("Maria", {"ALFKI", "FOLKO"}),
        ("maison", {"LAMAI", "MAISD"}),
        ("Paula", {"RATTC", "WELLI"}),
        ("specialites", {"PARIS", "SPECD"}),
    ],
)
def test_ambiguous_reference_is_flagged_not_guessed(
    index: CustomerIndex, text: str, expected: set[str]
) -> None:
    found = index.lookup(text)
    assert found.ambiguous
    assert found.best is None
    assert expected <= {c.customer_id for c in found.candidates}


def test_first_name_alone_is_only_a_hint(index: CustomerIndex) -> None:
    found = index.lookup("Zbyszek")  # unique, but a first name alone is too weak to act on
    assert found.best is None
    assert [c.customer_id for c in found.candidates] == ["WOLZA"]


def test_candidates_are_ranked_and_limited(index: CustomerIndex) -> None:
    found = index.lookup("comidas", k=2)
    assert len(found.candidates) == 2
    assert found.candidates[0].score >= found.candidates[1].score
    assert all(0.0 <= c.score <= 1.0 for c in found.candidates)


def test_match_carries_the_customer_details(index: CustomerIndex) -> None:
    best = index.lookup("alfreds").best
    assert best is not None
    assert (best.company_name, best.contact_name, best.city, best.country) == (
        "Alfreds Futterkiste",
        "Maria Anders",
        "Berlin",
        "Germany",
    )


def test_find_in_whole_messages(index: CustomerIndex) -> None:
    assert len(MESSAGES) >= 30
    wrong = [(m, e, index.find_in(m)) for m, e in MESSAGES]
    assert [w for w in wrong if w[2] is None or w[2].customer_id != w[1]] == []


@pytest.mark.parametrize("message", NO_CUSTOMER)
def test_find_in_does_not_guess(index: CustomerIndex, message: str) -> None:
    assert index.find_in(message) is None


def test_product_names_never_name_a_customer(index: CustomerIndex, session: Session) -> None:
    names = list(session.scalars(select(Product.name)))
    assert len(names) == 77
    found = {
        message: index.find_in(message)
        for name in names
        for message in (name, f"12 {name}", f"{name.lower()} x 5, 3 tofu")
    }
    assert {m: f for m, f in found.items() if f is not None} == {}


def test_find_in_on_the_evaluation_set(
    index: CustomerIndex, record_property: pytest.RecordProperty
) -> None:
    cases = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines()]
    named = [c for c in cases if "customer_id" in c["expect"]]
    results = [(c, index.find_in(c["turns"][0])) for c in named]
    wrong = [
        (c["id"], c["expect"]["customer_id"], f and f.customer_id, c["turns"][0])
        for c, f in results
        if f is None or f.customer_id != c["expect"]["customer_id"]
    ]
    accuracy = 1 - len(wrong) / len(named)
    record_property("find_in_accuracy", accuracy)
    print(f"find_in on {DATASET.name}: {accuracy:.1%} of {len(named)} cases; misses: {wrong}")
    assert len(named) >= 200
    assert accuracy >= FIND_IN_FLOOR, wrong
    searches = [c["turns"][0] for c in cases if c["category"] == "search"]
    assert [m for m in searches if index.find_in(m) is not None] == []


def test_lookup_is_fast(index: CustomerIndex, customers: list[Customer]) -> None:
    references = [text for text, _ in REFERENCES] + [c.company_name for c in customers]
    start = time.perf_counter()
    for text in references:
        index.lookup(text)
    per_lookup = (time.perf_counter() - start) / len(references)
    assert per_lookup < 0.001, f"{per_lookup * 1000:.2f} ms per lookup"


def test_index_from_tuples_and_refresh(session: Session, index: CustomerIndex) -> None:
    small = CustomerIndex([("ALFKI", "Alfreds Futterkiste", "Maria Anders", "Berlin", "Germany")])
    assert small.lookup("alfreds").best.customer_id == "ALFKI"  # type: ignore[union-attr]
    assert index.lookup("Zeppelin Provisions").best is None
    session.add(Customer(customer_id="ZEPPR", company_name="Zeppelin Provisions GmbH"))
    session.flush()
    index.refresh(session=session)
    assert index.lookup("Zeppelin Provisions").best.customer_id == "ZEPPR"  # type: ignore[union-attr]
    assert len(index) == 92


def test_find_customer_convenience(session: Session) -> None:
    found = find_customer(session=session, name_or_code="que delicia")
    assert found.best is not None and found.best.customer_id == "QUEDE"
    assert not found.ambiguous
