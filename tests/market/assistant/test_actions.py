"""The action classifier: the shipped model on sentences written by hand (not by the generator), the
generator's determinism, and the model's metadata."""

from __future__ import annotations

import json

import pytest

from market.assistant.reading.actions import MODEL_DIR, ActionClassifier, cues
from market.assistant.reading.understanding import Vocabulary
from market.assistant.reading.utterances import ACTIONS, generate_utterances

# (text, products shown before, action). Written to sound like shoppers, not like the generator's templates.
HAND_WRITTEN = [
    ("I'm looking for running shoes under $120", False, "search"),
    ("do you have any wireless earbuds?", False, "search"),
    ("show me yoga mats", False, "search"),
    ("I need a tent for four people", False, "search"),
    ("find me a red hoodie in size M", False, "search"),
    ("what kind of office chairs do you sell?", False, "search"),
    ("gift ideas for a 6 year old who loves puzzles", False, "search"),
    ("cast iron skillet", False, "search"),
    ("something to keep my coffee hot on hikes", False, "search"),
    ("any good Stridewell sneakers around 80 bucks", False, "search"),
    ("now show me some sleeping bags", True, "search"),
    ("I also need a headlamp", True, "search"),
    ("looking for a stroller that folds easily", False, "search"),
    ("noise cancelling headphones for my commute", False, "search"),
    ("a comfy bed for my old labrador", False, "search"),
    ("cheaper ones please", True, "refine"),
    ("do you have these in blue?", True, "refine"),
    ("only show Ohmfield", True, "refine"),
    ("under 50 instead", True, "refine"),
    ("something a bit cheaper", True, "refine"),
    ("what about in black", True, "refine"),
    ("only the ones that are in stock", True, "refine"),
    ("any in size 10?", True, "refine"),
    ("show me more options", True, "refine"),
    ("less than $30 please", True, "refine"),
    ("I'd prefer leather", True, "refine"),
    ("these are all too expensive", True, "refine"),
    ("tell me more about the second one", True, "ask_product"),
    ("is the first one waterproof?", True, "ask_product"),
    ("what material is the red one made of?", True, "ask_product"),
    ("does the Ohmfield one have noise cancelling?", True, "ask_product"),
    ("how many are left of the last one?", True, "ask_product"),
    ("what sizes does it come in?", True, "ask_product"),
    ("is that one machine washable?", True, "ask_product"),
    ("more details on number 2", True, "ask_product"),
    ("who sells the Auralis one?", True, "ask_product"),
    ("how much does the third one cost?", True, "ask_product"),
    ("compare the first two", True, "compare"),
    ("what's the difference between the first and the third?", True, "compare"),
    ("which one is better, 1 or 2?", True, "compare"),
    ("compare the red one with the blue one", True, "compare"),
    ("how do these two compare", True, "compare"),
    ("which is lighter, the Ohmfield or the Auralis?", True, "compare"),
    ("second vs third", True, "compare"),
    ("which of these would you recommend?", True, "compare"),
    ("add the second one to my cart", True, "add_to_cart"),
    ("I'll take the red one", True, "add_to_cart"),
    ("put two of the first one in my basket", True, "add_to_cart"),
    ("add it to cart", True, "add_to_cart"),
    ("buy the Ohmfield one", True, "add_to_cart"),
    ("I want that one", True, "add_to_cart"),
    ("add 3 of those", True, "add_to_cart"),
    ("yes, add the cheaper one", True, "add_to_cart"),
    ("add both to my cart", True, "add_to_cart"),
    ("get me the last one in size 9", True, "add_to_cart"),
    ("remove the hoodie from my cart", True, "remove_from_cart"),
    ("take the headphones out of my cart", False, "remove_from_cart"),
    ("delete the second item from my basket", True, "remove_from_cart"),
    ("I don't want the red one anymore, remove it", True, "remove_from_cart"),
    ("drop the tent from my cart", False, "remove_from_cart"),
    ("empty my cart", False, "remove_from_cart"),
    ("actually, get rid of the earbuds", True, "remove_from_cart"),
    ("what's in my cart?", False, "view_cart"),
    ("show me my cart", True, "view_cart"),
    ("view cart", False, "view_cart"),
    ("how much is my cart total?", True, "view_cart"),
    ("what have I added so far", True, "view_cart"),
    ("show my basket", False, "view_cart"),
    ("checkout", True, "checkout"),
    ("I'm ready to pay", True, "checkout"),
    ("let's check out", False, "checkout"),
    ("proceed to checkout", True, "checkout"),
    ("yes, place the order", True, "checkout"),
    ("I want to buy everything in my cart", True, "checkout"),
    ("take me to payment", False, "checkout"),
    ("complete my purchase", True, "checkout"),
    ("hi", False, "chit_chat"),
    ("hello there", False, "chit_chat"),
    ("thanks!", True, "chit_chat"),
    ("who are you?", False, "chit_chat"),
    ("what can you do?", False, "chit_chat"),
    ("thank you, that's all", True, "chit_chat"),
    ("good morning", False, "chit_chat"),
    ("how are you today?", False, "chit_chat"),
    ("bye", True, "chit_chat"),
    ("tell me a joke", False, "chit_chat"),
]

# Looser wording, further from any template: a lower bar, but still most must be right.
PARAPHRASED = [
    ("my daughter starts kindergarten, she needs a backpack", False, "search"),
    ("got anything for a long-haul flight? like a neck pillow or headphones", False, "search"),
    ("Need new pans, the nonstick kind", False, "search"),
    ("any Brightwire smart plugs", False, "search"),
    ("I run marathons and my shoes are worn out", False, "search"),
    ("okay forget those, I want a kettle now", True, "search"),
    ("what do you have for cats", False, "search"),
    ("waterproof jacket, women's, medium", False, "search"),
    ("can I see ones made by Northloom instead", True, "refine"),
    ("hmm those are out of my price range", True, "refine"),
    ("got anything under forty?", True, "refine"),
    ("same thing but for men", True, "refine"),
    ("any of these in a bigger size", True, "refine"),
    ("I'd rather not go over 60 euros", True, "refine"),
    ("more colourful ones?", True, "refine"),
    ("how long does the battery last on the Voltwise?", True, "ask_product"),
    ("is #2 dishwasher safe", True, "ask_product"),
    ("what's the warranty like on that one", True, "ask_product"),
    ("does the cheaper one ship from Germany?", True, "ask_product"),
    ("can you tell me what the first one is made of", True, "ask_product"),
    ("how many pieces come in the third set?", True, "ask_product"),
    ("which one's warmer, the parka or the puffer?", True, "compare"),
    ("first or second, what would you pick?", True, "compare"),
    ("how do the Auralis and Ohmfield ones stack up", True, "compare"),
    ("is the more expensive one actually worth it compared to the cheap one?", True, "compare"),
    ("show me the differences between all three", True, "compare"),
    ("ok I'll get the blue one", True, "add_to_cart"),
    ("stick the second one in my basket", True, "add_to_cart"),
    ("I'll buy two of the Pawsmith ones", True, "add_to_cart"),
    ("sold, add it", True, "add_to_cart"),
    ("let me have the last one, size 8", True, "add_to_cart"),
    ("I changed my mind on the kettle, remove it please", True, "remove_from_cart"),
    ("take one of the t-shirts out", True, "remove_from_cart"),
    ("clear everything out of my basket", False, "remove_from_cart"),
    ("what's my basket come to?", True, "view_cart"),
    ("what did I put in the cart again?", False, "view_cart"),
    ("how many things do I have in the cart", True, "view_cart"),
    ("alright I'm done shopping, let's pay", True, "checkout"),
    ("ready to order", True, "checkout"),
    ("go ahead and place the order, I confirm", True, "checkout"),
    ("can I pay now?", True, "checkout"),
    ("cheers mate", True, "chit_chat"),
    ("are you a real person?", False, "chit_chat"),
    ("what's up", False, "chit_chat"),
    ("that's helpful, thanks a lot", True, "chit_chat"),
    ("goodnight", False, "chit_chat"),
]

# Sentences no reasonable model may get wrong.
OBVIOUS = [
    ("show me running shoes", False, "search"),
    ("compare the first two", True, "compare"),
    ("add the second one to my cart", True, "add_to_cart"),
    ("remove the hoodie from my cart", True, "remove_from_cart"),
    ("what's in my cart?", False, "view_cart"),
    ("checkout", True, "checkout"),
    ("proceed to checkout", True, "checkout"),
    ("hi", False, "chit_chat"),
    ("thanks!", True, "chit_chat"),
    ("tell me more about the second one", True, "ask_product"),
    ("cheaper ones please", True, "refine"),
]


@pytest.fixture(scope="module")
def classifier() -> ActionClassifier:
    return ActionClassifier.load()


def test_hand_written_utterances_are_mostly_understood(classifier: ActionClassifier) -> None:
    predictions = classifier.predict_many(
        [t for t, _, _ in HAND_WRITTEN], has_shown=[s for _, s, _ in HAND_WRITTEN]
    )
    wrong = [
        (text, want, got)
        for (text, _, want), (got, _) in zip(HAND_WRITTEN, predictions, strict=True)
        if got != want
    ]
    accuracy = 1 - len(wrong) / len(HAND_WRITTEN)
    assert accuracy >= 0.85, f"accuracy {accuracy:.2f}; wrong: {wrong}"


def test_paraphrased_utterances_are_mostly_understood(classifier: ActionClassifier) -> None:
    predictions = classifier.predict_many(
        [t for t, _, _ in PARAPHRASED], has_shown=[s for _, s, _ in PARAPHRASED]
    )
    wrong = [
        (t, want, got) for (t, _, want), (got, _) in zip(PARAPHRASED, predictions, strict=True) if got != want
    ]
    assert 1 - len(wrong) / len(PARAPHRASED) >= 0.8, wrong


@pytest.mark.parametrize(("text", "has_shown", "action"), OBVIOUS)
def test_obvious_utterances_are_exact(
    classifier: ActionClassifier, text: str, has_shown: bool, action: str
) -> None:
    got, confidence = classifier.predict(text, has_shown=has_shown)
    assert got == action
    assert 0.0 < confidence <= 1.0


def test_prediction_is_deterministic_and_batch_agrees(classifier: ActionClassifier) -> None:
    one = classifier.predict("add the red one to my cart", has_shown=True)
    assert classifier.predict("add the red one to my cart", has_shown=True) == one
    assert classifier.predict_many(["add the red one to my cart"], has_shown=[True]) == [one]
    assert classifier.predict_many([], has_shown=[]) == []


def test_shipped_metadata_records_how_it_was_made() -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    assert meta["actions"] == list(ACTIONS)
    assert meta["held_out_accuracy"] >= 0.9
    assert meta["utterances"] == meta["per_action"] * len(ACTIONS)
    assert isinstance(meta["generator_seed"], int)


def test_a_model_for_other_actions_is_refused(tmp_path, classifier: ActionClassifier) -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    (tmp_path / "model.txt").write_text((MODEL_DIR / "model.txt").read_text())
    (tmp_path / "meta.json").write_text(json.dumps(meta | {"actions": ["search", "buy"]}))
    with pytest.raises(ValueError, match="retrain"):
        ActionClassifier.load(tmp_path, embedder=classifier.embedder)


def test_missing_model_files_fail_loudly(tmp_path, classifier: ActionClassifier) -> None:
    with pytest.raises(FileNotFoundError):
        ActionClassifier.load(tmp_path, embedder=classifier.embedder)


def test_generator_is_deterministic_and_balanced() -> None:
    vocabulary = Vocabulary.demo()
    first = generate_utterances(vocabulary, seed=3, per_action=40)
    assert first == generate_utterances(vocabulary, seed=3, per_action=40)
    assert first != generate_utterances(vocabulary, seed=4, per_action=40)
    assert {u.action for u in first} == set(ACTIONS)
    assert all(sum(u.action == a for u in first) == 40 for a in ACTIONS)
    assert all(u.text.strip() and "{" not in u.text for u in first)
    assert not any(u.has_shown is False for u in first if u.action in ("refine", "compare", "ask_product"))


def test_generator_works_from_a_live_catalog_vocabulary() -> None:
    vocabulary = Vocabulary.from_products(
        [{"brand": "Acme", "category": "Tools > Drills", "attributes": {"color": "yellow", "size": "XL"}}]
    )
    utterances = generate_utterances(vocabulary, seed=0, per_action=20)
    assert len(utterances) == 20 * len(ACTIONS)
    assert any("drills" in u.text.lower() for u in utterances)


def test_cues_read_references_money_questions_and_context() -> None:
    assert cues("add the second one under $40?", has_shown=True) == [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert cues("show my cart", has_shown=False) == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert cues("proceed to checkout", has_shown=False)[4] == 1.0
