"""``citizen-score``: run the bot, serve the public pages, migrate the database, print the invite
link, play offline."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import logging
import signal
import sys
from collections.abc import Sequence

import discord
from pydantic import ValidationError

from bot.logs import configure_logging
from bot.settings import Settings

log = logging.getLogger("citizen_score")

MISSING_CREDENTIALS_HELP = (
    "DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in the environment or in .env "
    "(README, 'Running on Discord'). To try the game without Discord, run `make demo`: it needs no token."
)


def required_permissions() -> discord.Permissions:
    """Exactly what the bot uses: post and embed, attach cards and reports, manage the tier roles."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        manage_roles=True,
        use_application_commands=True,
    )


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(
        client_id, permissions=required_permissions(), scopes=("bot", "applications.commands")
    )


def client_id_from_token(token: str) -> int | None:
    """A bot token's first part is its user id, base64-encoded; for bots that is the application id."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper()
        print(f"citizen-score: configuration error in {field}: {first['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


async def _run(settings: Settings, token: str) -> None:
    from bot.app import create_bot

    bot = create_bot(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop() -> None:
        log.info("Shutting down")
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        waiter = asyncio.create_task(stopping.wait())
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            waiter.cancel()
            runner.result()  # re-raise a login or connection failure
        else:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)


def cmd_run(_args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(f"citizen-score: {MISSING_CREDENTIALS_HELP}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(settings, settings.discord_token.get_secret_value().strip()))
    except discord.LoginFailure:
        print(
            "citizen-score: Discord refused the token. Copy it again from the Developer Portal.",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print(
            "citizen-score: enable the Message Content and Server Members intents for the bot in the "
            "Developer Portal (Bot page), then start it again.",
            file=sys.stderr,
        )
        return 2
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from game import migrations
    from game.db import create_engine

    settings = load_settings()
    configure_logging(settings.log_level)

    async def migrate() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrations.upgrade(engine)
            return await migrations.current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(migrate())
    print(f"Database is at revision {revision}.")
    return 0


def cmd_invite_url(args: argparse.Namespace) -> int:
    client_id = args.client_id
    if client_id is None:
        settings = load_settings()
        token = settings.discord_token.get_secret_value() if settings.discord_token else ""
        client_id = client_id_from_token(token) if token else None
    if client_id is None:
        print(
            "citizen-score: give --client-id (the Application ID from the Developer Portal) "
            "or set DISCORD_TOKEN.",
            file=sys.stderr,
        )
        return 2
    print(invite_url(client_id))
    return 0


async def _serve_web(settings: Settings) -> None:
    from bot.utils.web import web_config
    from game import migrations
    from game.db import create_engine
    from web import create_app, start_site

    engine = create_engine(settings.database_url)
    try:
        await migrations.upgrade(engine)
        config = web_config(settings)
        runner = await start_site(create_app(engine, config), config)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        log.info("Shutting down the web server")
        await runner.cleanup()
    finally:
        await engine.dispose()


def cmd_web(_args: argparse.Namespace) -> int:
    """The public pages alone, from the database (for deployments whose bot runs elsewhere)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.web_port is None:
        print(
            "citizen-score: set WEB_PORT (the port to serve the pages on) to run the web server.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_serve_web(settings))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import run_sandbox

    return run_sandbox(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citizen-score", description="Citizen Score, a social-credit role-play for Discord."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot on Discord (needs DISCORD_TOKEN)").set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    sub.add_parser("web", help="serve the public pages alone (needs WEB_PORT)").set_defaults(func=cmd_web)
    invite = sub.add_parser("invite-url", help="print the link that adds the bot to a server")
    invite.add_argument("--client-id", type=int, help="the Application ID (default: read from DISCORD_TOKEN)")
    invite.set_defaults(func=cmd_invite_url)
    sandbox = sub.add_parser("sandbox", help="play a whole season offline in a simulated server")
    add_sandbox_arguments(sandbox)
    sandbox.set_defaults(func=cmd_sandbox)
    return parser


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--citizens", type=int, default=12, help="how many simulated citizens play (default 12)"
    )
    parser.add_argument(
        "--hours",
        type=float,
        default=None,
        help="season length in game time (default 2; in the preview, as long as --minutes)",
    )
    parser.add_argument("--scenario", default="classic", help="scenario pack (default classic)")
    parser.add_argument("--seed", type=int, default=2015, help="same seed, same season (default 2015)")
    parser.add_argument(
        "--out", default=None, help="folder for the season report (default: a new one under sandbox-report/)"
    )
    parser.add_argument("--preview", action="store_true", help="open SimCord's browser preview to play along")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="with --preview: how many real minutes the season lasts (default 25)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the standings and the report path")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
