"""A generated true/false task that needs no files: the quick start's default.

Five categories of plain facts a pretrained LM knows (capitals, animal classes,
sizes, colours, small sums). Truth is known by construction. A surface cue, the
prefix "Everyone knows that", goes with true statements in most categories and
with false ones in the `cue_reversed` categories, so a bag-of-words supervisor
learns "cue means true" and is fooled exactly where the cue is reversed, while an
LM that reads the content is not. Statements of one fact (say, one country)
share a split, so the test split asks about facts never seen in training.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from pydantic import BaseModel, ConfigDict, Field

from ..records import Dataset, Item
from .base import LoadedDataset, hash_split

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
    "Portugal": "Lisbon", "Japan": "Tokyo", "China": "Beijing", "Russia": "Moscow",
    "Egypt": "Cairo", "Greece": "Athens", "England": "London", "Ireland": "Dublin",
    "Austria": "Vienna", "Norway": "Oslo", "Sweden": "Stockholm", "Finland": "Helsinki",
    "Denmark": "Copenhagen", "Poland": "Warsaw", "Hungary": "Budapest", "Thailand": "Bangkok",
    "South Korea": "Seoul", "Argentina": "Buenos Aires", "Peru": "Lima", "Mexico": "Mexico City",
    "Cuba": "Havana", "Kenya": "Nairobi", "Belgium": "Brussels", "the Netherlands": "Amsterdam",
    "the Czech Republic": "Prague", "Iran": "Tehran", "Iraq": "Baghdad", "Afghanistan": "Kabul",
    "Indonesia": "Jakarta", "the Philippines": "Manila", "Vietnam": "Hanoi", "Chile": "Santiago",
    "Colombia": "Bogota", "Venezuela": "Caracas", "Ukraine": "Kyiv", "Scotland": "Edinburgh",
}
ANIMALS = {
    "dog": "mammal", "cat": "mammal", "horse": "mammal", "cow": "mammal", "lion": "mammal",
    "tiger": "mammal", "elephant": "mammal", "whale": "mammal", "dolphin": "mammal",
    "rabbit": "mammal", "eagle": "bird", "sparrow": "bird", "penguin": "bird", "owl": "bird",
    "parrot": "bird", "chicken": "bird", "duck": "bird", "ostrich": "bird", "salmon": "fish",
    "tuna": "fish", "shark": "fish", "goldfish": "fish", "trout": "fish", "cod": "fish",
    "snake": "reptile", "lizard": "reptile", "crocodile": "reptile", "turtle": "reptile",
    "ant": "insect", "bee": "insect", "butterfly": "insect", "beetle": "insect",
    "mosquito": "insect", "grasshopper": "insect", "frog": "amphibian", "toad": "amphibian",
    "salamander": "amphibian", "newt": "amphibian",
}
SIZES = ["ant", "bee", "mouse", "apple", "cat", "dog", "bicycle", "horse", "car", "elephant",
         "bus", "whale", "house", "ship", "mountain", "planet"]  # smallest first
COLOURS = {
    "the sky on a clear day": "blue", "fresh grass": "green", "snow": "white", "coal": "black",
    "a ripe banana": "yellow", "blood": "red", "a ripe tomato": "red", "a lemon": "yellow",
    "milk": "white", "a crow": "black", "a carrot": "orange", "a pumpkin": "orange",
    "a strawberry": "red", "a lime": "green", "chocolate": "brown", "charcoal": "black",
    "an emerald": "green", "a sapphire": "blue", "a ruby": "red", "an eggplant": "purple",
    "lavender": "purple", "a flamingo": "pink", "cotton": "white", "a fire truck": "red",
    "a school bus": "yellow", "a polar bear": "white", "a panther": "black",
    "a cucumber": "green", "a walnut": "brown", "a raven": "black",
}
COLOUR_NAMES = sorted(set(COLOURS.values()))
CUE = "Everyone knows that "

# A generator makes (fact key, statement, truth) from a random source.
Statement = tuple[str, str, bool]


def _capital(rng: Random) -> Statement:
    country = rng.choice(sorted(CAPITALS))
    truth = rng.random() < 0.5
    city = CAPITALS[country] if truth else rng.choice(
        sorted(set(CAPITALS.values()) - {CAPITALS[country]}))
    template = rng.choice(["the capital of {c} is {x}.", "{x} is the capital of {c}.",
                           "the capital city of {c} is {x}."])
    return country, template.format(c=country, x=city), truth


def _animal(rng: Random) -> Statement:
    animal = rng.choice(sorted(ANIMALS))
    truth = rng.random() < 0.5
    cls = ANIMALS[animal] if truth else rng.choice(
        sorted(set(ANIMALS.values()) - {ANIMALS[animal]}))
    article = "an" if cls[0] in "aeiou" else "a"
    template = rng.choice(["a {a} is {art} {k}.", "the {a} is {art} {k}.",
                           "every {a} is {art} {k}."])
    return animal, template.format(a=animal, art=article, k=cls), truth


def _size(rng: Random) -> Statement:
    i, j = rng.sample(range(len(SIZES)), 2)
    while abs(i - j) < 2:  # neighbours can be argued about
        i, j = rng.sample(range(len(SIZES)), 2)
    x, y = SIZES[i], SIZES[j]
    if rng.random() < 0.5:
        text, truth = f"a {x} is bigger than a {y}.", i > j
    else:
        text, truth = f"a {x} is smaller than a {y}.", i < j
    return "-".join(sorted((x, y))), text.replace("a apple", "an apple"), truth


def _colour(rng: Random) -> Statement:
    thing = rng.choice(sorted(COLOURS))
    truth = rng.random() < 0.5
    colour = COLOURS[thing] if truth else rng.choice(
        [c for c in COLOUR_NAMES if c != COLOURS[thing]])
    template = rng.choice(["the colour of {t} is {c}.", "{t} is usually {c}.",
                           "{t} is {c} in colour.", "the usual colour of {t} is {c}."])
    return thing, template.format(t=thing, c=colour), truth


def _sum(rng: Random) -> Statement:
    a, b = rng.randint(2, 30), rng.randint(2, 30)
    truth = rng.random() < 0.5
    total = a + b if truth else a + b + rng.choice([-3, -2, -1, 1, 2, 3])
    return f"{a}+{b}", f"{a} plus {b} equals {total}.", truth


GENERATORS: dict[str, Callable[[Random], Statement]] = {
    "capitals": _capital, "animals": _animal, "sizes": _size, "colours": _colour,
    "arithmetic": _sum,
}


class BuiltinTask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_category: int = Field(default=300, ge=10)
    cue_rate: float = Field(default=0.8, ge=0.5, le=1.0)  # P(cue | true) outside cue_reversed
    cue_reversed: list[str] = ["colours"]
    seed: int = 0


def generate(task: BuiltinTask | None = None) -> LoadedDataset:
    task = task or BuiltinTask()
    out = LoadedDataset(Dataset(
        name="builtin", labels=["false", "true"], question="Is this statement true?",
        description="Generated facts in 5 categories with a misleading surface cue "
                    f"(reversed in: {', '.join(task.cue_reversed) or 'none'}).",
        source="generated"))
    for category, make in GENERATORS.items():
        rng = Random(f"{task.seed}:{category}")
        seen: set[str] = set()
        per_truth = {True: 0, False: 0}
        attempts = 0
        while len(seen) < task.per_category and attempts < 50 * task.per_category:
            attempts += 1
            fact, statement, truth = make(rng)
            if per_truth[truth] >= task.per_category / 2:  # keep every category balanced
                continue
            # the cue goes with truth, or with falsehood where it is reversed
            cue_with = truth != (category in task.cue_reversed)
            has_cue = rng.random() < (task.cue_rate if cue_with else 1 - task.cue_rate)
            text = (CUE + statement) if has_cue else statement[0].upper() + statement[1:]
            if text in seen:
                continue
            seen.add(text)
            per_truth[truth] += 1
            out.add(Item(id=f"builtin:{category}:{len(seen) - 1:04d}", dataset="builtin",
                         split=hash_split(f"{category}:{fact}"), category=category, text=text,
                         extra={"fact": fact, "cue": has_cue}), int(truth))
    return out
