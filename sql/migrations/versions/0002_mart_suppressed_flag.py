"""KPI mart: a suppressed flag per row (small counts, kpis.md)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_mart") as batch:
        batch.add_column(sa.Column("suppressed", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("kpi_mart") as batch:
        batch.drop_column("suppressed")
