"""The queries of the seed relevance set (`ranking.offline.seed_relevance`): what shoppers would type about
the demo catalog, each with the facets it names, from which its grades are made.

Each query starts from a randomly sampled product and names some of its facets, so it has at least that
product as an Exact match. Templates, phrased the way shoppers type:

* a product noun, singular or plural: "trail running shoes", "dutch oven";
* a generic name for the subcategory: "running shoes", "kitchen knives" (names no noun);
* one or two attribute values around the noun: "women's hiking boots size 8", "queen linen sheet set",
  "4-person tent" or "tent for 4 people";
* brand and product type: "stridewell sandals"; brand alone or with the department: "pawsmith pet";
  brand and model line: "Veloce Fleetfoot" (shoppers drop generic brand words such as "Footwear");
  a themed line and its type: "pirate ship building set";
* a use from the vocabulary: "headlamp for night hikes"; a feature the description names: "hiking boots
  with a protective rubber toe cap";
* a shopper synonym for the noun where one exists ("trainers", "fairy lights", "secateurs").
About 80% are lowercased, and one in ten gets a typo (a swapped, dropped or doubled letter).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from market.taxonomy.vocabulary import DETAIL_FORMATS, RootCategory, Subcategory
from ranking.documents import IndexedProduct

# How shoppers name a subcategory without picking a product noun.
GENERIC_NAMES = {  # keyed by the path below the root, which is unique across the vocabulary
    "Running": "running shoes",
    "Hiking": "hiking footwear",
    "Casual > Sneakers": "sneakers",
    "Boots": "boots",
    "Sandals": "sandals",
    "Tops": "tops",
    "Outerwear": "jackets",
    "Bottoms": "pants",
    "Activewear": "workout clothes",
    "Audio > Headphones": "headphones",
    "Audio > Speakers": "speakers",
    "Accessories > Chargers": "chargers",
    "Computer Accessories > Keyboards & Mice": "keyboards and mice",
    "Smart Home": "smart home devices",
    "Cookware > Pans": "pans",
    "Cookware > Pots": "cooking pots",
    "Cutlery": "kitchen knives",
    "Small Appliances": "kitchen appliances",
    "Bedding": "bedding",
    "Camping > Tents": "tents",
    "Camping > Sleeping Bags": "sleeping bags",
    "Backpacks": "backpacks",
    "Hydration": "insulated drinkware",
    "Lighting": "camping lights",
    "Yoga": "yoga gear",
    "Strength Training": "free weights",
    "Cycling > Helmets": "bike helmets",
    "Racket Sports": "rackets",
    "Skincare": "skincare",
    "Hair Care": "hair care",
    "Fragrance": "perfume",
    "Makeup": "makeup",
    "Building Sets": "building toys",
    "Board Games": "board games",
    "Puzzles": "puzzles",
    "Plush": "soft toys",
    "Dogs > Beds": "dog beds",
    "Dogs > Toys": "dog toys",
    "Dogs > Collars & Leashes": "dog collars and leashes",
    "Cats > Scratchers & Trees": "cat furniture",
    "Hand Tools": "garden hand tools",
    "Planters": "planters",
    "Watering > Hoses": "garden hoses",
    "Outdoor Lighting": "outdoor lights",
    "Writing Instruments": "pens",
    "Notebooks & Paper": "notebooks",
    "Desk Accessories": "desk accessories",
    "Office Furniture > Chairs": "office chairs",
    "Feeding": "baby feeding",
    "Nursery": "nursery bedding",
    "Gear > Strollers": "strollers",
    "Clothing": "baby clothes",
}
# Other words for a product noun; the query then names that noun (the title must contain it).
SYNONYMS = {
    "Sneaker": "trainers",
    "Flip-Flop": "flip flops",
    "Hoodie": "hooded sweatshirt",
    "T-Shirt": "tee shirt",
    "Jogger": "sweatpants",
    "Leggings": "yoga pants",
    "Parka": "winter coat",
    "Puffer Jacket": "puffy jacket",
    "Earbuds": "earphones",
    "Power Bank": "portable charger",
    "Soundbar": "tv speaker",
    "Video Doorbell": "doorbell camera",
    "Smart Plug": "wifi outlet",
    "Frying Pan": "fry pan",
    "Stock Pot": "soup pot",
    "Chef's Knife": "cooks knife",
    "Sheet Set": "bed sheets",
    "Duvet Cover": "comforter cover",
    "Daypack": "day backpack",
    "Headlamp": "head torch",
    "Flashlight": "torch",
    "Vacuum Tumbler": "insulated travel mug",
    "Yoga Mat": "exercise mat",
    "Kettlebell": "kettle bell",
    "Moisturizer": "face cream",
    "Gel Cleanser": "face wash",
    "Eau de Toilette": "cologne",
    "Jigsaw Puzzle": "jigsaw",
    "Stuffed Animal": "teddy",
    "Scratching Post": "cat scratcher",
    "Leash": "dog lead",
    "Rope Toy": "tug toy",
    "Pruning Shears": "secateurs",
    "Loppers": "branch cutters",
    "Garden Hose": "water hose",
    "String Lights": "fairy lights",
    "Monitor Stand": "monitor riser",
    "Desk Mat": "desk pad",
    "Sleep Sack": "wearable blanket",
    "Footed Sleeper": "footie pajamas",
    "Sippy Cup": "toddler cup",
    "Ergonomic Office Chair": "ergonomic desk chair",
}
# Attributes read before the noun ("4-person tent"); the rest follow it, worded as below.
PRE_NOUN = frozenset(
    {
        "color",
        "material",
        "gender",
        "capacity",
        "season",
        "bed_size",
        "connectivity",
        "connector",
        "fill",
        "power",
        "finish",
        "scent",
        "ruling",
        "layout",
        "wattage",
        "diameter",
        "width",
        "height",
        "length",
        "volume",
        "weight",
        "key_ingredient",
        "noise_control",
        "paper_size",
        "temperature_rating",
        "skill_level",
        "tip_size",
    }
)
POST_NOUN = {
    "age_range": "for ages {}",
    "players": "for {}",
    "skin_type": "for {} skin",
    "hair_type": "for {} hair",
    "max_weight": "up to {}",
    "handle": "with {} handle",
    "page_count": "{}",
    "pieces": "{} pieces",
}
UNNAMED = frozenset({"play_time", "voice_assistant"})  # nobody types "app control only"
GENDER_WORDS = {"men": "men's", "women": "women's", "unisex": "unisex"}
DEPARTMENT_WORDS = {
    "Home & Kitchen": "home",
    "Sports & Fitness": "fitness",
    "Toys & Games": "toys",
    "Pet Supplies": "pet",
    "Outdoor": "outdoor gear",
    "Office": "office",
}
BRAND_FILLER = frozenset(
    {
        "Footwear",
        "Gear",
        "Home",
        "Living",
        "Toys",
        "Pet",
        "Garden",
        "Athletic",
        "Athletics",
        "Sport",
        "Supply",
        "Labs",
    }
)
UNCOUNTED_ROOTS = frozenset({"Beauty"})  # "shampoos", "lipsticks": shoppers keep these singular


@dataclass(frozen=True)
class SeedQuery:
    """A query's text and the facets it names; grades come from the facets alone."""

    text: str
    root: str
    category: str | None = None  # full path; None: the whole root is in scope
    noun: str | None = None  # the title must contain it (as a phrase, any case)
    brand: str | None = None
    model: str | None = None  # the title starts with "<brand> <model> "
    attributes: tuple[tuple[str, str], ...] = ()
    feature: str | None = None  # the description must contain it

    @property
    def query_class(self) -> str:
        return self.category.split(" > ")[-1] if self.category else self.root


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` is in `text` as whole words, any case: how a query's noun is found in a title,
    here and by `seed_relevance.grade`."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def model_line(product: IndexedProduct, root: RootCategory, sub: Subcategory) -> str:
    """The model line in the title ("Tempo" for "Stridewell Tempo 2 ..."): titles open with brand, model."""
    lines = [m for m in sub.models or root.models if product.title.startswith(f"{product.brand} {m} ")]
    return max(lines, key=len)


# --- queries -------------------------------------------------------------------------------------------


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun  # "earbuds", "leggings", "pruning shears"
    if noun.endswith("Knife"):
        return noun[:-2] + "ves"
    if noun.endswith(("sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _attribute_phrase(rng: random.Random, key: str, value: str) -> tuple[bool, str]:
    """(before the noun?, words) for one attribute value."""
    if key == "gender":
        return True, GENDER_WORDS[value]
    if key == "size":
        # Word sizes read as adjectives ("large dog bed"); numbers and letters follow ("size 8").
        if value.islower() and value.replace(" ", "").isalpha():
            return True, value
        return False, f"size {value}"
    if key == "capacity" and value.endswith("-person") and rng.random() < 0.5:
        count = value.split("-")[0]
        return False, f"for {count} {'person' if count == '1' else 'people'}"
    if key in PRE_NOUN:
        return True, value
    if key == "age_range" and value == "adult":
        return False, "for adults"
    return False, POST_NOUN.get(key, DETAIL_FORMATS.get(key, "{}")).format(value)


def _type_words(
    rng: random.Random,
    product: IndexedProduct,
    root: RootCategory,
    sub: Subcategory,
    *,
    generic_ok: bool = True,
) -> tuple[str, str | None]:
    """The words naming the product type, and the noun they commit to (None for a generic name)."""
    if generic_ok and sub.path in GENERIC_NAMES and rng.random() < 0.35:
        return GENERIC_NAMES[sub.path], None
    noun = next(n for n in sorted(sub.nouns, key=len, reverse=True) if contains_phrase(product.title, n))
    words = noun if root.name in UNCOUNTED_ROOTS or rng.random() < 0.4 else _plural(noun)
    return words.lower(), noun


def _brand_words(rng: random.Random, brand: str) -> str:
    words = brand.split()
    if len(words) > 1 and words[-1] in BRAND_FILLER and rng.random() < 0.6:
        words = words[:-1]  # "Veloce Footwear" -> "Veloce"
    text = " ".join(words)
    return text.replace("&", "and") if "&" in text and rng.random() < 0.4 else text


def _make_query(
    rng: random.Random, product: IndexedProduct, root: RootCategory, sub: Subcategory
) -> SeedQuery | None:
    """One query about `product`, in a randomly chosen template; None when the template does not fit."""
    kind = rng.choices(
        ("noun", "attributes", "brand_type", "brand", "model", "use", "feature", "synonym"),
        weights=(16, 30, 12, 5, 9, 8, 8, 12),
    )[0]
    scope = {"root": root.name, "category": product.category}
    if kind == "synonym":
        noun = next((n for n in SYNONYMS if n in sub.nouns and contains_phrase(product.title, n)), None)
        return None if noun is None else SeedQuery(SYNONYMS[noun], noun=noun, **scope)
    if kind == "brand":
        department = DEPARTMENT_WORDS.get(root.name, root.name.lower())
        text = _brand_words(rng, product.brand) + (f" {department}" if rng.random() < 0.5 else "")
        return SeedQuery(text, root=root.name, brand=product.brand)
    if kind == "model":
        model = model_line(product, root, sub)
        if sub.models and rng.random() < 0.5:  # a themed line is searched with its type: "pirate ship puzzle"
            words, noun = _type_words(rng, product, root, sub)
            return SeedQuery(f"{model} {words}", model=model, noun=noun, **scope)
        return SeedQuery(
            f"{_brand_words(rng, product.brand)} {model}", root=root.name, brand=product.brand, model=model
        )
    words, noun = _type_words(rng, product, root, sub)
    if kind == "noun":
        return SeedQuery(words, noun=noun, **scope)
    if kind == "brand_type":
        text = f"{_brand_words(rng, product.brand)} {words}"
        return SeedQuery(text, noun=noun, brand=product.brand, **scope)
    if kind == "use":
        use = rng.choice(sub.uses).replace(",", "")
        return SeedQuery(f"{words} {use}", noun=noun, **scope)
    if kind == "feature":
        features = [f for f in sub.features if f in product.description]
        if not features:
            return None
        feature = rng.choice(features)
        phrase = re.sub(r"^(a|an) ", "", feature) if rng.random() < 0.5 else feature
        return SeedQuery(f"{words} with {phrase.replace(',', '')}", noun=noun, feature=phrase, **scope)
    keys = [key for key in product.attributes if key not in UNNAMED]
    if not keys:
        return None
    chosen = rng.sample(keys, min(len(keys), rng.choice((1, 1, 2))))
    if "size" in chosen and "gender" in product.attributes and "gender" not in chosen:
        chosen.append("gender")  # "size 8" means nothing without whose size 8
    before, after = [], []
    for key in sorted(chosen, key=lambda k: (k != "gender", k)):  # gender first: "women's black boots"
        pre, phrase = _attribute_phrase(rng, key, product.attributes[key])
        (before if pre else after).append(phrase)
    text = " ".join([*before, words, *after])
    named = tuple((key, product.attributes[key]) for key in sorted(chosen))
    return SeedQuery(text, noun=noun, attributes=named, **scope)


def _typo(rng: random.Random, text: str) -> str:
    """One slip of the finger in a word of five letters or more: swapped, dropped or doubled."""
    spans = [m.span() for m in re.finditer(r"[a-z]{5,}", text)]
    if not spans:
        return text
    start, end = rng.choice(spans)
    i = rng.randrange(start + 1, end - 1)  # keep the first and last letters: typos rarely hit them
    slip = rng.choice(("swap", "drop", "double"))
    if slip == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if slip == "drop":
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def make_queries(
    rng: random.Random, rows: Sequence[tuple[IndexedProduct, RootCategory, Subcategory]], count: int
) -> list[SeedQuery]:
    queries: list[SeedQuery] = []
    seen: set[str] = set()
    for _ in range(count * 50):
        if len(queries) == count:
            return queries
        query = _make_query(rng, *rng.choice(rows))
        if query is None:
            continue
        text = " ".join(query.text.split())
        if rng.random() < 0.8:
            text = text.lower()
        if rng.random() < 0.1:
            text = _typo(rng, text)
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        queries.append(SeedQuery(**{**query.__dict__, "text": text}))
    raise RuntimeError(f"could not make {count} distinct queries from {len(rows)} products")
