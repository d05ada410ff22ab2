"""The reader's vocabulary: valid files, the same kinds in every language, the words asked for.

Each language file must parse, hold lists of non-empty strings (or, for value kinds, a
phrase → value map), and define every kind the reader looks up. The words the reading
rewrite named for each kind must be there, so a file that loses them fails here and not
in a conversation.
"""

from __future__ import annotations

import json

import pytest
from text_to_num import text2num

from agents.reading.lexicon import LANGUAGES, LEXICON_DIR, kinds, table, words
from agents.reading.text import fold

# Kinds every language must define: the reader looks each of them up without a language.
SHARED = {
    "approve", "approve_filler", "negation", "discard", "correction", "connector",
    "order_cue", "courtesy", "signature", "filler", "remove", "set", "add", "repeat", "usual",
    "status", "cancel_order", "memory_question", "unit", "of", "qty", "article_one",
    "dozen", "dozens", "number_phrase", "not_quantity", "fraction", "and_half", "minus",
    "approx", "vague", "currency", "percent", "time", "measure", "month", "ordinal_suffix",
    "reference", "phone",
}  # fmt: skip
VALUE_KINDS = {"number_phrase", "number_spelling", "ordinal"}


def load(lang: str) -> dict[str, object]:
    return json.loads((LEXICON_DIR / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_file_is_valid(lang: str) -> None:
    data = load(lang)
    assert isinstance(data.get("_about"), str) and data["_about"]
    for kind, entries in data.items():
        if kind.startswith("_"):
            continue
        if kind in VALUE_KINDS:
            assert isinstance(entries, dict) and entries, kind
            assert all(isinstance(k, str) and k.strip() for k in entries), kind
        else:
            assert isinstance(entries, list) and entries, kind
            assert all(isinstance(w, str) and w.strip() for w in entries), (kind, entries)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_the_shared_kinds(lang: str) -> None:
    missing = SHARED - set(load(lang))
    assert not missing, f"{lang}.json lacks {sorted(missing)}"


def test_kinds_and_words_fold() -> None:
    assert SHARED <= kinds()
    assert "stuck" in words("unit", "de") and "stück" not in words("unit", "de")
    assert words("unit") >= words("unit", "de") | words("unit", "es")


def test_number_phrases_are_positive_and_spellings_are_numbers() -> None:
    phrases = table("number_phrase")
    assert phrases["a couple"] == 2 and phrases["half a dozen"] == 6
    assert all(isinstance(v, int) and v > 0 for v in phrases.values())
    for lang in LANGUAGES:
        for plain, proper in table("number_spelling", lang).items():
            assert plain == fold(plain) != proper, (lang, plain)  # the unaccented typing
            assert text2num(str(proper), lang) > 0, (lang, proper)


# Portuguese "dos" ("of the") is Spanish for two: "seis caixas dos" links, "dos cajas" counts.
KNOWN_COLLISIONS = {"dos"}


def test_units_and_linking_words_are_not_number_words() -> None:
    for word in (words("unit") | words("of") | words("qty")) - KNOWN_COLLISIONS:
        for lang in LANGUAGES:
            with pytest.raises(ValueError):
                text2num(word, lang)


# (lang, kind, words): what the reading rewrite asked each language to know.
REQUIRED = [
    ("en", "connector", "and|plus|also|as well as|&"),
    ("de", "connector", "und|sowie"),
    ("es", "connector", "y|e"),
    ("fr", "connector", "et|ainsi que"),
    ("pt", "connector", "e|além de"),
    ("it", "connector", "e|ed|anche"),
    ("en", "unit", "units|pcs|pieces|cases|boxes|bottles|packs|cartons|crates|jars|bags|kg"),
    ("de", "unit", "Stück|Stk|Flaschen|Kisten|Kartons|Packungen|Dosen"),
    ("es", "unit", "unidades|uds|cajas|botellas|paquetes|latas|frascos"),
    ("fr", "unit", "cartons|caisses|bouteilles|boîtes|paquets|pièces|unités"),
    ("pt", "unit", "caixas|unidades|garrafas|pacotes|latas"),
    ("it", "unit", "pezzi|pz|confezioni|bottiglie|scatole|casse|cartoni"),
    ("en", "of", "of"),
    ("fr", "of", "de|d'|du|des"),
    ("it", "of", "di|del|della"),
    ("de", "of", "von"),
    ("pt", "of", "de|do|da|dos|das"),
    ("es", "of", "de|del"),
    (
        "en",
        "courtesy",
        "hi|hello|dear|good morning|hope you are well|thanks a lot|many thanks|"
        "best regards|kind regards|cheers",
    ),
    (
        "de",
        "courtesy",
        "hallo|guten Tag|sehr geehrte|vielen Dank|mit freundlichen Grüßen|liebe Grüße",
    ),
    (
        "es",
        "courtesy",
        "hola|buenos días|estimado|gracias|muchas gracias|saludos|un saludo|atentamente",
    ),
    ("fr", "courtesy", "bonjour|madame|monsieur|merci|merci beaucoup|cordialement|bien à vous"),
    ("pt", "courtesy", "olá|bom dia|prezados|obrigado|obrigada|atenciosamente|cumprimentos"),
    (
        "it",
        "courtesy",
        "buongiorno|ciao|gentile|grazie|grazie mille|cordiali saluti|distinti saluti",
    ),
    ("en", "order_cue", "wants|needs|would like|please send|we need|order"),
    ("de", "order_cue", "möchte|bestellen|brauchen|bitte senden"),
    ("es", "order_cue", "quiere|necesita|pedido|quisiéramos"),
    ("fr", "order_cue", "voudrait|commande|souhaite|nous voudrions"),
    ("pt", "order_cue", "quer|precisa|encomenda|pedido"),
    ("it", "order_cue", "vorrebbe|ordine|ordinare|ci servono"),
    ("de", "approve", "ja|jawohl|genau|passt|bestätigen|bestätigt"),
    ("es", "approve", "sí|si|vale|de acuerdo|confirmar|confirmado"),
    ("fr", "approve", "oui|d'accord|confirmer|confirmé|parfait"),
    ("pt", "approve", "sim|confirmar|confirmado|certo|pode"),
    ("it", "approve", "sì|si|va bene|confermare|confermo|perfetto"),
    ("en", "discard", "no|cancel it|scrap that|never mind|hold on"),
    ("de", "discard", "nein|abbrechen|stornieren"),
    ("es", "discard", "no|cancelar|olvídalo"),
    ("fr", "discard", "non|annuler|laisse tomber"),
    ("pt", "discard", "não|cancelar|esquece"),
    ("it", "discard", "no|annulla|lascia perdere"),
    ("en", "remove", "drop|remove|delete|take off|without|no more"),
    ("de", "remove", "streichen|entfernen|ohne|weg"),
    ("es", "remove", "quitar|quita|elimina|sin|sacar"),
    ("fr", "remove", "enlever|retirer|supprime|sans"),
    ("pt", "remove", "tirar|remover|sem"),
    ("it", "remove", "togliere|togli|rimuovi|senza"),
    ("en", "set", "make|change|set|update"),
    ("de", "set", "ändern|mach|setze"),
    ("es", "set", "cambia|pon|cambiar"),
    ("fr", "set", "mets|change|modifie"),
    ("pt", "set", "muda|altera|põe"),
    ("it", "set", "cambia|metti|modifica"),
    ("en", "add", "also|add|plus|another"),
    ("de", "add", "noch|dazu|zusätzlich|auch"),
    ("es", "add", "también|añade|agrega|además"),
    ("fr", "add", "aussi|ajoute|en plus"),
    ("pt", "add", "também|adiciona|acrescenta"),
    ("it", "add", "anche|aggiungi|in più"),
    ("en", "repeat", "same as last time"),
    ("de", "repeat", "wie letztes Mal"),
    ("es", "repeat", "lo mismo que la última vez"),
    ("fr", "repeat", "comme la dernière fois"),
    ("pt", "repeat", "o mesmo da última vez"),
    ("it", "repeat", "come l'ultima volta"),
    # "the usual" is their most frequent products, not their last order.
    ("en", "usual", "the usual|as always"),
    ("de", "usual", "das Übliche"),
    ("es", "usual", "lo de siempre"),
    ("fr", "usual", "comme d'habitude"),
    ("pt", "usual", "o de sempre"),
    ("it", "usual", "il solito"),
    ("en", "dozen", "dozen"),
    ("de", "dozen", "Dutzend"),
    ("es", "dozen", "docena"),
    ("fr", "dozen", "douzaine"),
    ("pt", "dozen", "dúzia"),
    ("it", "dozen", "dozzina"),
    ("en", "memory_question", "what do you know about|what did they order last time"),
    ("de", "memory_question", "was wissen wir über"),
    ("es", "memory_question", "qué sabemos de"),
    ("fr", "memory_question", "que sait-on de"),
    ("pt", "memory_question", "o que sabemos sobre"),
    ("it", "memory_question", "cosa sappiamo di"),
    ("en", "signature", "best regards|kind regards|sent from my iPhone|--"),
    ("de", "signature", "mit freundlichen Grüßen"),
    ("es", "signature", "saludos"),
    ("fr", "signature", "cordialement"),
    ("pt", "signature", "atenciosamente"),
    ("it", "signature", "cordiali saluti"),
]


@pytest.mark.parametrize(("lang", "kind", "required"), REQUIRED)
def test_required_words_are_present(lang: str, kind: str, required: str) -> None:
    missing = [w for w in required.split("|") if fold(w) not in words(kind, lang)]
    assert not missing, f"{lang}.json {kind} lacks {missing}"
