"""Audits: the Bureau reviews a season's files in one batch, once, in one transaction.

One module per job:

* :mod:`.run`: the entry points, the claim (exactly once, across processes), the season's schedule;
* :mod:`.steps`: speech, consumption, finance and the new scores (steps 1-3 and 5);
* :mod:`.social`: the friends' penalties in SQL (step 4);
* :mod:`.announcements`: the outbox rows (step 6): role changes, the bulletin, the final standings;
* :mod:`.books`: the compiled rules, each citizen's state, the ledger rows as they are clamped;
* :mod:`.driver`: the bulk statements, straight to the database driver.

The rules themselves (matching speech, gating rewards, clamping, finances, the friends' formula, the
grid of audit times) are pure functions in :mod:`game.rules`; the audit calls them.

Speed: the big reads and writes go to the driver; on SQLite, statements whose results the audit does
not read run on the driver's thread while Python scores; cyclic garbage collection is paused while an
audit runs. ``bench/audit_bench.py`` measures it.
"""

from game.services.audits.run import AUDIT_CACHE_KIB, AuditResult, run_audit_now, run_due_audit
from game.services.audits.social import FRIEND_RULE_KEY
from game.services.audits.steps import UNPAID_RULE_KEY

__all__ = [
    "AUDIT_CACHE_KIB",
    "FRIEND_RULE_KEY",
    "UNPAID_RULE_KEY",
    "AuditResult",
    "run_audit_now",
    "run_due_audit",
]
