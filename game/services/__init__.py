"""Repository and service functions: a session (or engine) and keyword-only arguments in, frozen values out.

Every function takes the caller's ``AsyncSession`` and works inside the caller's transaction (open it with
:func:`game.db.transaction`); a :class:`game.errors.GameError` means the transaction must be rolled back,
which ``transaction`` does. Time is always passed in as ``now``.
"""
