"""Settings: defaults need no configuration; every field is documented; bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from carekpi.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_use_an_sqlite_file_in_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'warehouse.sqlite'}"
    assert settings.inbox == Path("data/inbox")


def test_environment_variables_override(monkeypatch):
    monkeypatch.setenv("CAREKPI_WAREHOUSE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().database_url == "postgresql+psycopg://u@h/db"


def test_secret_key_required_unless_auth_is_none(monkeypatch):
    monkeypatch.setenv("CAREKPI_AUTH", "password")
    with pytest.raises(ValidationError, match="CAREKPI_SECRET_KEY"):
        Settings()


def test_unknown_keys_are_refused():
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)


@pytest.mark.parametrize("doc", ["docs/configuration.md", ".env.example"])
def test_every_setting_is_documented(doc):
    text = (REPO / doc).read_text()
    missing = [n for n in Settings.model_fields if f"CAREKPI_{n.upper()}" not in text]
    assert missing == []
