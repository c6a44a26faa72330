"""Scenario packs (TOML) shipped with Citizen Score."""
