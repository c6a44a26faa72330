"""Fixtures of the services tests."""

from tests.support.races import engines

__all__ = ["engines"]
