"""Sign-in for the dashboard's Flask server: the login form, the session, roles, rate limits.

Every request but the login form, /healthz and static assets needs a signed-in user unless
auth=none (the local demo, answered on loopback addresses only). Sessions are Flask's signed
cookies (itsdangerous) holding the user name and a stamp of the password hash, so removing a user
or changing a password ends their sessions; the role is read from the warehouse on each request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta
from html import escape
from urllib.parse import quote, urlsplit

from cachelib import BaseCache
from flask import Flask, Response, g, has_request_context, redirect, request, session
from sqlalchemy.engine import Engine

from carekpi import users
from carekpi.settings import Settings
from dashboard import cache as shared

# Served to anyone: the form itself, what monitoring polls, the look of the form.
PUBLIC_PREFIXES = ("/login", "/healthz", "/assets/", "/_favicon.ico")
# Answered with 401 (not a redirect to the form): machine clients and Dash's own requests.
API_PREFIXES = ("/_dash-", "/_reload-hash", "/api/")
WINDOW_S = 15 * 60
DATA_MANAGER = "data-manager"

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Sign in · carekpi</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body><main id="main" class="login"><h1>Sign in to carekpi</h1>{message}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<p><label for="username">User name</label><br>
<input id="username" name="username" autocomplete="username" required maxlength="64"></p>
<p><label for="password">Password</label><br>
<input id="password" name="password" type="password" autocomplete="current-password" required
 maxlength="1024"></p>
<p><button type="submit">Sign in</button></p></form></main></body></html>"""


def current_role() -> str | None:
    """The signed-in user's role in this request (every role when auth=none), else None.
    Outside a request (a layout built by a test or script, shown to no one) every role."""
    return g.get("role") if has_request_context() else DATA_MANAGER


def is_data_manager() -> bool:
    """True when the request's user may see quarantine contents and refused rows."""
    return current_role() == DATA_MANAGER


def _stamp(password_hash: str, secret: str) -> str:
    """A short keyed digest of the password hash: a new password ends the old sessions."""
    return hmac.new(secret.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would lend the sign-in page to phishing."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or \
            parts.path.startswith("//") or "\\" in (target or "") or len(target or "") > 2000:
        return "/"
    return target or "/"


class Gate:
    """The sign-in rules of one app: who is asking, may they, and the login form."""

    def __init__(self, settings: Settings, engine: Engine, cache: BaseCache):
        self.settings, self.engine, self.cache = settings, engine, cache

    # --- who is asking ------------------------------------------------------------------------
    def _session_user(self) -> tuple[str, str] | None:
        username, stamp = session.get("user"), session.get("stamp")
        if not isinstance(username, str) or not isinstance(stamp, str):
            return None
        row = users.user_record(self.engine, username)
        if row is None or not hmac.compare_digest(
                stamp, _stamp(row.password_hash, self.settings.secret_key)):
            return None
        return username, row.role

    def _proxy_user(self) -> tuple[str, str] | None:
        if request.remote_addr not in self.settings.trusted_proxies:
            return None
        username = request.headers.get(self.settings.proxy_user_header or "", "")
        role = users.user_role(self.engine, username) if username else None
        return (username, role) if role else None

    def identify(self) -> Response | tuple | None:
        """before_request: set g.user and g.role, or answer 401/302/403 instead."""
        if self.settings.auth == "none":
            if not _is_loopback(request.remote_addr):
                return "carekpi runs without sign-in (CAREKPI_AUTH=none): local use only\n", 403
            g.user, g.role = "local", DATA_MANAGER
            return None
        if request.path.startswith(PUBLIC_PREFIXES):
            return None
        found = self._proxy_user() if self.settings.auth == "proxy" else self._session_user()
        if found:
            g.user, g.role = found
            return None
        if request.path.startswith(API_PREFIXES) or request.method != "GET":
            return {"error": "sign in first"}, 401
        full = request.full_path if request.query_string else request.path
        return redirect("/login?next=" + quote(full, safe="/"), 302)

    # --- the login form -----------------------------------------------------------------------
    def _form(self, message: str = "", status: int = 200, next_path: str = "/"):
        session.setdefault("csrf", secrets.token_urlsafe(24))
        note = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
        return LOGIN_PAGE.format(message=note, csrf=session["csrf"],
                                 next=escape(_safe_next(next_path))), status

    def _too_many(self, keys: list[tuple[str, int]]) -> bool:
        return any((shared.get(self.cache, key) or 0) >= limit for key, limit in keys)

    def _count_failure(self, keys: list[tuple[str, int]]) -> None:
        for key, _limit in keys:
            try:
                self.cache.add(key, 0, timeout=WINDOW_S)  # the window opens at the 1st failure
                self.cache.inc(key)
            except Exception:  # an unreachable Redis: the in-form delay of argon2 remains
                pass

    def login(self):
        """GET: the form. POST: check the password, rate-limited per user name and address."""
        if self.settings.auth != "password":
            return "sign-in is done by the reverse proxy\n", 404
        if request.method == "GET":
            return self._form(next_path=request.args.get("next", "/"))
        form = request.form
        username, password = form.get("username", ""), form.get("password", "")
        next_path = form.get("next", "/")
        token = session.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token, form.get("csrf", "")):
            return self._form("The form had expired: please sign in again.", 400, next_path)
        name_key = "login:user:" + hashlib.sha256(username[:64].encode()).hexdigest()
        keys = [(name_key, self.settings.login_attempts),
                (f"login:addr:{request.remote_addr}", 4 * self.settings.login_attempts)]
        if self._too_many(keys):
            page, _ = self._form("Too many wrong passwords: try again in 15 minutes.", 429,
                                 next_path)
            return page, 429, {"Retry-After": str(WINDOW_S)}
        role = users.authenticate(self.engine, username, password[:1024]) \
            if len(username) <= 64 else None
        if role is None:
            self._count_failure(keys)
            return self._form("The user name or password is wrong.", 401, next_path)
        row = users.user_record(self.engine, username)
        session.clear()  # a new session on sign-in: no fixation
        session.permanent = True
        session.update(user=username, stamp=_stamp(row.password_hash, self.settings.secret_key))
        return redirect(_safe_next(next_path), 303)

    def logout(self):
        """Forget the session and show the form."""
        session.clear()
        return redirect("/login", 303)


def install(server: Flask, settings: Settings, engine: Engine, cache: BaseCache) -> Gate:
    """Configure the session cookie and put the sign-in rules in front of every request."""
    server.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_NAME="carekpi_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # Strict would drop the session on links from e-mail
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # no callback or form needs more
    )
    gate = Gate(settings, engine, cache)
    server.before_request(gate.identify)
    server.add_url_rule("/login", "login", gate.login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", gate.logout, methods=["POST", "GET"])
    return gate
