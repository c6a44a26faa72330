"""Scenario packs: every number of the game, as data.

A pack is a TOML file in ``data/`` (installed as the package ``citizen_score_data``), validated here
into a frozen :class:`Scenario`. A season keeps its own copy, ``scenario.model_dump(mode="json")``,
restored with :func:`restore_scenario` (or ``Scenario.model_validate``); moderators' edits go through
the ``with_*`` functions, which return a new, re-validated Scenario and never change the old one.

A pack that breaks a rule is refused with :class:`~game.errors.ScenarioError`, one line per problem:
``data/classic.toml: tiers[2].min_score: must be 650, one above tiers[1].max_score, ...``.
"""

from game.scenario.edits import (
    with_item_added,
    with_item_price,
    with_item_removed,
    with_phrase_added,
    with_phrase_removed,
    with_sentiment_enabled,
    with_topic_added,
    with_topic_delta,
    with_topic_removed,
)
from game.scenario.fields import TopicKind
from game.scenario.loading import (
    available_scenarios,
    load_scenario,
    load_scenario_file,
    parse_scenario,
    restore_scenario,
)
from game.scenario.model import (
    ApprovedTalk,
    CatalogueItem,
    EconomyRules,
    ForbiddenTopic,
    FriendRules,
    PermitRules,
    PermitTopic,
    RewardRules,
    Scenario,
    ScenarioSummary,
    ScoreRules,
    SeasonDefaults,
    SentimentRule,
    SpeechRules,
    Tier,
)
from game.scenario.timeline import Decree, EffectKind, Timeline
from game.vocabulary import Dimension

__all__ = [
    "ApprovedTalk",
    "CatalogueItem",
    "Decree",
    "Dimension",
    "EconomyRules",
    "EffectKind",
    "ForbiddenTopic",
    "FriendRules",
    "PermitRules",
    "PermitTopic",
    "RewardRules",
    "Scenario",
    "ScenarioSummary",
    "ScoreRules",
    "SeasonDefaults",
    "SentimentRule",
    "SpeechRules",
    "Tier",
    "Timeline",
    "TopicKind",
    "available_scenarios",
    "load_scenario",
    "load_scenario_file",
    "parse_scenario",
    "restore_scenario",
    "with_item_added",
    "with_item_price",
    "with_item_removed",
    "with_phrase_added",
    "with_phrase_removed",
    "with_sentiment_enabled",
    "with_topic_added",
    "with_topic_delta",
    "with_topic_removed",
]
