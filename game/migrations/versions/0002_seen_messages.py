"""Messages recorded once: the ids of every message recorded for a season

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seen_message",
        sa.Column("season_id", IdType, autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("citizen_id", IdType, nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["season_id"], ["season.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("season_id", "message_id"),
    )
    with op.batch_alter_table("seen_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_message_citizen_id"), ["citizen_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seen_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_message_citizen_id"))
    op.drop_table("seen_message")
