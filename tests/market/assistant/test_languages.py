"""A shopper writing in Spanish, French, German, Italian, Portuguese or Dutch is read through the language's
glossary and served like any other (the reply says how the message was read); a message the glossary does
not know enough of, and a language with no glossary, get an honest "I did not understand" instead of
products."""

from __future__ import annotations

import pytest

from market.assistant.reading.language import english_words, in_english
from market.assistant.reading.translation import languages, to_english
from tests.market.assistant.scripted import FixedClassifier, converse, local, say, use


@pytest.mark.parametrize(
    ("message", "code", "reads"),
    [
        ("hola! busco una mochila de unos 40 litros, que no pase de 100 dólares", "es",
         ["looking for", "backpack", "40 liters", "under 100 dollars"]),
        ("Bonjour, je cherche une tente pour quatre personnes, pas trop chère s'il vous plaît", "fr",
         ["looking for", "tent", "four people", "not too expensive"]),
        ("Guten Tag, haben Sie Yogablöcke aus Kork?", "de", ["do you have", "yoga block", "cork"]),
        ("Hallo! Ich suche eine wasserdichte Regenjacke für Damen, am liebsten in Größe M.", "de",
         ["waterproof", "rain jacket", "women", "size M"]),
        ("Quanto costa la prima in euro?", "it", ["how much", "first", "euros"]),
        ("oi, vocês têm garrafa térmica de 1 litro?", "pt", ["do you have", "bottle", "1 liter"]),
        ("hoi, ik zoek een yogablok van kurk", "nl", ["looking for", "yoga block", "cork"]),
        ("cual de los dos primeros es mas barato?", "es", ["which of the first two", "cheaper"]),
    ],
)  # fmt: skip
def test_a_message_in_a_glossary_language_reads_as_its_english(message: str, code: str, reads: list[str]) -> None:
    translated = in_english(message, ())
    assert translated is not None and translated.code == code
    for words in reads:
        assert words in translated.english
    assert translated.english in translated.note  # the shopper is told how the message was read


def test_languages_with_a_glossary() -> None:
    assert languages() == {"es", "fr", "de", "it", "pt", "nl"}


@pytest.mark.parametrize(
    "message",
    [
        "need running shoes for 12hr shifts, my feet are dying lol. womens",
        "bonjour! i search hiking shoes for woman, for the Alps in july. merci beaucoup",  # English with a French word
        "kettlebell 20 lb",
    ],
)
def test_english_is_not_translated(message: str) -> None:
    assert in_english(message, ()) is None


def test_a_message_whose_words_the_glossary_mostly_lacks_is_not_guessed_at() -> None:
    assert to_english("Hola, ¿tenéis algún chisme para desatascar el fregadero?", "es", english_words()) is None


def test_a_short_answer_is_read_in_the_conversations_language_and_english_stays_english() -> None:
    assert (in_english("la segunda", (), previous="es") or pytest.fail()).english == "the second one"
    assert in_english("sorry, in English: a rain jacket", (), previous="es") is None


async def test_a_spanish_conversation_is_served_and_told_how_it_was_read(shop) -> None:
    use(shop, local(), FixedClassifier(["search", "add_to_cart"]))
    conversation = await converse(shop)

    shown = await say(shop, conversation, "Hola, busco zapatillas para correr, por favor")

    running = {shop.ids["velocity"], shop.ids["tr-1200x"], shop.ids["pace"]}
    assert len(shown["products"]) >= 2 and {card["product_id"] for card in shown["products"]} <= running
    assert shown["reply"].startswith("Entendí tu mensaje como \"") and "running shoes" in shown["reply"].split("\n")[0]
    second = shown["products"][1]["product_id"]
    added = await say(shop, conversation, "añade la segunda al carrito")
    (group,) = added["cart"]["sellers"]
    assert [line["product_id"] for line in group["lines"]] == [second]


async def test_not_understood_and_unread_languages_get_an_honest_answer_and_no_products(shop) -> None:
    use(shop, local(), FixedClassifier(["search", "search"]))
    conversation = await converse(shop)

    unclear = await say(shop, conversation, "Hola, ¿tenéis algún chisme para desatascar el fregadero?")
    assert unclear["products"] == [] and "no he entendido" in unclear["reply"] and "English" in unclear["reply"]

    japanese = await say(shop, conversation, "こんにちは。キャンプ用の充電式ランタンを探しています。")
    assert japanese["products"] == [] and "only understand English" in japanese["reply"]


def test_a_few_words_of_another_language_in_english_are_read_in_english() -> None:
    from market.assistant.reading.language import with_stray_words_in_english

    mixed = "I need um presente for my sobrinho, he is 8 anos and loves building sets"
    assert with_stray_words_in_english(mixed, ()) == (
        "I need um gift for my nephew, he is 8 years old and loves building sets"
    )
    # one such word is likelier an English word the lists lack; a foreign message is left to the glossary
    assert with_stray_words_in_english("got any cool kitchen gadgets", ()) == "got any cool kitchen gadgets"
    spanish = "Hola, ¿tenéis algún chisme para desatascar el fregadero?"
    assert with_stray_words_in_english(spanish, ()) == spanish
    # words the glossaries list as loanwords are English in an English message
    uni = "looking for a backpack for uni, it needs to fit my laptop and a lunchbox so like 28 liters or more"
    assert with_stray_words_in_english(uni, ()) == uni
