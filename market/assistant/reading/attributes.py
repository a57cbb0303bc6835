"""Attribute values a shopper asks for or turns down, read against the catalog's own values: "a tent that
sleeps four" (capacity 4-person), "40 litres or more" (volume 40 L, 55 L, 65 L), "rated to 15 degrees F",
"down filled" (fill: goose down, duck down), "no nonstick" (material: not ceramic nonstick), "for men".

Words are matched as whole phrases (a value, or its last words: "noise cancelling" is "active noise
cancelling"); quantities with units are compared with `pint` ("8 quarts" = "8 qt", "4 people" =
"4-person"), with "or more" / "at least" / "up to" read as bounds. Only the attributes the category at
hand has are considered, so "20 lb" is a kettlebell's weight and not a chair's maximum weight. Colour and
size are read elsewhere (`understanding`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

from msgspec import Struct

from market.assistant.reading import quantities
from market.assistant.reading.amounts import parse_number
from market.assistant.reading.language import english_words, names_no_product
from market.assistant.reading.questions import asks_which
from market.assistant.reading.vocabulary import Vocabulary
from market.assistant.reading.words import LEAVING_OUT

_SKIP = frozenset({"color", "colour", "size"})
# Values of these describe the thing the key names only when it is named: "fine hair", but "ugh fine. queen
# sheets then" says nothing of hair.
_NEEDS_ITS_NOUN = {
    "hair_type": re.compile(r"\bhair\b", re.IGNORECASE),
    "skin_type": re.compile(r"\bskin\b", re.IGNORECASE),
}
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|fifty|hundred)"
# A measure's number in words: "five", "twenty-eight", "forty five" (never two numbers: "one - five")
_WORD_QUANTITY = (
    r"(?:(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty)\s+hundred|"  # "fifteen hundred watts"
    r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]?(?:one|two|three|four|five|six|seven|"
    r"eight|nine)\b)?|(?:a\s+)?hundred|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_UNITS = {
    "person": "person", "persons": "person", "people": "person", "man": "person", "player": "player",
    "players": "player", "piece": "piece", "pieces": "piece", "pc": "piece", "pcs": "piece", "page": "page",
    "pages": "page", "qt": "quart", "quart": "quart", "quarts": "quart", "l": "liter", "litre": "liter",
    "litres": "liter", "liter": "liter", "liters": "liter", "ml": "milliliter", "lb": "pound", "lbs": "pound",
    "pound": "pound", "pounds": "pound", "kg": "kilogram", "oz": "ounce", "in": "inch", "inch": "inch",
    "inches": "inch", '"': "inch", "ft": "foot", "feet": "foot", "foot": "foot", "w": "watt", "watt": "watt",
    "watts": "watt", "lumen": "lumen", "lumens": "lumen", "°f": "degF", "f": "degF", "degrees": "degF",
    "degree": "degF", "degrees f": "degF", "degrees fahrenheit": "degF", "mm": "millimeter", "cm": "centimeter",
    "minutes": "minute", "minute": "minute", "mins": "minute", "min": "minute", "hour": "hour", "hours": "hour",
}  # fmt: skip
_UNIT = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?P<at_least>\bat\s+least\s+|\bminimum\s+(?:of\s+)?|\bover\s+|\bmore\s+than\s+)?"
    rf"(?P<at_most>\bat\s+most\s+|\bup\s+to\s+|\bmaximum\s+(?:of\s+)?|\bless\s+than\s+|\bunder\s+|"
    rf"\b(?:nothing|none|no|not)\s+(?:over|above|more\s+than|bigger\s+than|larger\s+than)\s+)?"
    rf"(?<![\w.])(?P<number>\d+(?:\.\d+)?|{_WORD_QUANTITY})\s*-?\s*(?P<unit>{_UNIT})(?![\w])"
    rf"(?P<after>\s*(?:\+|or\s+more|or\s+bigger|or\s+larger|or\s+above|minimum|min\b|plus|at\s+least|or\s+less|"
    rf"or\s+fewer|or\s+smaller|max\b|maximum|tops|at\s+most))?",
    re.IGNORECASE,
)
# "20 or 28 litres", "twenty or twenty-eight litres": the unit said once, for both numbers.
_UNIT_SAID_ONCE = re.compile(
    rf"(?<![\w.])(?P<first>\d+(?:\.\d+)?|{_WORD_QUANTITY})(?P<joint>\s*(?:or|/)\s*)"
    rf"(?=(?:\d+(?:\.\d+)?|{_WORD_QUANTITY})\s*-?\s*(?P<unit>{_UNIT})(?![\w]))",
    re.IGNORECASE,
)
_SLEEPS = re.compile(
    rf"\b(?:sleeps|fits|for)\s+(?P<number>\d+|{_NUMBER_WORDS})(?:\s+(?:of\s+us|adults))?\b"
    rf"|\b(?:there'?s|there\s+are|we'?re|we\s+are)\s+(?P<people>\d+|{_NUMBER_WORDS})(?:\s+of\s+us)?\b"
    rf"|\b(?P<us>\d+|{_NUMBER_WORDS})\s+of\s+us\b",
    re.IGNORECASE,
)
# One person, said without a number: "it's just me going", "solo trips", "camping on my own".
_ALONE = re.compile(
    r"\b(?:just|only)\s+(?:me|myself|for\s+me)\b(?!\s+and\b)|\bsolo\b|\bby\s+myself\b|\bon\s+my\s+own\b",
    re.IGNORECASE,
)
# "for my husband": a grown man; "for my wife": a grown woman (a son or a daughter may want kids' things)
_FOR_A_MAN = r"for\s+(?:my|our|her|his|the)\s+(?:husband|hubby|boyfriend|bf|fianc[ée]|dad|father|grandad|granddad|grandpa)"
_FOR_A_WOMAN = (
    r"for\s+(?:my|our|her|his|the)\s+(?:wife|missus|missis|girlfriend|gf|fianc[ée]e|mum|mom|mother|grandma|gran|nan)"
)
_GENDER = {
    "men": r"\b(?:men'?s?|man'?s|male|(?<!you\s)(?<!u\s)(?<!ya\s)guys?|gents?|for\s+him)\b",  # not "you guys"
    "women": r"\b(?:women'?s?|woman(?:'?s)?|ladies|lady'?s|female|for\s+her)\b",
    "unisex": r"\bunisex\b",
}
# Said of a kind that comes in genders only (a jigsaw for my mum is no women's jigsaw).
_GENDER_OF_WHOM = {"men": rf"\b{_FOR_A_MAN}\b", "women": rf"\b{_FOR_A_WOMAN}\b"}
_NEGATION = re.compile(
    r"(?:\bnot|\bno|\bnon|\bnone|\bwithout|\bexcept|\bavoid(?:ing|s)?|\bnothing|\bnever|\bhate|\brather\s+than|"
    rf"\bscrap|\bditch|\bforget(?:\s+about)?|\bnever\s*mind|\bskip|{LEAVING_OUT}|\bexclud(?:e|ing)|"
    r"\binstead\s+of|\bother\s+than|\banything\s+but|"
    r"\b(?:don'?t|do\s+not|doesn'?t|does\s+not)\s+(?:want|like|need|trust|have|has|contain|use|come\s+with)|"
    r"\b(?:isn'?t|aren'?t|is\s+not|are\s+not)|\bstay(?:ing)?\s+away\s+from|\bsteer(?:ing)?\s+clear\s+of|\bget(?:ting)?\s+rid\s+of|"
    r"\ballergic\s+to|\bfree\s+(?:of|from)|\bmoving\s+away\s+from|\bdone\s+with|\bsick\s+of|\bfed\s+up\s+with|"
    r"\bnot\s+(?:(?:too|very|that|really|so)\s+)?(?:keen|fussed|sold|big|into|(?:a\s+)?(?:big\s+)?fan)(?:\s+(?:on|of))?|"
    r"\bcan'?t\s+stand|\b(?:rips?|ripping|tears?|tearing|destroys?|destroying|shreds?|shredding|wrecks?|"
    r"chews?\s+(?:up|through))(?:\s+(?:apart|up|through))?)"
    r"(?:\s+|\s*/\s*)(?:[\w'-]+(?:\s+|\s*/\s*)){0,2}$",  # "no feathers/down": both turned down
    re.IGNORECASE,
)
# Turned down after it is named: "synthetic is too bulky", "nylon ones are rubbish".
_DISLIKED_AFTER = re.compile(
    r"^(?:\s+(?:ones|one|stuff|fill|kind))?(?:\s*(?:is|are|'s|'re)\s+(?:way\s+|far\s+|just\s+)?"
    r"(?:too\b|not\s+for\s+me|no\s+good|rubbish|awful|terrible|useless|a\s+no)|"
    r"\s+(?:hurt|hurts|suck|sucks|annoy|annoys|irritate|irritates|never\s+fit|don'?t\s+fit|fall\s+out|"
    r"rusts?|leaks?|chips?|peels?|flakes?|cracks?|stinks?|smells?\s+(?:awful|bad|weird)|"
    r"(?:makes?|made|gives?|gave)\s+(?:me|him|her|us|them)\s+(?:sneeze|itch|itchy|sweat|sweaty|sick|cough|break\s+out)|"
    r"(?:is|are|'s|'re)\s+(?:too\s+)?(?:itchy|scratchy)))",  # "down makes me sneeze", "wool is itchy"
    re.IGNORECASE,
)


def turned_down(text: str, start: int, end: int) -> bool:
    """Whether what `text[start:end]` names is turned down: "not nylon", "rather than bluetooth",
    "synthetic is too bulky", "earbuds hurt my ears"."""
    return bool(_NEGATION.search(text[max(0, start - 40) : start]) or _DISLIKED_AFTER.match(text[end:]))


def turned_down_word(text: str, word: str) -> bool:
    """Whether `word` (or its plural or singular), wherever `text` says it, is turned down: "destroys every
    plush toy. need a dog toy that isn't plush" turns "plush" down, not "toy"."""
    base = re.escape(word[:-1] if word.lower().endswith("s") and len(word) > 3 else word)
    # "toy" and "toys" are one kind said twice
    found = list(re.finditer(rf"(?<![\w-]){base}(?:e?s)?(?![\w-])", text, re.IGNORECASE))
    # (a kind worn out is a kind needed again: "my staffie destroys every toy in minutes")
    return bool(found) and all(
        turned_down(text, match.start(), match.end())
        and not (
            _WORN_OUT.search(text[max(0, match.start() - 40) : match.start()])
            and _PHRASE_ENDS.match(text[match.end() :])  # (not "destroys every plush toy": plush is out)
        )
        for match in found
    )


_PHRASE_ENDS = re.compile(r"\s*(?:$|[,.;:!?)]|(?:in|within|for|and|so|but|like|all|every)\b)", re.IGNORECASE)


_WORN_OUT = re.compile(  # (not "destroys anything plush": plush is what goes)
    r"\b(?:rips?|ripping|tears?|tearing|destroys?|destroying|shreds?|shredding|wrecks?|chews?\s+(?:up|through))"
    r"(?:\s+(?:apart|up|through))?\s+(?:every|all|each|his|her|their|my|our|the|a|any)\s+(?:[\w'-]+\s+)?$",
    re.IGNORECASE,
)


class AttributeReading(Struct, frozen=True, kw_only=True):
    wanted: dict[str, tuple[str, ...]] = {}
    excluded: dict[str, tuple[str, ...]] = {}




def read_attributes(text: str, vocabulary: Vocabulary, category: str | None) -> AttributeReading:
    """The attribute values `text` asks for and turns down, among those the category's products have."""
    keys = _keys_for(vocabulary, category, text)
    wanted: dict[str, list[str]] = {}
    excluded: dict[str, list[str]] = {}
    said = [
        *_words(
            text,
            keys,
            vocabulary.attribute_values,
            of_whom=category is not None,
            kinds_within={key: vocabulary.values_of(category, key) for key in keys} if category else None,
        ),
        *_first_words(text, keys, vocabulary.attribute_values, vocabulary.names_a_kind),
    ]
    for key, value, start, end in said:
        if asks_which(text, start, end):
            continue  # "what fabric is it?": the attribute asked about, no value wanted
        target = excluded if turned_down(text, start, end) else wanted
        if value not in target.get(key, []):
            target.setdefault(key, []).append(value)
    # Values asked for as the only ones ("terracotta ones only", "only wool"): others of theirs said beside
    # them are turned down ("..., the plastic ones look a bit sad").
    only: dict[str, set[str]] = {}
    for key, value, start, end in said:
        if value in wanted.get(key, []) and (_ONLY_AFTER.match(text[end:]) or _ONLY_BEFORE.search(text[:start])):
            only.setdefault(key, set()).update(
                other for other_key, other, other_start, _ in said if other_key == key and other_start == start
            )
    # (people counted for a kind of product: "a tent for me and my wife", not "me and my boyfriend, our kitchen")
    counts_people = bool(category and " > " in category)
    for key, values in _quantities(text, keys, vocabulary.attribute_values, counts_people=counts_people).items():
        wanted.setdefault(key, []).extend(values)
    rated = _AGES_AND_UP.search(text) if "age_range" in keys else None
    if rated and (
        marked := [  # "board games for kids 8 and up": those marked 8+
            value for value in vocabulary.attribute_values.get("age_range", ()) if _from_age(value) == int(rated["n"])
        ]
    ):
        wanted["age_range"] = marked
    elif "age_range" in keys and (age := _youngest(text)) is not None:
        # (among the ratings the kind's products have: a building set for a 10-year-old is one rated 8+)
        suitable = [value for value in vocabulary.values_of(category, "age_range") if _from_age(value) <= age]
        if suitable:  # "puzzle for my niece, she just turned nine": puzzles rated 8+ (none is 3+ or 6+)
            wanted["age_range"] = suitable
    elif "age_range" in keys and _CHILD.search(text):  # "jigsaw puzzles for a child": not the adults' ones
        grown = [
            value
            for value in vocabulary.attribute_values.get("age_range", ())
            if _CHILDHOOD_ENDS < _from_age(value) < 99 or value.lower() == "adult"
        ]
        if grown:
            excluded.setdefault("age_range", []).extend(grown)
    for key, chosen in only.items():  # "terracotta ones only, the plastic ones look a bit sad": not plastic
        others = [value for value in wanted[key] if value not in chosen]
        wanted[key] = [value for value in wanted[key] if value in chosen]
        if others:
            excluded.setdefault(key, []).extend(value for value in others if value not in excluded.get(key, []))
    if (
        "height" in keys
        and "height" not in wanted
        and _TALL.search(text)
        and not turned_down_word(text, "tall")
        and (tall := _top_third(vocabulary.attribute_values.get("height", ())))
    ):
        wanted["height"] = tall  # "a really tall cat tree": the tallest third of the heights sold
    for key, value in _bare_decimals(text, keys, vocabulary.attribute_values):
        if value not in wanted.get(key, []):
            wanted.setdefault(key, []).append(value)  # "mechanical pencils then, 0.5": 0.5 mm tips
    for key, value in _last_words_turned_down(text, keys, vocabulary.attribute_values):
        if value not in wanted.get(key, []) and value not in excluded.get(key, []):
            excluded.setdefault(key, []).append(value)  # "nothing nonstick": ceramic nonstick neither
    # "no leather of any kind": bonded and vegan leather neither; "anything but nylon": nor nylon webbing
    for key, values in excluded.items():
        values += [
            other
            for other in vocabulary.attribute_values.get(key, ())
            if any(
                other.lower().endswith(f" {value.lower()}")
                or (" " not in value and other.lower().startswith(f"{value.lower()} "))  # "nylon webbing"
                for value in values
            )
            and other not in wanted.get(key, ())  # "enamelled ones only, bare cast iron rusts"
        ]
    return AttributeReading(
        wanted={key: tuple(dict.fromkeys(values)) for key, values in wanted.items()},
        excluded={key: tuple(dict.fromkeys(values)) for key, values in excluded.items()},
    )


_TALL = re.compile(r"\b(?:tall|taller|tallest)\b", re.IGNORECASE)


def _top_third(values: Sequence[str]) -> list[str]:
    """The highest third of the values that read as quantities ("48 in", "60 in" of 8 to 60 in)."""
    read = [(quantities.parse(value), value) for value in values]
    measured = [(quantity, value) for quantity, value in read if quantity is not None and not quantity.dimensionless]
    amounts = quantities.comparable([quantity for quantity, _ in measured]) if len(measured) >= 2 else None
    if amounts is None:  # fewer than two, or in units that do not convert to each other
        return []
    ordered = [value for _, (_, value) in sorted(zip(amounts, measured, strict=True), key=lambda pair: pair[0])]
    return ordered[len(ordered) * 2 // 3 :]


_BARE_DECIMAL = re.compile(r"(?<![\w.$€£¥])(\d+\.\d+)(?![\d.]|\s*(?:[a-z%°\"']|\$))", re.IGNORECASE)


def _bare_decimals(text: str, keys: list[str], values: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(key, value) for a decimal said without its unit that begins the values of one attribute only:
    "0.5" among pencils is the 0.5 mm tip."""
    found = []
    for match in _BARE_DECIMAL.finditer(text):
        number = match[1]
        owners = {
            key: [value for value in values.get(key, ()) if str(value).split(" ", 1)[0] == number]
            for key in keys
        }
        owners = {key: matching for key, matching in owners.items() if matching}
        if len(owners) == 1:
            ((key, matching),) = owners.items()
            found += [(key, value) for value in matching]
    return found


def _last_words_turned_down(
    text: str, keys: list[str], values: Mapping[str, tuple[str, ...]]
) -> list[tuple[str, str]]:
    """(key, value) of the values whose last word is said turned down on its own: "nothing nonstick" turns
    "ceramic nonstick" down. Only a word that is no value of its own."""
    found = []
    for key in keys:
        own = {str(value).lower() for value in values.get(key, ())}
        for value in values.get(key, ()):
            words = str(value).lower().split()
            last = words[-1] if len(words) > 1 else None
            if not last or len(last) < 4 or last in own:
                continue
            for match in re.finditer(rf"(?<![\w-]){re.escape(last)}(?![\w-])", text, re.IGNORECASE):
                said = text[: match.end()].lower()
                if any(said.endswith(str(other).lower()) for other in values[key] if other != value):
                    continue  # "bare cast iron rusts": the value said is cast iron, not vinyl-coated iron
                if turned_down(text, match.start(), match.end()):
                    found.append((key, value))
                    break
    return found


_AGE = re.compile(
    rf"\b(?P<n>\d{{1,2}}|{_NUMBER_WORDS})[\s-]*(?:years?|yrs?|yo)(?:[\s-]*olds?)?\b|"
    rf"\b(?:aged?|turning|turns)\s+(?P<m>\d{{1,2}}|{_NUMBER_WORDS})\b|"
    r"\b(?P<word>newborn|baby|babies|infant|toddler|toddlers|teen|teens|teenager|teenagers)\b|"
    r"\b(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th)\s+birthday\b|"
    r"\b(?P<th>\d{1,2})(?:st|nd|rd|th)\s+birthday\b|"
    rf"\b(?:lad|boy|girl|kid|child|son|daughter|nephew|niece|grandson|granddaughter)\s+of\s+(?P<of>\d{{1,2}}|{_NUMBER_WORDS})\b|"
    r"\bunder\s+(?P<under>\d{1,2})s\b|"
    # "my niece ..., she is 9, and ...": a child's age said plainly (not "he's 6 foot", "she's 3 months")
    rf"\b(?:she|he)(?:'s|\s+is|\s+was|(?:\s+just)?\s+turned)\s+(?P<is>\d{{1,2}}(?![.,]\d)|{_NUMBER_WORDS})(?:\s*(?:now|next\s+\w+))?"
    r"(?=\s*(?:[,.;!?]|and\b|but\b|so\b|$))",
    re.IGNORECASE,
)
# An age rating said as shops mark it: "kids 8 and up", "ages 6+", "for 10 and over".
_AGES_AND_UP = re.compile(
    r"\b(?:kids?|children|child|ages?|aged|for)\s+(?P<n>\d{1,2})\s*(?:\+|and\s+(?:up|over|older)|or\s+older|plus)",
    re.IGNORECASE,
)
_AGE_OF = {"newborn": 0, "baby": 0.5, "babies": 0.5, "infant": 0.5, "toddler": 1, "toddlers": 1, "teen": 13,
           "teens": 13, "teenager": 13, "teenagers": 13}  # fmt: skip


_BIRTHDAY = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "fifth": 5, "5th": 5, "sixth": 6, "6th": 6}  # fmt: skip


# A child of no age said: any age under a teenager's.
_CHILD = re.compile(
    r"\b(?:for|a|my|our|the|his|her|their)\s+(?:little\s+)?(?:child|children|kids?|kiddos?)\b", re.IGNORECASE
)
_CHILDHOOD_ENDS = 12


# A baby's age in months: "she's 7 months", "my 9 month old".
_MONTHS_OLD = re.compile(rf"\b(?P<n>\d{{1,2}}|{_NUMBER_WORDS})[\s-]*(?:months?|mos?)(?:[\s-]*old)?\b", re.IGNORECASE)


def _youngest(text: str) -> float | None:
    """The youngest age a message says someone is, in years ("kids aged 9 and 11": 9; "a toddler": 1; "my
    baby, she's 7 months": 7/12, the months said rather than the word "baby")."""
    months = [number for match in _MONTHS_OLD.finditer(text) if (number := parse_number(match["n"])) is not None]
    if months:
        return float(min(months)) / 12
    ages: list[float] = []
    for match in _AGE.finditer(text):
        if match["word"]:
            ages.append(_AGE_OF[match["word"].lower()])
        elif match["nth"]:  # "her first birthday": she turns one
            ages.append(_BIRTHDAY[match["nth"].lower()])
        elif match["th"]:  # "her 7th birthday"
            ages.append(int(match["th"]))
        elif match["under"]:  # "safe for under 3s": younger than three
            ages.append(max(int(match["under"]) - 1, 0))
        elif (number := parse_number(match["n"] or match["m"] or match["of"] or match["is"])) is not None:
            ages.append(int(number))
    ages += [int(n) for n in re.findall(r"\band\s+(\d{1,2})\b", text)] if ages else []
    return min(ages) if ages else None


def _from_age(value: str) -> float:
    """The youngest age an `age_range` value suits: "8+" -> 8, "3-5" -> 3, "6+ months" -> 0.5; 99 when
    unreadable."""
    found = re.match(r"\s*(\d{1,2})", value)
    if not found:
        return 99
    return int(found[1]) / 12 if "month" in value.lower() else int(found[1])


def _keys_for(vocabulary: Vocabulary, category: str | None, text: str = "") -> list[str]:
    if category:
        found = vocabulary.attribute_keys_of(category)
        if found:
            return [key for key in vocabulary.attribute_values if key in found and key not in _SKIP]
    return [
        key
        for key in vocabulary.attribute_values
        if key not in _SKIP and (key not in _NEEDS_ITS_NOUN or _NEEDS_ITS_NOUN[key].search(text))
    ]


def _words(
    text: str,
    keys: Iterable[str],
    values: Mapping[str, tuple[str, ...]],
    *,
    of_whom: bool = False,
    kinds_within: Mapping[str, tuple[str, ...]] | None = None,
) -> list[tuple[str, str, int, int]]:
    """(key, value, start, end) for each textual value named: whole values, and values named by their last
    words where no whole value was said; `of_whom`: a gender told by whom the thing is for ("for my wife");
    `kinds_within`: the values the kind asked for has, among which kinds of a value said are its own too."""
    found: list[tuple[str, str, int, int]] = []
    for key in keys:
        if key == "gender":
            for value, pattern in _GENDER.items():
                match = re.search(pattern, text, re.IGNORECASE)
                if not match and of_whom and value in _GENDER_OF_WHOM:
                    match = re.search(_GENDER_OF_WHOM[value], text, re.IGNORECASE)
                if value in values.get(key, ()) and match:
                    found.append((key, value, match.start(), match.end()))
            continue
        textual = [value for value in values.get(key, ()) if quantities.parse(value) is None]
        exact = [(value, match) for value in textual if (match := _find(value, text))]
        # "natural rubber" names that value, not also "rubber": a match inside a longer one is dropped.
        exact = [
            (value, match)
            for value, match in exact
            if not any(
                other.start() <= match.start() and match.end() <= other.end() and other.span() != match.span()
                for _, other in exact
            )
        ]
        found += [(key, value, match.start(), match.end()) for value, match in exact]
        named_whole = {value for value, _ in exact}
        # A kind of the value said: "stainless steel" also wants powder-coated stainless steel ("leather"
        # wants no faux leather)
        # (unless the shopper tells the kinds apart: "enameled ones only, bare cast iron rusts"; and only
        # among the kind's own values: "rubber or nylon" of dog toys is no reflective nylon collar)
        for value in textual if kinds_within is not None else ():
            if value not in kinds_within.get(key, ()):
                continue
            for whole, match in exact:
                kind_of = value.lower().removesuffix(whole.lower())
                if (
                    kind_of != value.lower()
                    and kind_of[-1:] in (" ", "-")
                    and not _NOT_THE_THING.search(kind_of)
                    and not _PLAIN_BEFORE.search(text[: match.start()])
                    and not _NOT_THE_THING.search(text[max(0, match.start() - 12) : match.start()])  # "fake leather"
                    and not any(_find(word, text) for word in re.findall(r"[a-z]{4,}", kind_of))
                ):
                    found.append((key, value, match.start(), match.end()))
        heads: dict[str, list[str]] = {}
        for value in textual:
            words = value.lower().split()
            for size in range(len(words) - 1, 0, -1):
                heads.setdefault(" ".join(words[-size:]), []).append(value)
        for head, named in sorted(heads.items(), key=lambda item: len(item[0]), reverse=True):
            # (a single everyday word names one value only as that value's own word: "they stretch out on
            # me" is no nylon stretch)
            distinctive = (
                len(head.split()) >= 2
                or len(named) >= 2
                or (len(head) >= 5 and not _said_as_verb(head, text) and (not _everyday(head) or _names_kind_of(head, text)))
            )
            match = _find(head, text) if distinctive and len(head) >= 4 else None
            # "down filled, synthetic is too bulky": "down" names values besides the "synthetic" said whole.
            if match and not any(_overlap(match, other) for _, other in exact):
                found += [
                    (key, value, match.start(), match.end()) for value in named if value not in named_whole
                ]
                break
    return found


_CLAUSE_OPENS = re.compile(r"(?:^|[,.;:!?]|\s-)\s*(?:(?:and|but|in|ideally|preferably)\s+)?$", re.IGNORECASE)
_CLAUSE_ENDS = re.compile(r"\s*(?:(?:please|pls|ideally|if\s+poss(?:ible)?)\s*)?(?:[,.;!?]|\s-\s|$)", re.IGNORECASE)
_PLAIN_BEFORE = re.compile(r"\b(?:bare|plain|regular|normal|raw|uncoated|basic|just)\s+$", re.IGNORECASE)
_NOT_THE_THING = re.compile(
    r"\b(?:faux|fake|imitation|vegan|synthetic|artificial|non|pu|pleather|simulated)\b|\bto\s*$", re.IGNORECASE
)


def _first_words(
    text: str,
    keys: Iterable[str],
    values: Mapping[str, tuple[str, ...]],
    names_a_kind: Callable[[str], bool] = lambda word: False,
) -> list[tuple[str, str, int, int]]:
    """(key, value, start, end) for values named by a distinctive first word that no other value starts with
    and that is no everyday word ("damascus": Damascus steel). Only a value turned down ("not damascus"),
    asked for as the only ones ("enamelled ones only") or said of the kind asked for ("merino tops": merino
    wool); a wanted "walnut" alone is a handle, not also walnut wood, and "I'm vegan" wants no vegan leather. A value's last word no other value ends with names it too when
    turned down as a kind of the thing ("none of the rope ones": cotton rope)."""
    common = english_words()
    found: list[tuple[str, str, int, int]] = []
    whole_values = {value.lower() for key in keys for value in values.get(key, ())}  # "walnut": a handle
    for key in keys:
        firsts: dict[str, list[str]] = {}
        for value in values.get(key, ()):
            words = re.split(r"[\s-]+", value.lower())  # "battery-powered": named by "battery" too
            if len(words) >= 2 and len(words[0]) >= 5 and (words[0] not in common or "-" in value):
                firsts.setdefault(words[0], []).append(value)
                if words[0].endswith("ed") and len(words[0]) >= 7:  # "nothing with carpet": carpeted board
                    firsts.setdefault(words[0][:-2], []).append(value)
        for first, named in firsts.items():
            if not (match := _find(first, text)):
                continue
            if len(named) == 1 and (
                turned_down(text, match.start(), match.end())
                or _ONLY_THOSE.match(text[match.end() :])
                or (_CLAUSE_OPENS.search(text[: match.start()]) and _CLAUSE_ENDS.match(text[match.end() :]))
            ):  # "queen sheet set, percale. the crisp kind": said as a clause of its own
                found.append((key, named[0], match.start(), match.end()))
            elif (
                first not in whole_values
                and first not in common  # "water bottles" want no water-resistant ones
                and (kind := _NEXT_WORD.match(text[match.end() :]))
                and names_a_kind(kind[1])
                and not turned_down(text, match.start(), match.end())
            ):  # "merino tops": merino wool or a merino blend, whichever tops are made of
                found.extend((key, value, match.start(), match.end()) for value in named)
        # "none of the rope ones": the one value ending in that word (cotton rope), turned down
        lasts: dict[str, list[str]] = {}
        for value in values.get(key, ()):
            if len(words := value.lower().split()) >= 2 and len(words[-1]) >= 4:
                lasts.setdefault(words[-1], []).append(value)
        for last, named in lasts.items():
            if (
                len(named) == 1
                and (match := re.search(rf"\b{re.escape(last)}(?=\s+(?:ones?|kind|stuff|type)\b)", text, re.IGNORECASE))
                and turned_down(text, match.start(), match.end())
            ):
                found.append((key, named[0], match.start(), match.end()))
    return found


def _said_as_verb(word: str, text: str) -> bool:
    """Whether `word` follows a subject or "to": "they stretch out on me", "it would fade"."""
    return bool(
        re.search(
            rf"\b(?:i|we|you|they|it|he|she|which|that|to|will|would|can|could|don't|doesn't|won't)\s+"
            rf"(?:always\s+|just\s+|all\s+)?{re.escape(word)}\b",
            text,
            re.IGNORECASE,
        )
    )


def _everyday(word: str) -> bool:
    return word in english_words() or names_no_product(word)


def _names_kind_of(word: str, text: str) -> bool:
    """Whether `word` is said as a kind of the thing: "the stretch ones", "stretch fabric", "a stretch"."""
    return bool(re.search(rf"\b(?:an?|the|in|no|not)\s+{re.escape(word)}\b|\b{re.escape(word)}\s+(?:ones?|kind|type|stuff)\b", text, re.IGNORECASE))


_NEXT_WORD = re.compile(r"\s+([a-z][\w'-]*)", re.IGNORECASE)
# "enamelled ones only": the products of that value, asked for by its first word
_ONLY_THOSE = re.compile(  # (and "stainless ones?": those asked about)
    r"\s+(?:ones?\s+)?only\b|\s+ones\s+(?:please|pls|plz)\b|\s+ones\s*\?", re.IGNORECASE
)
_ONLY_AFTER = re.compile(r"\s+(?:ones?\s+)?only\b", re.IGNORECASE)
_ONLY_BEFORE = re.compile(r"\b(?:only|just)\s+(?:the\s+)?$", re.IGNORECASE)


def _overlap(one: re.Match[str], other: re.Match[str]) -> bool:
    return one.start() < other.end() and other.start() < one.end()


def _find(phrase: str, text: str) -> re.Match[str] | None:
    """`phrase` said in `text`, its last word also as a plural ("for beginners") or, when long enough, as
    an adjective ("citrusy")."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", phrase) if word]
    if not words:
        return None
    ending = "(?:s|es|y)?" if len(words[-1]) >= 5 and words[-1][-1].isalpha() else "(?:s|es)?"
    pattern = r"(?<![\w-])" + r"[\s-]*".join(words) + ending + r"(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE)


# The people a shopper lists ("fit me, my wife and our two kids"): one each, or the number said.
_ONE_PERSON = (
    r"(?:me|myself|(?:my|the|our)\s+(?:partner|wife|husband|missus|missis|hubby|girlfriend|boyfriend|gf|bf|"
    r"fianc[ée]e?|mate|friend|son|daughter|kid|child|mum|mom|dad|brother|sister|other\s+half|better\s+half))"
)
_PEOPLE = r"(?:kids|children|littlies|little\s+ones|boys|girls|sons|daughters|friends|mates|teens|teenagers)"
_MEMBER = rf"(?:(?:(?:my|our|the)\s+)?(?:\d|{_NUMBER_WORDS})\s+{_PEOPLE}|(?:my|our|the)\s+{_PEOPLE}|{_ONE_PERSON})(?!\w)"
_PARTY = re.compile(
    rf"\b{_MEMBER}(?:\s*(?:,|and|&|\+|plus)\s*(?:,\s*)?(?:and\s+)?{_MEMBER})+\b"
    rf"|\bfamily\s+of\s+(?P<family>\d|{_NUMBER_WORDS})\b|\bthe\s+(?P<us>two|three|four|five|six|\d)\s+of\s+us\b",
    re.IGNORECASE,
)


def party_size(text: str) -> int | None:
    """How many people a message lists as one party: "me and my partner" 2, "me, the missus and our two
    littlies" 4, "a family of four" 4; None when it lists nobody, or one person."""
    match = _PARTY.search(text)
    if match is None:
        return None
    if said := match["family"] or match["us"]:
        number = parse_number(said)
        return int(number) if number else None
    total = 0
    for member in re.finditer(_MEMBER, match.group(0), re.IGNORECASE):
        counted = re.match(rf"(?:(?:my|our|the)\s+)?(\d|{_NUMBER_WORDS})\s+{_PEOPLE}", member.group(0), re.IGNORECASE)
        if counted:
            total += int(parse_number(counted[1]) or 1)
        else:
            total += 2 if re.search(rf"{_PEOPLE}$", member.group(0), re.IGNORECASE) else 1  # "our kids": two
    return total if total >= 2 else None


def _quantities(
    text: str, keys: list[str], values: Mapping[str, tuple[str, ...]], *, counts_people: bool = True
) -> dict[str, list[str]]:
    """Values of the category's numeric attributes that a quantity in `text` names or bounds; the people
    a message lists count only where the kind of product is known (`counts_people`)."""
    asked: list[tuple[quantities.pint.Quantity, str]] = []
    text = _UNIT_SAID_ONCE.sub(lambda found: f"{found['first']} {found['unit']}{found['joint']}", text)
    for match in _QUANTITY.finditer(text):
        number = parse_number(match["number"])
        if number is None:
            continue
        bound = "="
        after = (match["after"] or "").lower()
        if match["at_least"] or any(
            word in after for word in ("+", "more", "bigger", "larger", "above", "min", "plus", "least")
        ):
            bound = ">="
        elif match["at_most"] or any(
            word in after for word in ("less", "fewer", "smaller", "max", "tops", "most")
        ):
            bound = "<="
        unit = _UNITS[match["unit"].lower()]
        asked.append((quantities._units().Quantity(float(number), unit), bound))
    measured = len(asked)  # quantities said with their unit; people counted come after
    for match in _SLEEPS.finditer(text):
        number = parse_number(match["number"] or match["people"] or match["us"])
        if number is not None:
            asked.append((quantities._units().Quantity(float(number), "person"), "="))
    party = party_size(text) if counts_people else None  # "me, the missus and our two littlies": four
    if counts_people and party is None and _ALONE.search(text):  # "a tent, it's just me going"
        asked.append((quantities._units().Quantity(1.0, "person"), "="))
    if party is not None:
        asked.append((quantities._units().Quantity(float(party), "person"), "="))
    found: dict[str, list[str]] = {}
    by_unit: set[str] = set()  # keys a quantity said with its unit gave values to
    for index, (quantity, said) in enumerate(asked):
        for key in keys:
            if index >= measured and key in by_unit:
                continue  # "cooks for 6 every sunday. 5 quarts at least": the quarts say the pot's capacity
            # A limit holds what is said: "I'm about 290 lb" needs a chair rated to 290 lb or more
            bound = ">=" if said == "=" and key.startswith("max_") else said
            matching = [value for value in values.get(key, ()) if _meets(value, quantity, bound)]
            if matching:
                found.setdefault(key, []).extend(matching)
                if index < measured:
                    by_unit.add(key)
                break
    if party is not None and not any(key in found for key in keys if key not in by_unit):
        # no tent for exactly three: those with room for them
        roomy = quantities._units().Quantity(float(party), "person")
        for key in (key for key in keys if key not in by_unit):
            if matching := [value for value in values.get(key, ()) if _meets(value, roomy, ">=")]:
                found[key] = matching
                break
    return found


def _meets(value: str, asked: quantities.pint.Quantity, bound: str) -> bool:
    ends = quantities.parse_range(value)
    if (
        ends is not None and ends[0] is not ends[1] and bound == "="
    ):  # "6 people" fits "2-6" and "3-8 players"
        low, high = (quantities.comparable([asked, end]) for end in ends)
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    have = quantities.parse(value)
    if have is None:
        return False
    if have.dimensionless and not asked.dimensionless:  # "1000" pieces, as a seller wrote the count
        have = quantities._units().Quantity(have.magnitude, asked.units)
    pair = quantities.comparable([asked, have])
    if pair is None:
        return False
    wanted, actual = pair
    if bound == ">=":
        return actual >= wanted
    if bound == "<=":
        return actual <= wanted
    return abs(actual - wanted) <= abs(wanted) * Decimal("0.001")
