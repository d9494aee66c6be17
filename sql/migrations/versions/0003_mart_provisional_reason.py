"""KPI mart: why a value is provisional or withheld (incomplete inputs, late submissions)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_mart") as batch:
        batch.add_column(sa.Column("provisional_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kpi_mart") as batch:
        batch.drop_column("provisional_reason")
