"""When audits fall: a season's audits keep to a grid, whatever happens to the process running them.

The grid is ``first_due + k * interval``. An audit that runs late does not push the later ones back,
and audits missed while the bot was down are not run one by one: the next is simply the next slot
after now (the audit that catches up scores everything recorded meanwhile, once).
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["next_on_grid"]


def next_on_grid(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first time after ``now`` on the schedule ``due + k * interval`` (``due`` itself if later)."""
    if due > now:
        return due
    return due + ((now - due) // interval + 1) * interval
