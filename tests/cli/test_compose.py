"""docker-compose.yml parses and names the stack of issue 14: services, commands, volumes,
healthchecks, start order (migrations once, first); the Dockerfile runs gunicorn unprivileged;
.env.example holds no secret. (Docker cannot run here: scripts/run-stack is tested instead.)"""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_the_services_their_commands_and_images():
    services = _compose()["services"]
    assert set(services) == {"warehouse", "cache", "migrate", "etl", "dashboard"}
    assert re.fullmatch(r"postgres:\d+", services["warehouse"]["image"])  # pinned major
    assert services["cache"]["image"].startswith("redis:")
    assert services["migrate"]["command"] == ["carekpi", "db", "upgrade"]
    assert services["etl"]["command"] == ["carekpi", "etl", "schedule"]
    assert services["dashboard"]["command"] == [
        "gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.app:server"]
    env = services["dashboard"]["environment"]
    assert {"CAREKPI_WORKERS", "CAREKPI_THREADS", "CAREKPI_CACHE_URL", "CAREKPI_SECRET_KEY",
            "CAREKPI_WAREHOUSE_URL"} <= set(env)
    assert env["CAREKPI_CACHE_URL"] == "redis://cache:6379/0"


def test_volumes_healthchecks_and_start_order():
    compose = _compose()
    services = compose["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["warehouse"]["volumes"]
    assert {"inbox:/data/inbox", "archive:/data/archive", "quarantine:/data/quarantine"} <= \
        set(services["etl"]["volumes"])
    assert set(compose["volumes"]) >= {"pgdata", "inbox", "archive", "quarantine"}
    for name in ("warehouse", "cache", "etl", "dashboard"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["dashboard"]["healthcheck"]["test"])
    for name in ("etl", "dashboard"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["warehouse"] == {"condition": "service_healthy"}
    assert services["dashboard"]["depends_on"]["cache"] == {"condition": "service_healthy"}
    assert services["migrate"]["depends_on"]["warehouse"] == {"condition": "service_healthy"}
    assert services["dashboard"]["ports"] == ["127.0.0.1:8050:8050"]


def test_the_image_runs_gunicorn_unprivileged_and_the_example_env_holds_no_secret():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert 'CMD ["gunicorn", "-c", "python:dashboard.gunicorn_conf"' in dockerfile
    example = (REPO / ".env.example").read_text()
    set_lines = [line for line in example.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
    assert set_lines == []  # every line a comment: nothing to leak, nothing to forget
    assert not re.search(r"(SECRET_KEY|PASSWORD)=\S", example)
