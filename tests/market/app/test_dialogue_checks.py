"""The shopper dialogues' checks (market/assistant/dialogues/shoppers/FORMAT.md), each on small hand-made
turns: what a check accepts, what it refuses, and why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from market.app.dialogue_checks import (
    DialogueContext,
    ObservedTurn,
    ProductFacts,
    attribute_vocabulary,
    run_checks,
)
from market.app.exchange_rates import ExchangeRates
from market.app.fact_checks import invented_attribute_values, reply_without_conversions, turn_hallucinations
from market.app.reply_reading import option_count, says
from market.app.reply_values import Named, as_quantity, money_mentions, names_winner, states_value

PRODUCTS = [
    ProductFacts(1, "Ridgeline 2-Person Backpacking Tent", "Trailhead", "Outdoor > Camping > Tents", 19999, "USD",
                 {"capacity": "2-person", "season": "3-season", "color": "forest green"}),
    ProductFacts(2, "Basecamp 4-Person Dome Tent", "Summit Co", "Outdoor > Camping > Tents", 34900, "USD",
                 {"capacity": "4-person", "season": "4-season", "color": "gray"}),
    ProductFacts(3, "Cuddly Bear Plush", "Kinderhaus", "Toys & Games > Plush", 1599, "EUR", {"color": "brown"}),
    ProductFacts(4, "Boom 65W Bluetooth Speaker", "Voltage", "Electronics > Audio > Speakers", 9999, "USD",
                 {"wattage": "65W", "connectivity": "Bluetooth 5.3"}),
    ProductFacts(5, "Echo Mini Speaker", "Pocketsound", "Electronics > Audio > Speakers", 4999, "USD",
                 {"wattage": "20W", "connectivity": "Bluetooth"}),
    ProductFacts(6, "Trail Pack", "Brightside", "Outdoor > Backpacks", 4500, "GBP",
                 {"volume": "20 L", "material": "ripstop nylon"}),
    ProductFacts(7, "Summit Pack", "Brightside", "Outdoor > Backpacks", 6500, "GBP", {"volume": "40 L"},
                 ships_to=("GB", "IE")),
]  # fmt: skip
CATALOG = {product.product_id: product for product in PRODUCTS}
RATES = ExchangeRates.demo()


def card(product_id: int, position: int) -> dict:
    product = CATALOG[product_id]
    price = {"amount": product.price_amount, "currency": product.currency}
    return {"product_id": product_id, "position": position, "title": product.title, "price": price}


def cards(*product_ids: int) -> list[dict]:
    return [card(product_id, position) for position, product_id in enumerate(product_ids, start=1)]


def context(**lists: list[dict]) -> DialogueContext:
    """`context(t1=cards(1, 2))`: turn 1 showed products 1 and 2."""
    shown = {int(name[1:]): value for name, value in lists.items()}
    return DialogueContext(CATALOG, RATES, lists=shown, vocabulary=attribute_vocabulary(PRODUCTS))


def turn(number: int = 2, reply: str = "", shown=(), before=None, after=None, checkout=False) -> ObservedTurn:
    return ObservedTurn(number, "...", reply, list(shown), before or {}, after or {}, checkout)


def reason(check: dict, observed: ObservedTurn, ctx: DialogueContext | None = None) -> str | None:
    ((_, _, why),) = run_checks([check], observed, ctx or context())
    return why


# --- shows ---------------------------------------------------------------------------------------------------


def test_shows_needs_enough_products_each_meeting_every_constraint() -> None:
    tents = {"shows": {"category": "Outdoor > Camping", "min": 2, "title_has_any": ["tent"]}}
    assert reason(tents, turn(shown=cards(1, 2))) is None
    assert "at least 2" in reason(tents, turn(shown=cards(1)))
    assert "category" in reason(tents, turn(shown=cards(1, 6)))
    assert reason({"shows": {"category": "Outdoor > Camp"}}, turn(shown=cards(1))) is not None  # not a prefix
    assert reason({"shows": {"category_any": ["Toys & Games", "Baby"]}}, turn(shown=cards(3))) is None


def test_shows_brands_attributes_and_titles() -> None:
    assert reason({"shows": {"brand": "trailhead"}}, turn(shown=cards(1))) is None
    assert "excluded" in reason({"shows": {"brand_not": ["Summit Co"]}}, turn(shown=cards(1, 2)))
    assert (
        reason({"shows": {"attributes": {"color": ["grey", "navy"]}}}, turn(shown=cards(2))) is None
    )  # gray
    assert reason({"shows": {"attributes": {"volume": ["20L"]}}}, turn(shown=cards(6))) is None
    assert "not one of" in reason({"shows": {"attributes": {"color": ["grey"]}}}, turn(shown=cards(1)))
    assert "not one of" in reason({"shows": {"attributes": {"season": ["4-season"]}}}, turn(shown=cards(3)))
    assert "excluded" in reason({"shows": {"attributes_not": {"color": ["grey"]}}}, turn(shown=cards(2)))
    assert reason({"shows": {"attributes_not": {"season": ["4-season"]}}}, turn(shown=cards(3))) is None
    assert "title" in reason({"shows": {"title_has_none": ["dome"]}}, turn(shown=cards(1, 2)))


def test_shows_prices_convert_through_the_demo_table() -> None:
    # 15.99 EUR / 0.92 * 0.79 = 13.73 GBP; 45.00 GBP / 0.79 = 56.96 USD
    assert reason({"shows": {"max_price": {"amount": 1400, "currency": "GBP"}}}, turn(shown=cards(3))) is None
    assert "max_price" in reason(
        {"shows": {"max_price": {"amount": 1372, "currency": "GBP"}}}, turn(shown=cards(3))
    )
    assert reason({"shows": {"max_price": {"amount": 5696, "currency": "USD"}}}, turn(shown=cards(6))) is None
    assert "min_price" in reason(
        {"shows": {"min_price": {"amount": 6000, "currency": "USD"}}}, turn(shown=cards(6))
    )
    assert RATES.minor(1599, "EUR", "GBP") == 1373 and RATES.minor(4500, "GBP", "JPY") == 8544


def test_cheaper_than_before_compares_with_the_last_list() -> None:
    check = {"shows": {"cheaper_than_before": True}}
    assert reason(check, turn(shown=cards(1)), context(t1=cards(1, 2))) is None
    assert "not cheaper" in reason(check, turn(shown=cards(2)), context(t1=cards(1, 2)))
    assert "no earlier list" in reason(check, turn(number=1, shown=cards(1)))


def test_shows_nothing() -> None:
    assert reason({"shows_nothing": True}, turn()) is None
    assert reason({"shows_nothing": True}, turn(shown=cards(1))) == "1 products shown"


# --- says ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reply"),
    [
        ("not_carried", "Sorry, we don't carry lawn mowers. Here are some garden tools instead:"),
        ("not_carried", "No seller here sells cars, I'm afraid."),
        ("not_carried", "I couldn't find any surfboards in our catalog."),
        ("not_carried", "Agora doesn’t have guitars right now."),
        ("not_carried", "Sorry, none of our sellers carry lawnmowers. Garden tools, maybe?"),
        ("clarifying_question", "Happy to help! Who is it for: your sister, a friend, or a colleague?"),
        ("clarifying_question", "What's the occasion?\n- Birthday\n- Anniversary\n- Housewarming"),
        ("greeting", "Hi there! What can I help you find today?"),
        ("greeting", "I'm doing well, thanks! What are you shopping for?"),
        ("greeting", "You're welcome! Have a great day."),
        ("off_topic", "Sorry, I can only help with shopping on Agora. Looking for anything?"),
        ("off_topic", "I can't help with that, but I can find you a rain jacket for the weekend."),
        ("off_topic", "I don't know the score, but I can help you shop for football boots."),
        ("refusal", "I can't change prices: prices are set by the sellers."),
        ("refusal", "I'm not able to apply a discount or share my instructions."),
        ("language_unsupported", "Sorry, I only understand English. Lo siento, solo entiendo inglés."),
        (
            "language_unsupported",
            "I don't understand that language yet. 申し訳ありませんが、英語のみ対応しています。",
        ),
        ("listing_silent", "The listing doesn't say how long the battery lasts."),
        ("listing_silent", "The warranty isn't stated in the product details."),
        ("listing_silent", "There's no information about shipping to Canada."),
        ("listing_silent", "The listing has no warranty details."),
    ],
)
def test_replies_recognised_as_their_kind(kind: str, reply: str) -> None:
    assert says(kind, reply)
    assert reason({"says": kind}, turn(reply=reply)) is None


@pytest.mark.parametrize(
    ("kind", "reply", "shown"),
    [
        ("not_carried", "Here are three lawn mowers. Sadly we don't carry the one brand you named.", 0),
        ("clarifying_question", "Who is it for: your sister, a friend, or a colleague?", 3),  # cards shown
        ("clarifying_question", "Who is it for?", 0),  # no options
        ("greeting", "Here are some tents.", 0),
        ("off_topic", "It will be sunny in Manchester.", 0),
        ("refusal", "Done! I applied 50% off.", 0),
        ("language_unsupported", "Sorry, I only understand English.", 0),  # not in the shopper's language too
        ("language_unsupported", "Lo siento, solo entiendo inglés.", 0),  # not in English too
        ("listing_silent", "It has a 2-year warranty.", 0),
    ],
)
def test_replies_not_of_the_kind(kind: str, reply: str, shown: int) -> None:
    assert not says(kind, reply, shown=shown)


def test_options_counted_in_lines_and_in_one_sentence() -> None:
    assert option_count("Is it for cooking, cleaning, the garden or the office?") == 4
    assert option_count("Pick one:\n1. Tents\n2. Stoves\n3. Lamps") == 3
    assert option_count("What is your budget?") == 1


def test_reply_has_any_and_none() -> None:
    assert (
        reason({"reply_has_any": ["pre-order", "preorder"]}, turn(reply="That one is on Pre-order.")) is None
    )
    assert reason({"reply_has_any": ["sold out"]}, turn(reply="Added!")) is not None
    assert reason({"reply_has_none": ["391"]}, turn(reply="I only help with shopping.")) is None
    assert reason({"reply_has_none": ["391"]}, turn(reply="17*23 = 391")) == "the reply has ['391']"


# --- attributes and comparisons -------------------------------------------------------------------------------


def test_answers_attribute_reads_values_loosely() -> None:
    ctx = context(t1=cards(6, 1))
    check = {"answers_attribute": {"product": 1, "attribute": "volume"}}
    assert reason(check, turn(reply="The Trail Pack holds 20L."), ctx) is None
    assert reason(check, turn(reply="It's a 20 litre pack."), ctx) is None
    assert "does not give" in reason(check, turn(reply="It holds 40 L."), ctx)
    people = {"answers_attribute": {"product": 2, "attribute": "capacity"}}
    assert reason(people, turn(reply="It sleeps two people."), ctx) is None
    price = {"answers_attribute": {"product": 1, "attribute": "price"}}
    assert reason(price, turn(reply="It's £45.00."), ctx) is None and reason(price, turn(reply="$45"), ctx)


def test_an_echo_of_the_shopper_answers_nothing() -> None:
    ctx = context(t1=cards(6, 1))
    check = {"answers_attribute": {"product": 1, "attribute": "material"}}
    echo = ObservedTurn(
        2, "is it ripstop nylon?", "Here is what I found for “ripstop nylon”:", [], {}, {}, False
    )
    assert "does not give" in reason(check, echo, ctx)
    answer = ObservedTurn(2, "is it ripstop nylon?", "Yes, it's ripstop nylon.", [], {}, {}, False)
    assert reason(check, answer, ctx) is None


def test_answers_attribute_the_listing_lacks_wants_listing_silent() -> None:
    ctx = context(t1=cards(7))
    check = {"answers_attribute": {"product": 1, "attribute": "material"}}
    assert reason(check, turn(reply="The listing doesn't say what it's made of."), ctx) is None
    assert "listing does not say" in reason(check, turn(reply="It's nylon."), ctx)


def test_answers_shipping_holds_the_reply_to_what_the_seller_states() -> None:
    ctx = context(t1=cards(6, 7))
    canada = {"answers_shipping": {"product": 2, "country": "CA"}}
    assert reason(canada, turn(reply="Brightside does not ship to CA (it ships to GB, IE)."), ctx) is None
    assert "does not say so" in reason(canada, turn(reply="Brightside ships to CA."), ctx)
    ireland = {"answers_shipping": {"product": 2, "country": "IE"}}
    assert reason(ireland, turn(reply="Brightside ships to IE (it ships to GB, IE)."), ctx) is None
    assert "does not say so" in reason(ireland, turn(reply="It doesn't ship there."), ctx)
    silent = {"answers_shipping": {"product": 1, "country": "CA"}}  # its seller has not said
    assert reason(silent, turn(reply="The seller doesn't say where it ships."), ctx) is None
    assert "does not say where" in reason(silent, turn(reply="It ships to CA."), ctx)


def test_positions_point_at_the_last_list_or_at_a_given_turn() -> None:
    ctx = context(t1=cards(1, 2), t3=cards(6, 7))
    assert ctx.product_at(2, turn=4).product_id == 7
    assert ctx.product_at(2, turn=4, from_turn=1).product_id == 2
    assert ctx.product_at(1, turn=3).product_id == 1  # before turn 3, turn 1's list was the last
    assert "no position 3" in reason({"cart_has": {"product": 3}}, turn(number=4), ctx)
    assert "showed no products" in reason({"cart_has": {"product": 1}}, turn(number=1), context())


def test_compares_needs_both_values_and_the_winner_named() -> None:
    ctx = context(t1=cards(4, 5))
    check = {"compares": {"products": [1, 2], "attribute": "wattage", "wants": "max"}}
    assert reason(check, turn(reply="The first one is more powerful: 65W against 20W."), ctx) is None
    assert reason(check, turn(reply="Go with the Boom (65 W); the Echo Mini has 20 watts."), ctx) is None
    assert reason(check, turn(reply="Voltage's is louder at 65W, Pocketsound's is 20W."), ctx) is None
    assert "does not name" in reason(check, turn(reply="The second one is more powerful: 20W vs 65W."), ctx)
    assert "does not give" in reason(check, turn(reply="The first one is more powerful, 65W."), ctx)
    smaller = {"compares": {"products": [2, 1], "attribute": "wattage", "wants": "min"}}
    assert reason(smaller, turn(reply="#2 is 20W, #1 is 65W: #2 draws less."), ctx) is None
    cheaper = {"compares": {"products": [1, 2], "attribute": "price", "wants": "min"}}
    assert (
        reason(cheaper, turn(reply="The Echo Mini is cheaper at $49.99 than the Boom at $99.99."), ctx)
        is None
    )


def test_a_reply_comparing_along_two_attributes_is_judged_on_the_line_of_the_one_asked() -> None:
    ctx = context(t1=cards(4, 5))
    cheaper = {"compares": {"products": [1, 2], "attribute": "price", "wants": "min"}}
    both = (
        "Wattage — the first: 65W; the second: 20W. The first is more powerful.\n"
        "Price — the first: $99.99; the second: $49.99. The second is cheaper."
    )
    assert reason(cheaper, turn(reply=both), ctx) is None
    wrong = both.replace("The second is cheaper", "The first is cheaper")
    assert "does not name" in reason(cheaper, turn(reply=wrong), ctx)


def test_compares_a_tie_and_a_missing_attribute() -> None:
    ctx = context(t1=cards(1, 2, 6))
    season = {"compares": {"products": [1, 2], "attribute": "capacity", "wants": "max"}}
    assert reason(season, turn(reply="The 2nd: 4-person against 2-person."), ctx) is None
    missing = {"compares": {"products": [1, 3], "attribute": "volume", "wants": "max"}}
    assert reason(missing, turn(reply="The listing doesn't say the tent's volume."), ctx) is None
    assert "listing does not say" in reason(missing, turn(reply="The pack is bigger."), ctx)


def test_winner_naming_by_position_title_or_brand() -> None:
    boom, echo = (
        Named(1, "Boom 65W Bluetooth Speaker", "Voltage"),
        Named(2, "Echo Mini Speaker", "Pocketsound"),
    )
    assert names_winner("Number 1 wins.", boom, echo)
    assert names_winner("The former is louder than the latter.", boom, echo)
    assert not names_winner("The Echo Mini is louder than the Boom.", boom, echo)
    assert not names_winner("Both are great speakers.", boom, echo)
    assert not names_winner("The Boom has 65W. The Echo Mini has 20W.", boom, echo)  # which, then?


# --- currency ------------------------------------------------------------------------------------------------


def test_price_in_wants_an_approximate_amount_beside_each_foreign_price() -> None:
    check = {"price_in": "GBP"}
    assert reason(check, turn(reply="Cuddly Bear Plush: €15.99 (about £13.73)")) is None
    assert reason(check, turn(reply="Cuddly Bear Plush: €15.99 (~£14)")) is None
    assert reason(check, turn(reply="Cuddly Bear Plush: £13.50")) is None  # no foreign price given
    assert "no approximate GBP" in reason(check, turn(reply="Cuddly Bear Plush: €15.99"))
    assert "no approximate GBP" in reason(check, turn(reply="Cuddly Bear Plush: €15.99 (£13.73)"))  # unmarked
    assert "no approximate GBP" in reason(check, turn(reply="Cuddly Bear Plush: €15.99 (about £20)"))  # wrong


def test_money_and_quantities_are_read_in_their_usual_spellings() -> None:
    found = {
        (m.currency, m.value, m.approximate) for m in money_mentions("$1,200.00, 12,99 €, ~CA$20 and 99 kr")
    }
    assert found == {("USD", Decimal("1200.00"), False), ("EUR", Decimal("12.99"), False),
                     ("CAD", Decimal(20), True), ("SEK", Decimal(99), False)}  # fmt: skip
    assert as_quantity("1,200 lumens").high == 1200 and as_quantity("15°F").unit == "f"
    assert as_quantity("2-6 players").high == 6 and as_quantity("500 ml").high == Decimal("0.5")
    assert states_value("rated to 15 °F", "15°F") and states_value("a 10-inch pan", "10 in")
    assert states_value("Made of Full Grain leather", "full-grain leather")
    assert not states_value("It holds 120 L", "20 L") and not states_value("wireless", "wired")


# --- the cart and checkout -----------------------------------------------------------------------------------


def test_cart_checks() -> None:
    ctx = context(t1=cards(1, 2), t2=cards(6))
    after = turn(number=3, before={1: 1}, after={1: 2, 6: 1})
    assert reason({"cart_has": {"product": 1}}, after, ctx) is None  # turn 2's list
    assert reason({"cart_has": {"product": 1, "from_turn": 1, "quantity": 2}}, after, ctx) is None
    assert "2 times, not 3" in reason({"cart_has": {"product": 1, "from_turn": 1, "quantity": 3}}, after, ctx)
    assert "not in the cart" in reason({"cart_has": {"product": 2, "from_turn": 1}}, after, ctx)
    assert reason({"cart_without": {"product": 2, "from_turn": 1}}, after, ctx) is None
    assert "still in the cart" in reason({"cart_without": {"product": 1, "from_turn": 1}}, after, ctx)
    assert reason({"cart_count": 2}, after, ctx) is None and reason({"cart_count": 1}, after, ctx)
    assert "went from" in reason({"cart_unchanged": True}, after, ctx)
    assert reason({"cart_unchanged": True}, turn(before={1: 1}, after={1: 1})) is None


def test_checkout_checks_and_unknown_checks() -> None:
    assert reason({"checkout_started": True}, turn(checkout=True)) is None
    assert reason({"checkout_started": True}, turn()) == "checkout was not started"
    assert reason({"checkout_not_started": True}, turn()) is None
    assert reason({"checkout_not_started": True}, turn(checkout=True)) == "checkout was started"
    assert reason({"teleports": True}, turn()) == "unknown check 'teleports'"


# --- what a turn invented -------------------------------------------------------------------------------------


def test_approximate_conversions_are_not_taken_for_invented_prices() -> None:
    ctx = context()
    observed = turn(number=1, reply="Cuddly Bear Plush: €15.99 (about £13.73).", shown=cards(3))
    stripped = reply_without_conversions(observed.reply, [(Decimal("15.99"), "EUR")], RATES)
    assert "£" not in stripped and "€15.99" in stripped
    kwargs = {"cart": None, "results": [], "said": ["plush under 20 quid"], "facts": []}
    assert turn_hallucinations(observed, ctx, [], **kwargs) == []
    invented = turn(number=1, reply="Cuddly Bear Plush: €9.99, about £8.58.", shown=cards(3))
    assert turn_hallucinations(invented, ctx, [], **kwargs) == [
        "the reply states €9.99, which no tool result gave"  # and not £8.58 too: that only converts it
    ]
    ghost = turn(number=1, shown=[card(3, 1) | {"product_id": 99}])
    assert turn_hallucinations(ghost, ctx, [], **kwargs) == ["product 99 is not in the catalog"]


def test_invented_attribute_values() -> None:
    asked = [{"answers_attribute": {"product": 1, "attribute": "material"}}]
    ctx = context(t1=cards(6, 1))
    assert invented_attribute_values(asked, turn(reply="It's ripstop nylon."), ctx) == []
    assert (
        invented_attribute_values(asked, turn(reply="It's made of leather."), ctx) == []
    )  # no catalog value
    ctx = context(t1=cards(7))
    wrong = invented_attribute_values(asked, turn(reply="It's ripstop nylon."), ctx)  # #1 has no material
    assert wrong == ["the reply gives material 'ripstop nylon' for Summit Pack, whose listing says None"]
    echoed = ObservedTurn(2, "is it ripstop nylon?", "Results for “ripstop nylon”:", [], {}, {}, False)
    assert invented_attribute_values(asked, echoed, ctx) == []  # the shopper's words, not a claim
    # another product the shopper can see has that value: the reply may be speaking of it
    assert invented_attribute_values(asked, turn(reply="It's ripstop nylon."), context(t1=cards(7, 6))) == []
