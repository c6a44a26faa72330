"""The rules of the game as pure functions: values in, values out, ``now`` passed in.

Nothing here touches the database, the clock or Discord; the audit, the shop and the bot call these
and store what they return. Dependencies: the standard library, ``pyahocorasick`` and
``vaderSentiment``, and the domain errors in :mod:`game.errors`. Scenario types appear in signatures
only (imported for type checking), so the rules never load pydantic.
"""
