"""Who plays in the sandbox: personas (tendencies, not scripts) and what they say and buy.

A persona only says how likely a citizen is to do something in a tick of the sandbox's clock. What
they say is drawn from the running scenario's own phrases, so a custom pack is played with its own
words; every choice comes from the one ``random.Random`` the sandbox was seeded with.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from game.scenario import CatalogueItem, Scenario


class Talk(StrEnum):
    """What a message is about, in the scenario's terms."""

    APPROVED = "approved"
    PERMIT = "permit"
    FORBIDDEN = "forbidden"
    SMALL_TALK = "small-talk"


class Taste(StrEnum):
    """Which shelf of the shop a persona reaches for."""

    APPROVED = "approved"  # goods the Bureau rewards
    FROWNED = "frowned"  # goods the Bureau punishes
    TRAVEL = "travel"
    ANY = "any"


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    """A citizen's tendencies, as chances.

    Per tick of the sandbox's clock: ``chattiness`` (say something), ``shopping`` (buy one thing),
    ``befriending`` (ask someone new). ``talk`` weighs what a message is about; ``permits`` is the
    chance of asking for a permit before speaking on a topic that needs one; ``accepting`` the chance
    of accepting a friend request; ``appeals`` the chance, after each audit, of appealing a penalty.
    """

    key: str
    motto: str
    chattiness: float
    talk: tuple[tuple[Talk, float], ...]
    shopping: float
    taste: Taste
    befriending: float
    accepting: float
    permits: float
    appeals: float


CAST: tuple[Persona, ...] = (
    Persona(
        key="loyalist",
        motto="praises the Bureau at every turn",
        chattiness=0.75,
        talk=((Talk.APPROVED, 0.8), (Talk.SMALL_TALK, 0.2)),
        shopping=0.05,
        taste=Taste.APPROVED,
        befriending=0.02,
        accepting=0.5,
        permits=0.1,
        appeals=0.02,
    ),
    Persona(
        key="dissident",
        motto="names what must not be named",
        chattiness=0.5,
        talk=((Talk.FORBIDDEN, 0.3), (Talk.PERMIT, 0.3), (Talk.SMALL_TALK, 0.4)),
        shopping=0.03,
        taste=Taste.FROWNED,
        befriending=0.03,
        accepting=0.9,
        permits=0.05,
        appeals=0.25,
    ),
    Persona(
        key="shopper",
        motto="buys first, reads the ledger later",
        chattiness=0.3,
        talk=((Talk.SMALL_TALK, 0.6), (Talk.APPROVED, 0.3), (Talk.PERMIT, 0.1)),
        shopping=0.1,
        taste=Taste.ANY,
        befriending=0.02,
        accepting=0.7,
        permits=0.1,
        appeals=0.05,
    ),
    Persona(
        key="gamer",
        motto="just wants to play video games",
        chattiness=0.4,
        talk=((Talk.SMALL_TALK, 0.6), (Talk.PERMIT, 0.2), (Talk.FORBIDDEN, 0.1), (Talk.APPROVED, 0.1)),
        shopping=0.05,
        taste=Taste.FROWNED,
        befriending=0.04,
        accepting=0.9,
        permits=0.0,
        appeals=0.1,
    ),
    Persona(
        key="socialite",
        motto="befriends everyone, whatever it costs",
        chattiness=0.5,
        talk=((Talk.SMALL_TALK, 0.5), (Talk.APPROVED, 0.3), (Talk.PERMIT, 0.2)),
        shopping=0.03,
        taste=Taste.TRAVEL,
        befriending=0.12,
        accepting=1.0,
        permits=0.2,
        appeals=0.05,
    ),
    Persona(
        key="debater",
        motto="asks for a permit, then speaks their mind",
        chattiness=0.55,
        talk=((Talk.PERMIT, 0.6), (Talk.SMALL_TALK, 0.3), (Talk.APPROVED, 0.1)),
        shopping=0.02,
        taste=Taste.APPROVED,
        befriending=0.03,
        accepting=0.6,
        permits=0.5,
        appeals=0.2,
    ),
    Persona(
        key="lurker",
        motto="reads everything, says little",
        chattiness=0.12,
        talk=((Talk.SMALL_TALK, 0.8), (Talk.APPROVED, 0.2)),
        shopping=0.02,
        taste=Taste.APPROVED,
        befriending=0.01,
        accepting=0.5,
        permits=0.1,
        appeals=0.0,
    ),
)

NAMES: tuple[str, ...] = (
    "ana", "bo", "chen", "dara", "eli", "fei", "gus", "hana", "ivo", "jun", "kai", "lin", "mo",
    "nia", "oz", "pia", "quan", "ria", "sol", "tao", "uma", "vik", "wen", "xia", "yu", "zoe",
)  # fmt: skip


# Family names for the rounds after the first: the 27th citizen is "Ana Li", never "Ana2".
SURNAMES: tuple[str, ...] = ("Li", "Okafor", "Silva", "Novak", "Haddad", "Kim", "Moreau", "Tanaka")


def citizen_name(index: int) -> tuple[str, str]:
    """The ``index``-th citizen's user name and display name, unique up to ``len(NAMES) * (1 +
    len(SURNAMES))`` citizens (more than the sandbox allows): the first names in turn, then each
    first name again with a family name."""
    first = NAMES[index % len(NAMES)]
    round_ = index // len(NAMES)
    if round_ == 0:
        return first, first.capitalize()
    surname = SURNAMES[(round_ - 1) % len(SURNAMES)]
    return f"{first}.{surname.lower()}", f"{first.capitalize()} {surname}"


def cast_for(count: int) -> list[Persona]:
    """``count`` personas, the whole cast in turn, so a small sandbox still has a loyalist and a dissident."""
    return [CAST[index % len(CAST)] for index in range(count)]


_TEMPLATES: dict[Talk, tuple[str, ...]] = {
    Talk.APPROVED: (
        "{p}! That is what this town is about.",
        "Started my day with {p}, as every citizen should.",
        "Let us all remember: {p}.",
        "My grandmother always said {p} keeps a family together.",
        "Nothing but {p} in the square this morning.",
        "Proud to say it out loud: {p}.",
    ),
    Talk.PERMIT: (
        "Honestly, what does everyone think about {p}?",
        "I have been reading about {p} and I have questions.",
        "Can we talk about {p} for a minute?",
        "Hot take on {p}: it matters more than we admit.",
        "My neighbour will not stop arguing about {p}.",
    ),
    Talk.FORBIDDEN: (
        "Does anyone else remember {p}?",
        "My uncle told me a story about {p} last night.",
        "Just saying the words: {p}.",
        "Why is nobody allowed to mention {p}?",
        "Found an old photo about {p} in a drawer.",
    ),
}

_SMALL_TALK: tuple[str, ...] = (
    "Nice weather in the square today.",
    "Anyone up for noodles later?",
    "Has anyone seen my cat? Grey, answers to Mao-Mao.",
    "The 7:40 bus was late again.",
    "Who is bringing snacks to the meeting?",
    "My tomatoes finally came up this week.",
    "Reading a good book about bridges.",
    "Good morning, neighbours!",
    "Is the library open on Sundays?",
    "The new bakery on the corner is excellent.",
    "Just finished a long walk by the river.",
    "Anyone know a good tailor?",
)


@dataclass(frozen=True, slots=True)
class Phrasebook:
    """The running scenario's phrases by kind of talk, and its permit topics."""

    phrases: dict[Talk, tuple[str, ...]]
    permit_topics: tuple[tuple[str, str], ...]  # (key, name)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Phrasebook:
        speech = scenario.speech
        return cls(
            phrases={
                Talk.APPROVED: tuple(p for rule in speech.approved for p in rule.phrases),
                Talk.PERMIT: tuple(p for rule in speech.permit_required for p in rule.phrases),
                Talk.FORBIDDEN: tuple(p for rule in speech.forbidden for p in rule.phrases),
            },
            permit_topics=tuple((rule.key, rule.name) for rule in speech.permit_required),
        )

    def line(self, persona: Persona, rng: random.Random) -> tuple[Talk, str]:
        """Something ``persona`` says, and what it is about."""
        kinds = [kind for kind, _ in persona.talk]
        weights = [weight for _, weight in persona.talk]
        kind = rng.choices(kinds, weights)[0]
        phrases = self.phrases.get(kind, ())
        if kind is Talk.SMALL_TALK or not phrases:
            return Talk.SMALL_TALK, rng.choice(_SMALL_TALK)
        return kind, rng.choice(_TEMPLATES[kind]).format(p=rng.choice(phrases))

    def permit_reason(self, topic_name: str, rng: random.Random) -> str:
        return rng.choice(
            (
                f"I would like to share a considered view on {topic_name}.",
                f"Our book club is discussing {topic_name} this week.",
                f"I promise to speak about {topic_name} with positive energy.",
            )
        )


def appeal_reason(rng: random.Random) -> str:
    return rng.choice(
        (
            "I was quoting someone else, to disagree with them.",
            "That was a joke, and a loyal one.",
            "My friend's conduct is not my conduct.",
            "The Bureau must have misread me.",
            "I bought it as a gift for a model citizen.",
        )
    )


def shelf(catalogue: Sequence[CatalogueItem], taste: Taste) -> list[CatalogueItem]:
    """The items ``taste`` reaches for; the whole shop when that shelf is empty."""
    if taste is Taste.APPROVED:
        chosen = [item for item in catalogue if item.effect > 0 and not item.travel]
    elif taste is Taste.FROWNED:
        chosen = [item for item in catalogue if item.effect < 0]
    elif taste is Taste.TRAVEL:
        chosen = [item for item in catalogue if item.travel]
    else:
        chosen = list(catalogue)
    return chosen or list(catalogue)
