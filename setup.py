"""Package layout that pyproject.toml alone cannot express.

The scenario packs live in ``data/`` at the top of the tree, where a moderator looks for them, and are
installed as the package ``citizen_score_data`` so an installed bot finds them from any directory.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["game", "game.*", "bot", "bot.*", "web", "web.*"]),
        "citizen_score_data",
    ],
    package_dir={"citizen_score_data": "data"},
)
