"""Alembic migrations: the migrated warehouse matches the table definitions, on both dialects,
and every migration goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from carekpi.migrate import alembic_config, current_revision
from carekpi.warehouse import metadata


def test_migrated_schema_equals_the_table_definitions(warehouse):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(warehouse) == head
    with warehouse.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_every_migration_downgrades_and_upgrades(warehouse):
    with warehouse.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(warehouse) is None
    with warehouse.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with warehouse.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
