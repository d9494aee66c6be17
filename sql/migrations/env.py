"""Alembic environment: migrates the warehouse on the connection `carekpi db upgrade` hands in."""

from alembic import context

from carekpi.warehouse import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters via table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
