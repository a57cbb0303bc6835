"""Answers about a shown product come from its listing: a value asked about is a yes or a no with what the
listing says, a comparison names both values and the winner."""

from market.assistant.agent import answers, replies
from market.assistant.reading.questions import read_comparison, read_question

_VALUES = {"fill": ["goose down", "duck down", "synthetic"], "color": ["red", "navy"]}
_BAG = {
    "product_id": 7,
    "title": "Canyon Sleeping Bag",
    "attributes": {"fill": "duck down", "temperature_rating": "20°F", "color": "red"},
    "description": "A three-season bag. Machine washable on a gentle cycle.",
}


def _reply(text: str, product=_BAG) -> str:
    question = read_question(text, ("fill", "temperature_rating", "color"), _VALUES)
    assert question is not None
    return replies.answer_text(product, answers.answer(question, product))


def test_a_value_the_listing_has_is_a_yes_quoting_it() -> None:
    assert _reply("is it duck down?") == "Yes: Canyon Sleeping Bag — fill: duck down."


def test_a_value_the_listing_contradicts_is_a_no_with_the_listings_value() -> None:
    assert _reply("is the first one goose down?") == "No: Canyon Sleeping Bag — fill: duck down."
    assert _reply("is it navy?") == "No: Canyon Sleeping Bag — color: red."


def test_a_property_without_a_value_is_answered_with_the_value() -> None:
    assert _reply("what is the temperature rating?") == "Canyon Sleeping Bag — temperature rating: 20°F."


def test_a_property_the_listing_lacks_is_said_to_be_missing() -> None:
    bare = {**_BAG, "attributes": {"color": "red"}, "description": ""}
    assert _reply("what's the fill?", bare) == "The listing of Canyon Sleeping Bag doesn't say (fill)."


def test_a_comparison_names_both_values_and_which_wins() -> None:
    warm = {**_BAG, "product_id": 8, "title": "Tundra Bag", "position": 2,
            "attributes": {"temperature_rating": "15°F"}}  # fmt: skip
    comparison = read_comparison("which of the two is warmer?")
    assert comparison is not None
    result = answers.compare(comparison, [{**_BAG, "position": 1}, warm])
    assert result["winner"] == 8
    text = replies.compose(
        [("compare_products", {"products": [{**_BAG, "position": 1}, warm], "comparison": result})]
    )
    assert "20°F" in text and "15°F" in text
    assert text.endswith("The second (Tundra Bag) is warmer.")


def test_a_question_the_listing_names_nothing_of_is_answered_as_silent() -> None:
    from market.assistant.agent.toolbox import _unsaid

    pan = {
        "title": "Chef Series Frying Pan",
        "description": "A ceramic nonstick pan for eggs.",
        "attributes": {},
    }
    assert _unsaid("and will it work on an induction hob", pan) == "induction"
    assert _unsaid("is it good for eggs", pan) is None  # the description names eggs: it answers


def test_two_comparisons_asked_at_once_get_two_answers() -> None:
    from market.assistant.agent.replies import compose

    products = [
        {"product_id": 1, "title": "Task Chair", "position": 1},
        {"product_id": 2, "title": "Big Chair", "position": 2},
    ]
    data = {
        "products": products,
        "comparison": {
            "attribute": "price",
            "values": {"1": "$99.99", "2": "$340.99"},
            "winner": 1,
            "wants": "min",
            "phrase": "cheaper",
        },
        "also": [
            {
                "attribute": "max_weight",
                "values": {"1": "250 lb", "2": "350 lb"},
                "winner": 2,
                "wants": "max",
                "phrase": "holds more",
            }
        ],
    }
    reply = compose([("compare_products", data)])
    assert "The first (Task Chair) is cheaper." in reply
    assert "Max weight — the first (Task Chair): 250 lb; the second (Big Chair): 350 lb." in reply
    assert "The second (Big Chair) has the higher max weight." in reply


def test_how_much_of_something_else_is_no_price_question() -> None:
    texts = [
        "how much does the 2nd one weigh? im the one carrying it lol",
        "And how much water does it hold?",
        "how much is the first one?",
    ]
    assert [getattr(read_question(text), "properties", None) for text in texts] == [
        ("weight",),
        ("volume",),
        ("price",),
    ]
    assert "doesn't say (weight)" in _reply("how much does it weigh?")


def test_an_either_or_question_gets_the_listings_value_not_a_no() -> None:
    assert _reply("is it goose down or synthetic?") == "Canyon Sleeping Bag — fill: duck down."


def test_where_a_product_is_made_is_answered_from_the_listing_or_said_to_be_missing() -> None:
    assert _reply("where are these made? i try to buy american") == (
        "The listing of Canyon Sleeping Bag doesn't say (where it is made)."
    )
    made = {**_BAG, "description": "Made in Portugal from recycled down."}
    assert "Made in Portugal" in _reply("where is it made?", made)
