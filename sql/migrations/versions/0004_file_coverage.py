"""File coverage: spell facts keep the coverage of the file that gave them; loads record theirs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:00:00

spell_fact gains coverage_period and coverage_org (in its key: files of different coverage add
up) and emergency_discharges (emergency spells closed in the row, read by discharge month).
Existing rows came from files that restated whole admission months, so their coverage is their
admission month for every provider (''). etl_coverage records each load's coverage units.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEYS = ["practice_code", "admission_period", "discharge_period", "sex", "age_band"]
MEASURES = ["admissions", "emergency_admissions", "acsc_emergency_admissions",
            "emergency_bed_days", "emergency_los_sq_sum", "emergency_stays_7plus",
            "emergency_stays_21plus", "emergency_long_stay_bed_days"]


def _spell_table(name: str, with_coverage: bool) -> None:
    keys = [*KEYS, "coverage_period", "coverage_org"] if with_coverage else KEYS
    measures = [*MEASURES, "emergency_discharges"] if with_coverage else MEASURES
    op.create_table(
        name,
        sa.Column("practice_code", sa.String(length=16), nullable=False),
        sa.Column("admission_period", sa.String(length=7), nullable=False),
        sa.Column("discharge_period", sa.String(length=7), nullable=False),
        sa.Column("sex", sa.String(length=3), nullable=False),
        sa.Column("age_band", sa.String(length=7), nullable=False),
        *([sa.Column("coverage_period", sa.String(length=7), nullable=False,
                     server_default=""),
           sa.Column("coverage_org", sa.String(length=16), nullable=False, server_default="")]
          if with_coverage else []),
        *[sa.Column(m, sa.Integer(), nullable=True) for m in measures],
        sa.Column("load_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint(*keys, name=f"{name}_pkey"),
    )


def _swap(new: str) -> None:
    """Replace spell_fact by the table `new` (renamed, with its index and key name)."""
    with op.batch_alter_table("spell_fact", schema=None) as batch_op:
        batch_op.drop_index("ix_spell_fact_discharge")
    op.drop_table("spell_fact")
    op.rename_table(new, "spell_fact")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE spell_fact RENAME CONSTRAINT "{new}_pkey" TO "spell_fact_pkey"')
    with op.batch_alter_table("spell_fact", schema=None) as batch_op:
        batch_op.create_index("ix_spell_fact_discharge", ["discharge_period"], unique=False)


def upgrade() -> None:
    _spell_table("spell_fact_v4", with_coverage=True)
    columns = ", ".join([*KEYS, "coverage_period", "coverage_org", *MEASURES,
                         "emergency_discharges", "load_id"])
    op.execute(
        f"INSERT INTO spell_fact_v4 ({columns}) SELECT {', '.join(KEYS)}, admission_period, '', "
        f"{', '.join(MEASURES)}, CASE WHEN discharge_period <> '' THEN emergency_admissions "
        "ELSE 0 END, load_id FROM spell_fact")
    _swap("spell_fact_v4")
    op.create_table(
        "etl_coverage",
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=48), nullable=False),
        sa.Column("org_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("load_id", "table_name", "org_code", "period"),
    )


def downgrade() -> None:
    op.drop_table("etl_coverage")
    _spell_table("spell_fact_v3", with_coverage=False)
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    op.execute(
        f"INSERT INTO spell_fact_v3 ({', '.join([*KEYS, *MEASURES, 'load_id'])}) "
        f"SELECT {', '.join(KEYS)}, {sums}, MAX(load_id) FROM spell_fact "
        f"GROUP BY {', '.join(KEYS)}")
    _swap("spell_fact_v3")
