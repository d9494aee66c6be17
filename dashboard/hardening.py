"""Security headers, and clean refusals of hostile requests, for the dashboard's Flask server.

The content security policy is the narrowest Dash 4 works under in Chromium: scripts only from
this site plus the hashes of Dash's own inline scripts (no 'unsafe-inline', no 'unsafe-eval');
styles need 'unsafe-inline' because plotly and AG Grid write <style> elements at run time.
"""

from __future__ import annotations

import logging

import dash
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
MAX_QUERY = 4096  # no page link needs more; a 100,000-character parameter is refused
BAD_REQUEST = {"error": "the request is not a valid dashboard request"}
# Errors a callback raises on values of the wrong shape (a number where a code was expected).
INPUT_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def content_security_policy(app: dash.Dash) -> str:
    """The CSP header value for `app` (its inline scripts allowed by hash)."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _is_input(item) -> bool:
    """{id, property[, value]}; a string value no longer than an address may be."""
    return isinstance(item, dict) and isinstance(item.get("id"), str | dict) \
        and isinstance(item.get("property"), str) \
        and not (isinstance(item.get("value"), str) and len(item["value"]) > MAX_QUERY)


def _inputs_ok(items) -> bool:
    """A list of {id, property[, value]}; a pattern-matching input is a list of those."""
    return isinstance(items, list) and all(
        _is_input(i) or (isinstance(i, list) and all(_is_input(j) for j in i)) for i in items)


def callback_body_ok(body) -> bool:
    """True when a /_dash-update-component body has the shape Dash's renderer sends."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    outputs = body.get("outputs")
    if not (isinstance(outputs, dict) or
            (isinstance(outputs, list) and all(isinstance(o, dict | list) for o in outputs))):
        return False
    return _inputs_ok(body.get("inputs")) and _inputs_ok(body.get("state", [])) and \
        isinstance(body.get("changedPropIds", []), list)


def install(app: dash.Dash) -> None:
    """Add the headers to every response and refuse malformed requests with 400."""
    server: Flask = app.server

    @server.before_request
    def refuse_malformed():
        if len(request.query_string) > MAX_QUERY:
            return "The address is too long.\n", 400
        if request.path == CALLBACK_PATH and request.method == "POST" and \
                not callback_body_ok(request.get_json(silent=True)):
            return BAD_REQUEST, 400
        return None

    @server.after_request
    def headers(response: Response) -> Response:
        # Built per response: Dash adds the pages' clientside scripts after create_app.
        response.headers["Content-Security-Policy"] = content_security_policy(app)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
        response.headers.pop("Server", None)
        return response

    @server.errorhandler(Exception)
    def clean_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        if request.path == CALLBACK_PATH and isinstance(exc, INPUT_ERRORS):
            log.warning("callback refused a malformed input: %r", exc)
            return BAD_REQUEST, 400
        log.exception("unexpected error answering %s", request.path)
        return {"error": "internal error"}, 500
