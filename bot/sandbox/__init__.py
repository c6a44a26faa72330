"""The sandbox: play a whole season offline, in a simulated server, and debrief it.

``citizen-score sandbox`` (and ``make demo``) builds the real bot with ``create_bot``, seats it in a
SimCord guild with a moderator and simulated citizens who play through the bot's own commands and
buttons, runs the audits on an accelerated clock, and writes the season's report.
"""

from bot.sandbox._cli import run_sandbox
from bot.sandbox._run import SandboxConfig, SandboxResult, play_season

__all__ = ["SandboxConfig", "SandboxResult", "play_season", "run_sandbox"]
