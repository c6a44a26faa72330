"""The outbox courier: delivers what the game wrote to the outbox to Discord, exactly once.

:mod:`.courier` claims, posts and marks; :mod:`.posts` says how announcements look; :mod:`.roles`
keeps tier roles in sync; :mod:`.debrief` turns the season's report into files.
"""

from bot.courier.courier import MARKER_LOOKBACK, Courier
from bot.courier.post import ChannelRole, DeliveryProblem, Post, Renderer, file_marker

__all__ = ["MARKER_LOOKBACK", "ChannelRole", "Courier", "DeliveryProblem", "Post", "Renderer", "file_marker"]
