"""Require flags: an absent dependency skips a test with its reason, or fails it under CI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    REQUIRE_GOLDEN,
    REQUIRE_POSTGRES,
    REQUIRE_REAL_DATA,
    real_file,
    require_or_skip,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("flag", [REQUIRE_POSTGRES, REQUIRE_REAL_DATA, REQUIRE_GOLDEN])
def test_absent_dependency_skips_with_its_reason_unless_required(monkeypatch, flag) -> None:
    monkeypatch.delenv(flag, raising=False)
    monkeypatch.setenv("CI", "true")  # CI alone no longer decides: only the require flags do
    with pytest.raises(pytest.skip.Exception, match="folder /nowhere is absent"):
        require_or_skip("folder /nowhere is absent", flag)
    for off in ("", "0", "false", "no"):
        monkeypatch.setenv(flag, off)
        with pytest.raises(pytest.skip.Exception):
            require_or_skip("folder /nowhere is absent", flag)
    monkeypatch.setenv(flag, "1")
    with pytest.raises(pytest.fail.Exception, match=rf"folder /nowhere is absent \({flag} is"):
        require_or_skip("folder /nowhere is absent", flag)


def test_missing_real_file_fails_when_real_data_is_required(monkeypatch) -> None:
    monkeypatch.setenv(REQUIRE_REAL_DATA, "1")
    with pytest.raises(pytest.fail.Exception, match="no/such/file.csv"):
        real_file("no/such/file.csv")
    monkeypatch.delenv(REQUIRE_REAL_DATA)
    with pytest.raises(pytest.skip.Exception, match="real public file not present"):
        real_file("no/such/file.csv")


def test_ci_script_exports_every_require_flag() -> None:
    """`.ci/run` sets the flags itself, whatever the CI service's environment holds."""
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    before_make = script.split("make test")[0]
    exported = set(re.findall(r"\b(CAREKPI_REQUIRE_\w+)=1\b", before_make))
    assert exported == {REQUIRE_POSTGRES, REQUIRE_REAL_DATA, REQUIRE_GOLDEN}
    # and they reach make: run the script's environment part with `make` replaced by `env`
    shown = subprocess.run(["bash", "-c", before_make + "env"], capture_output=True, text=True,
                           check=True, cwd=REPO).stdout
    for flag in exported:
        assert f"{flag}=1" in shown.splitlines()
