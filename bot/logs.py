"""How every command of the program logs: one format, Discord's HTTP chatter kept at INFO or above."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S"
    )
    logging.getLogger("discord.http").setLevel(max(logging.getLevelName(level), logging.INFO))
