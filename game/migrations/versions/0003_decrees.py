"""Decrees: which of a season's decrees took effect when, issued by whom, revoked when

Revision ID: 0003_decrees
Revises: 0002
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_decrees"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "decree",
        sa.Column("id", IdType, nullable=False),
        sa.Column("season_id", IdType, nullable=False),
        sa.Column("decree_key", sa.String(length=40), nullable=False),
        sa.Column("decree_name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.BigInteger(), nullable=True),
        sa.Column("took_effect_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_audit", sa.Integer(), nullable=False),
        sa.Column("until_audit", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.Column("revoked_after_audit", sa.Integer(), nullable=True),
        sa.Column("reversed_entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["season_id"], ["season.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decree", schema=None) as batch_op:
        batch_op.create_index("ix_decree_season", ["season_id", "id"], unique=False)
        batch_op.create_index(
            "uq_decree_timeline_once",
            ["season_id", "decree_key"],
            unique=True,
            sqlite_where=sa.text("source = 'timeline'"),
            postgresql_where=sa.text("source = 'timeline'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("decree", schema=None) as batch_op:
        batch_op.drop_index("uq_decree_timeline_once")
        batch_op.drop_index("ix_decree_season")
    op.drop_table("decree")
