"""The no-Docker stack (scripts/run-stack) against the local PostgreSQL and Redis: migrations,
the scheduler and gunicorn start; a feed dropped into the inbox reaches the API within one poll
interval (plus the load); /healthz turns 503 when PostgreSQL becomes unreachable.

PostgreSQL is reached through a TCP relay this test owns, so "unreachable" is the relay closing,
not the shared server stopping.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis

from carekpi import users
from carekpi_demo import generate
from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
POLL_SECONDS = 5
SECRET = "k" * 40
PASSWORD = "stack test password"


class Relay:
    """A TCP relay to PostgreSQL that can be cut: every connection through it is closed."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.sockets = target, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, cookie: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _sign_in(base: str) -> str:
    """The session cookie of a sign-in (sent by hand: the cookie is Secure, this is plain http)."""
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(f"{base}/login", timeout=30) as response:
        form = response.read().decode()
        first = response.headers["Set-Cookie"].split(";")[0]
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    data = urllib.parse.urlencode({"username": "ana", "password": PASSWORD, "csrf": csrf,
                                   "next": "/"}).encode()
    request = urllib.request.Request(f"{base}/login", data=data, headers={"Cookie": first})
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as exc:
        assert exc.code == 303, exc.code
        return exc.headers["Set-Cookie"].split(";")[0]
    raise AssertionError("sign-in did not redirect")


def _wait(predicate, timeout_s: float, step: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_run_stack_loads_a_dropped_feed_and_reports_an_unreachable_warehouse(
        warehouse_url, tmp_path):
    url, schema = warehouse_url
    if schema is None:
        pytest.skip("the production stack runs on PostgreSQL")
    try:
        redis.Redis(socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    relay = Relay(("127.0.0.1", 5432))
    relayed = url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}") + \
        f"?options=-csearch_path%3D{schema}"
    port = _free_port()
    data = tmp_path / "data"
    env = {**os.environ, "CAREKPI_WAREHOUSE_URL": relayed, "CAREKPI_DATA_DIR": str(data),
           "CAREKPI_AUTH": "password", "CAREKPI_SECRET_KEY": SECRET,
           "CAREKPI_CACHE_URL": "redis://127.0.0.1:6379/15",
           "CAREKPI_POLL_CRON": f"*/{POLL_SECONDS} * * * * *",
           "CAREKPI_BIND": f"127.0.0.1:{port}", "CAREKPI_WORKERS": "2", "CAREKPI_THREADS": "2",
           "CAREKPI_HEARTBEAT_FILE": str(data / "scheduler.heartbeat"),
           "CAREKPI_BIN": str(Path(os.sys.executable).parent)}
    from carekpi.warehouse import make_engine

    users.add_user(make_engine(url, schema=schema), "ana", PASSWORD, "viewer")
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "stack.log").open("w")
    stack = subprocess.Popen([str(REPO / "scripts" / "run-stack")], env=env, cwd=tmp_path,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert _wait(lambda: _get(f"{base}/healthz")[0] == 200, 120), \
            (tmp_path / "stack.log").read_text()[-3000:]
        cookie = _sign_in(base)
        rows = f"{base}/api/v1/rows?kpi=ea_rate&level=network"
        status, before = _get(rows, cookie)
        assert status == 200 and before["total"] == 0
        assert _get(rows)[0] == 401  # and nothing without the session

        generate(data / "inbox", months=1, end_month="2025-06")
        dropped = time.monotonic()
        after = _wait(lambda: _get(rows, cookie)[1].get("total"), 180, step=1)
        took = time.monotonic() - dropped
        assert after == 8, (after, (tmp_path / "stack.log").read_text()[-4000:])  # 8 networks
        health = _get(f"{base}/healthz")[1]
        assert health["status"] == "ok" and health["latest_load_id"] >= 1
        print(f"feed visible in the API {took:.1f} s after it was dropped "
              f"(poll every {POLL_SECONDS} s)")

        relay.cut()
        status, report = _wait(lambda: (lambda r: r if r[0] == 503 else None)(
            _get(f"{base}/healthz")), 30)
        assert status == 503 and report["warehouse"] == "unreachable"
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
        relay.cut()
        redis.Redis(db=15).flushdb()
