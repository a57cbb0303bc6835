"""A need told as a situation ("my feet are dying after 12-hour shifts") is searched in the department it
points to when the two readings of its meaning agree; otherwise, and for a bare request for a present, the
shopper gets one question."""

from __future__ import annotations

import pytest

from market.assistant.agent.clarify import leading_department
from market.assistant.agent.history import History
from market.assistant.agent.intent import Layer, read
from market.assistant.reading.vocabulary import Vocabulary

STORY = (
    "Hello dear. Every christmas my grandchildren and I do a big jigsaw puzzle together on the dining table. "
    "Could you show me some?"
)
FEET = "12 hr shifts on my feet at the hospital and my feet are DYING by the end. womens 8. help"


class Actions:
    def predict(self, text: str, *, has_shown: bool) -> tuple[str, float]:
        return "search", 1.0


def layer(lean: str | None, suggested: list[str]) -> Layer:
    return Layer(
        vocabulary=Vocabulary.demo(),
        classifier=Actions(),
        suggest=lambda text, among=None: suggested,
        lean=lambda text: lean,
    )


@pytest.mark.parametrize(
    ("counts", "leads"),
    [({"Shoes > Boots": 9, "Shoes > Casual > Sneakers": 7, "Shoes > Hiking": 4}, "Shoes"),
     ({"Outdoor > Camping > Sleeping Bags": 15, "Home & Kitchen > Small Appliances": 5}, "Outdoor > Camping > Sleeping Bags"),
     ({"Outdoor > Backpacks": 12, "Apparel > Outerwear": 4, "Shoes > Boots": 4}, None),
     ({}, None)],
)  # fmt: skip
def test_a_department_leads_only_when_most_of_the_nearest_products_lie_in_it(counts, leads) -> None:
    assert leading_department(counts) == leads


def test_a_situation_pointing_to_one_department_is_searched_with_what_was_said() -> None:
    intent = read(
        layer("Shoes", ["Shoes > Running", "Office > Office Furniture > Chairs"]),
        FEET,
        History(),
        currency="USD",
    )
    assert intent.slots.category == "Shoes" and intent.slots.size == "8" and not intent.suggestions
    assert intent.attributes.wanted.get("gender") == ("women",)


def test_when_the_nearest_products_and_category_names_disagree_the_shopper_is_asked() -> None:
    story = "ok so I'm 52 and my doctor says I need to move more. I'd like to do something at home, where do I start?"
    intent = read(layer("Baby > Gear > Strollers", ["Sports & Fitness > Yoga", "Shoes > Running", "Garden"]),
                  story, History(), currency="USD")  # fmt: skip
    assert intent.slots.category is None and len(intent.suggestions) == 3


def test_a_present_for_someone_is_asked_about_however_long_the_message() -> None:
    text = "I need to find a present for my sister for next weekend, she's turning thirty and I have no idea"
    intent = read(
        layer("Toys & Games > Plush", ["Toys & Games > Plush", "Beauty", "Apparel"]),
        text,
        History(),
        currency="USD",
    )
    assert intent.slots.category is None and len(intent.suggestions) == 3


def test_a_story_without_a_trouble_is_asked_about_even_where_the_readings_agree() -> None:
    story = "we just got the keys to our first house!! what do we even need, where do we start"
    agreeing = layer(
        "Toys & Games > Building Sets", ["Toys & Games > Building Sets", "Home & Kitchen", "Garden"]
    )
    intent = read(agreeing, story, History(), currency="USD")
    assert intent.slots.category is None and len(intent.suggestions) == 3


@pytest.mark.parametrize(
    ("text", "words"),
    [(STORY, "jigsaw puzzle"),
     ("after a jumper, merino if poss. gets baltic up here", "sweater")],
)  # fmt: skip
def test_a_story_around_a_named_product_searches_the_products_words(text: str, words: str) -> None:
    intent = read(layer(None, []), text, History(), currency="USD")
    assert intent.words == words and intent.slots.category is not None


@pytest.mark.parametrize(
    "text",
    ["my flat is absolutely freezing this winter, what should I get??",
     "working from home full time now and my setup is rubbish. help?",
     "I've just got into hiking and want to kit myself out properly, but I don't really know what I need?",
     "I haven't been sleeping well for weeks now. Is there anything you'd suggest?"],
)  # fmt: skip
def test_asking_what_to_get_without_naming_a_product_is_answered_with_one_question(text: str) -> None:
    options = ["Home & Kitchen > Bedding", "Apparel > Outerwear", "Office > Desk Accessories"]
    intent = read(layer(None, options), text, History(), currency="USD")
    assert intent.broad and intent.suggestions == tuple(options)


def test_asking_what_to_get_with_a_product_named_searches_it() -> None:
    intent = read(layer(None, ["Outdoor", "Shoes"]), "what should I get, a tent or a tarp?", History(), currency="USD")
    assert not intent.broad and "tent" in intent.words


def test_the_options_are_the_kinds_of_the_nearest_products_then_the_nearest_names() -> None:
    from market.assistant.agent.clarify import suggestions

    nearby = {"Office > Desk Accessories": 9, "Office > Office Furniture > Chairs": 6, "Toys & Games > Plush": 1}
    by_name = ["Toys & Games > Building Sets", "Office > Desk Accessories", "Home & Kitchen > Cutlery"]
    assert suggestions(nearby, by_name) == [
        "Office > Desk Accessories",
        "Office > Office Furniture > Chairs",
        "Toys & Games > Building Sets",
        "Home & Kitchen > Cutlery",
    ]  # one product alone near the need is no option; each option once
    toys = ["Toys & Games > Building Sets"]  # the names' own suggestions are already among those allowed
    assert suggestions(nearby, toys, among=lambda path: path.startswith("Toys")) == toys


def test_asking_what_would_help_with_a_trouble_searches_where_it_points_whatever_room_it_is_told_in() -> None:
    back = (
        "I work from home on my kitchen table and after a few hours my lower back is killing me. What can help?"
    )
    chairs = "Office > Office Furniture > Chairs"
    intent = read(layer(chairs, [chairs, "Office > Desk Accessories", "Home & Kitchen"]), back, History(), currency="USD")
    assert intent.slots.category == chairs and not intent.suggestions
    # the same trouble asking what to get is asked about, and readings that disagree are never searched
    asked = read(layer(chairs, [chairs, "Office", "Home & Kitchen"]), back.replace("What can help?", "what should I get?"),
                 History(), currency="USD")  # fmt: skip
    assert asked.slots.category != chairs and asked.broad
    apart = read(layer("Baby > Gear", ["Office > Desk Accessories", "Garden", "Shoes"]), back, History(), currency="USD")
    assert apart.slots.category != "Baby > Gear" and apart.broad


def _need_with_size(size: str, category: str) -> History:
    from market.assistant.agent.state import DialogueState, Need

    return History(state=DialogueState(need=Need(words="running shoes", category=category, size=size)))


@pytest.mark.parametrize(
    ("text", "size"),
    [("no wait sorry, nine and a half. my feet swell when I run", "9.5"), ("10.5 actually", "10.5")],
)  # fmt: skip
def test_a_bare_number_after_a_size_corrects_the_size(text: str, size: str) -> None:
    intent = read(layer(None, []), text, _need_with_size("9", "Shoes > Running"), currency="USD")
    assert intent.slots.size == size


def test_a_bare_number_with_a_price_word_is_a_budget_not_a_size() -> None:
    intent = read(layer(None, []), "any of those under a hundred?", _need_with_size("9", "Shoes > Running"),
                  currency="USD")  # fmt: skip
    assert intent.slots.size is None and intent.slots.budget_max == 10000


@pytest.mark.parametrize(
    ("text", "size"),
    [("romper for my nephew, he's 7 months", "6-12 months"), ("a romper for a 2 month old", "0-3 months"),
     ("a dog bed, my lab is 80 pounds", "large"), ("a dog bed for my terrier, she's 12 lbs", "small"),
     ("I need a big dog bed for her", "large")],
)  # fmt: skip
def test_a_size_told_by_age_weight_or_bigness(text: str, size: str) -> None:
    intent = read(layer(None, []), text, History(), currency="USD")
    assert intent.slots.size == size


def test_a_size_said_bare_is_a_filter_and_no_search_word() -> None:
    from market.assistant.agent.state import DialogueState, Need

    bed = History(state=DialogueState(need=Need(words="dog bed", category="Pet Supplies > Dogs > Beds")))
    intent = read(layer(None, []), "He's a big lad so large or extra large, and memory foam I think", bed,
                  currency="USD")  # fmt: skip
    assert intent.slots.size == "extra large" and "extra" not in intent.words.split()
    assert not intent.title_words or "extra" not in intent.title_words


def test_a_time_or_a_measure_is_no_size_correction() -> None:
    for text in ("a puzzle feeder so he stops inhaling his dinner in 10 seconds", "a soft toy, around 8 inches"):
        assert read(layer(None, []), text, _need_with_size("13", "Shoes > Running"), currency="USD").slots.size is None


def test_months_in_a_story_are_no_baby_size() -> None:
    said = "running shoes but NOT stridewell, my last pair fell apart in 2 months"
    assert read(layer(None, []), said, History(), currency="USD").slots.size is None


@pytest.mark.parametrize(
    ("category", "text", "size"),
    [("Apparel > Tops", "Hmm, on reflection a large would fit better over layers", "large"),
     ("Pet Supplies > Dogs > Toys", "large ones, he's a 35kg lab. and no plush", "large"),
     ("Pet Supplies > Dogs > Beds", "lets start with a bed. she's a lab puppy so she's going to be big", "large")],
)  # fmt: skip
def test_a_size_said_of_the_kind_looked_at(category: str, text: str, size: str) -> None:
    from market.assistant.agent.state import DialogueState, Need

    looking = History(state=DialogueState(need=Need(words="things", category=category)))
    assert read(layer(None, []), text, looking, currency="USD").slots.size == size


def test_a_double_bed_is_a_full_one() -> None:
    intent = read(layer(None, []), "ok bedroom first i guess. a quilt for a double bed", History(), currency="USD")
    assert intent.attributes.wanted.get("bed_size") == ("full",)


def test_a_size_taken_back_in_the_same_message_is_the_size() -> None:
    intent = read(layer(None, []), "mens sneakers size 9. no wait, ten, I went up a size", History(), currency="USD")
    assert intent.slots.size == "10"


@pytest.mark.parametrize(
    ("text", "words", "category"),
    [("usb-c chargers? got a laptop and a phone to keep alive", "usb-c chargers", "Electronics > Accessories > Chargers"),
     ("string lights for the back garden, but it's under big trees so solar is useless", "string lights", "Garden")],
)  # fmt: skip
def test_what_the_shopper_owns_or_tells_of_is_not_what_they_ask_for(text: str, words: str, category: str) -> None:
    intent = read(layer(None, []), text, History(), currency="USD")
    assert intent.words == words and (intent.slots.category or "").startswith(category)


def test_a_thing_asked_for_by_a_word_no_title_has_is_looked_for_not_asked_about() -> None:
    golf = read(layer(None, ["Garden", "Toys & Games", "Office"]), "need a set of golf clubs for my dad, he retires next month",
                History(), currency="USD")  # fmt: skip
    assert golf.words == "golf clubs" and "golf" in golf.topic and not golf.suggestions
    cooking = read(layer(None, []), "he's gotten really into cooking since he retired", History(), currency="USD")
    assert "gotten" not in cooking.topic
    helped = read(layer(None, ["Garden", "Toys & Games", "Office"]), "I need help choosing a gift", History(), currency="USD")
    assert not helped.topic


@pytest.mark.parametrize(
    ("text", "words"),
    [("baby arrives in 3 weeks and we will need caffeine lol. got an espresso machine?", "espresso machine"),
     ("I need the 1500 watt variety only, lower ones are taking too much time to boil", "")],
)  # fmt: skip
def test_a_story_or_a_spec_before_the_request_names_no_product(text: str, words: str) -> None:
    intent = read(layer(None, ["Garden", "Toys & Games", "Office"]), text, History(), currency="USD")
    assert intent.words == words


def test_a_colour_turned_down_with_a_reason_after_it_stays_turned_down() -> None:
    text = "womens sneakers, anything but harbor lane or loamstep. and no white pls they get filthy in like a day"
    intent = read(layer(None, []), text, History(), currency="USD")
    assert intent.slots.exclude_colors == ("white",)


def test_a_word_of_the_story_that_titles_of_the_kind_carry_is_searched() -> None:
    intent = read(layer(None, []), "shame. he plays tennis too tbh, what rackets have you got", History(), currency="USD")
    assert intent.words == "tennis rackets"
    walked = read(layer(None, []), "hiking backpacks pls, doing the west highland way in may", History(), currency="USD")
    assert walked.words == "hiking backpacks"


@pytest.mark.parametrize(
    ("text", "count", "words"),
    [("g'day! after a two person tent for a few nights down the coast, show us three or so", 3, None),
     ("show me 3 orthopedic dog beds big enough for him", 3, None),
     ("Three or four to look at would be lovely.", 4, None),
     ("show me 2 person tents", None, "2 person tents")],
)  # fmt: skip
def test_how_many_to_show_is_no_price_and_no_search_word(text: str, count: int | None, words: str | None) -> None:
    intent = read(layer(None, ["Garden", "Toys & Games", "Office"]), text, History(), currency="USD")
    assert intent.shown_count == count and not intent.slots.has_budget
    assert not any(word in intent.words.split() for word in ("3", "three", "four", "so"))
    if words is not None:
        assert intent.words == words


def test_a_brands_first_word_turns_it_down_and_a_kind_within_a_department_does_not_turn_down_the_department() -> None:
    veloce = read(layer(None, []), "men's running shoes, anything except Veloce - they gave me blisters", History(),
                  currency="USD")  # fmt: skip
    assert veloce.slots.exclude_brands == ("Veloce Footwear",)
    games = read(layer(None, []), "board game for family night? no card games pls", History(), currency="USD")
    assert games.slots.category == "Toys & Games > Board Games" and not games.slots.exclude_categories


def test_two_sizes_said_at_once_are_both_searched() -> None:
    shoes = read(layer(None, []), "need new running shoes, womens. im a 9 or a 9.5 depending on the brand", History(),
                 currency="USD")  # fmt: skip
    assert shoes.slots.size == "9 or 9.5" and shoes.attributes.wanted["gender"] == ("women",)
    boots = read(layer(None, []), "boots for my wife. she's a 9, or a 9 and a half with thick socks", History(),
                 currency="USD")  # fmt: skip
    assert boots.slots.size == "9 or 9.5"
    assert read(layer(None, []), "10 or 12 inch pans", History(), currency="USD").slots.size is None


def test_a_reason_after_a_request_or_a_question_adds_nothing_to_it() -> None:
    tight = read(layer(None, []), "anything under 130$? just got my car fixed so money's tight",
                 _need_with_size("9", "Shoes > Running"), currency="USD")  # fmt: skip
    assert tight.slots.budget_max == 13000 and "car" not in tight.topic
    squashed = read(layer(None, []), "ugh wait, my physio just texted - 9.5 ONLY, the 9s squash my toes",
                    _need_with_size("9 or 9.5", "Shoes > Running"), currency="USD")  # fmt: skip
    assert squashed.slots.size == "9.5" and not squashed.topic
    heavy = read(layer(None, []), "how heavy is it? the walk from the car park to the pitch is long",
                 _need_with_size("M", "Outdoor > Camping > Tents"), currency="USD")  # fmt: skip
    assert not heavy.topic and heavy.question is not None and heavy.question.properties == ("weight",)
    pans = read(layer(None, []), "10 or 12 inch, the 8 inch ones are too small for her cornbread recipe",
                History(state=_need_with_size("", "Home & Kitchen > Cookware > Pans").state), currency="USD")  # fmt: skip
    assert pans.policy.kind is None and set(pans.attributes.wanted["diameter"]) == {"10 in", "12 in"}
    rain = read(layer(None, []), "oh and no suede either, it rains here like 200 days a year",
                _need_with_size("9", "Shoes > Casual > Sneakers"), currency="USD")  # fmt: skip
    assert not rain.topic and "suede" in rain.attributes.excluded["material"]


def test_what_the_shopper_owns_names_neither_the_kind_nor_the_department() -> None:
    red = read(layer(None, []), "red kitchen appliances? trying to match my red kettle", History(), currency="USD")
    assert red.slots.category == "Home & Kitchen > Small Appliances" and "kettle" not in red.words
    microwave = read(layer(None, []), "does anyone on here sell microwaves? mine just died making popcorn",
                     History(), currency="USD")  # fmt: skip
    assert microwave.topic == ("microwaves",)
    drone = read(layer(None, []), "need a drone w/ a decent camera to film my kid's football games", History(),
                 currency="USD")  # fmt: skip
    assert drone.policy.kind is None


def test_what_did_not_fit_gives_no_size_even_said_first() -> None:
    pans = read(layer(None, []), "ooh but a 12 inch would break my wrists lol. 10 inch or smaller",
                _need_with_size("", "Home & Kitchen > Cookware > Pans"), currency="USD")  # fmt: skip
    assert set(pans.attributes.wanted["diameter"]) == {"10 in", "8 in"}


def test_a_reason_about_a_kind_or_a_value_names_neither() -> None:
    over_ear = read(layer(None, []), "also over-ear only, earbuds just fall out of my ears",
                    _need_with_size("", "Electronics > Audio > Headphones"), currency="USD")  # fmt: skip
    assert "earbuds" not in over_ear.topic
    chair = read(layer(None, []), "office chair with a mesh back, i sweat like crazy on leather", History(),
                 currency="USD")  # fmt: skip
    assert "leather" not in chair.words and "leather" not in chair.attributes.wanted["material"]
    hands = read(layer(None, []), "add the first one. wait no, two of them, one for each hand",
                 _need_with_size("", "Sports & Fitness > Strength Training"), currency="USD")  # fmt: skip
    assert "hand" not in hands.words and hands.slots.quantity == 2


def test_a_size_said_of_the_kind_and_what_a_count_counts_search_nothing() -> None:
    rompers = read(layer(None, []), "actually forget camping, my sister just had her baby!! newborn rompers?",
                   History(), currency="USD")  # fmt: skip
    assert rompers.slots.size == "newborn" and rompers.words == "rompers"
    pieces = read(layer(None, []), "she's honestly a beast at them so five hundred pieces or more",
                  _need_with_size("", "Toys & Games > Puzzles"), currency="USD")  # fmt: skip
    assert "pieces" not in pieces.topic and "500" in pieces.attributes.wanted["pieces"]
