"""Configuration, from the environment and ``.env``.

One class per concern, as the README's configuration table lists them. The token has no default: the
bot cannot run without one, and ``make demo`` never needs it.
"""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from game.db import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot's token (required to run).")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLite file or PostgreSQL URL.")
    discord_api_base: str | None = Field(
        default=None,
        description="REST base of a Discord-compatible server, e.g. http://127.0.0.1:8080/api/v10",
    )
    discord_gateway_url: str | None = Field(
        default=None, description="Gateway of a Discord-compatible server, e.g. ws://127.0.0.1:8080/gateway"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    dev_guild_id: int | None = Field(
        default=None, description="Sync slash commands to this guild only (instant updates while developing)."
    )
    instance_name: str | None = Field(
        default=None, description="Names this process in audit claims when several share one database."
    )

    web_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve the public pages on this port (unset: no web server).",
    )
    web_host: str = Field(default="127.0.0.1", description="The address the web server listens on.")
    public_url: str | None = Field(
        default=None,
        description="The address people reach the pages at, used in links (https://scores.example).",
    )
    web_secret: SecretStr | None = Field(
        default=None, description="Signs the moderators' debrief links (unset: no debrief links)."
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator(
        "discord_api_base",
        "discord_gateway_url",
        "dev_guild_id",
        "web_port",
        "public_url",
        "web_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
