"""Run a loopback Discord in the foreground, for trying a bot by hand.

    python -m tests.support.loopback --guilds 2 --shards 2

It prints the three settings to point a bot at it, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from tests.support.loopback.protocol import shard_of
from tests.support.loopback.server import LoopbackDiscord


async def serve_forever(guilds: int, shards: int, citizens: int) -> None:
    async with LoopbackDiscord(guilds=guilds, shards=shards, citizens=citizens) as server:
        print(f"DISCORD_API_BASE={server.api_base}")
        print(f"DISCORD_GATEWAY_URL={server.gateway_url}")
        print(f"DISCORD_TOKEN={server.token}")
        for guild in server.guilds:
            print(f"# guild {guild.id} {guild.name!r}: shard {shard_of(guild.id, shards)} of {shards}")
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.loopback", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--guilds", type=int, default=1, help="guilds the bot is in (default 1)")
    parser.add_argument(
        "--shards", type=int, default=1, help="shards GET /gateway/bot recommends (default 1)"
    )
    parser.add_argument("--citizens", type=int, default=20, help="members of each guild (default 20)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.guilds, args.shards, args.citizens))


if __name__ == "__main__":
    main()
