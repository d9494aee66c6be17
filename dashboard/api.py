"""The read-only analyst API under /api/v1/: the KPI catalogue, organisations and KPI mart rows as
JSON or CSV, through the dashboard's read side (dashboard/queries.py over carekpi/read.py), so
small numbers are always suppressed and the rows are those `carekpi export` writes.

Sign-in is the dashboard's (dashboard/auth.py guards every /api/ path). Bad parameters answer 400
naming the parameter, never echoing its value.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from flask import Blueprint, Response, request, url_for

from carekpi.periods import PATTERN, is_period
from dashboard import queries
from kpi.catalogue import load_catalogue

LEVELS = ("practice", "network", "place", "system")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 1000, 10000
_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
ROW_PARAMS = {"kpi", "level", "org", "from", "to", "page", "page_size", "format"}
LIST_PARAMS = {"format"}
KPI_FIELDS = ("id", "family", "title", "definition", "numerator", "denominator", "unit",
              "multiplier", "polarity", "levels", "interval", "drilldown_of", "rolling_of",
              "window_months", "decimals", "source")

api = Blueprint("api_v1", __name__, url_prefix="/api/v1")


class BadParameter(ValueError):
    """A query parameter the API cannot use; its message names the parameter only."""


@api.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    return {"error": str(exc)}, 400


def _params(allowed: set[str]) -> dict[str, str]:
    if set(request.args) - allowed:
        raise BadParameter(f"unknown parameter; allowed: {', '.join(sorted(allowed))}")
    if any(len(request.args.getlist(k)) > 1 for k in request.args):
        raise BadParameter("each parameter may be given once")
    return {k: request.args[k] for k in request.args}


def _int(params: dict, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _format(params: dict) -> str:
    fmt = params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadParameter("format must be json or csv")
    return fmt


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON objects: NaN as null, numpy scalars as Python ones."""
    out = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and math.isnan(v) else
                 v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in out]


def _answer(frame: pd.DataFrame, fmt: str, name: str, extra: dict | None = None) -> Response:
    if fmt == "csv":
        response = Response(frame.to_csv(index=False), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        for key, value in (extra or {}).items():
            response.headers[f"X-{key.replace('_', '-').title()}"] = str(value)
        return response
    return {**(extra or {}), "rows": _records(frame)}


@api.get("/kpis")
def kpis():
    """The KPI catalogue: id, title, definition, unit, polarity, levels and how it is built."""
    fmt = _format(_params(LIST_PARAMS))
    rows = [k.model_dump(mode="json", include=set(KPI_FIELDS)) for k in load_catalogue()]
    frame = pd.DataFrame(rows, columns=list(KPI_FIELDS))
    return _answer(frame, fmt, "kpis")


@api.get("/organisations")
def organisations():
    """Every organisation: org_code, level, org_name, parent_code (current), has_data."""
    fmt = _format(_params(LIST_PARAMS))
    return _answer(queries.organisations(with_data=False), fmt, "organisations")


def _row_filter(params: dict) -> dict[str, str | None]:
    kpi_id, level, org = params.get("kpi"), params.get("level"), params.get("org")
    if kpi_id is not None and kpi_id not in {k.id for k in load_catalogue()}:
        raise BadParameter("kpi is not a KPI id (see /api/v1/kpis)")
    if level is not None and level not in LEVELS:
        raise BadParameter(f"level must be one of {', '.join(LEVELS)}")
    for name in ("from", "to"):
        if params.get(name) is not None and not is_period(params[name]):
            raise BadParameter(f"{name} must be a month written YYYY-MM")
    if org is not None and (not _CODE.fullmatch(org) or
                            org not in set(queries.organisations(with_data=False)["org_code"])):
        raise BadParameter("org is not an organisation code (see /api/v1/organisations)")
    return {"kpi_id": kpi_id, "level": level, "org": org,
            "from_month": params.get("from"), "to_month": params.get("to")}


@api.get("/rows")
def rows():
    """KPI mart rows for a filter, a page at a time, in the export's columns (suppressed)."""
    params = _params(ROW_PARAMS)
    fmt = _format(params)
    wanted = _row_filter(params)
    page = _int(params, "page", 1, 1, 10**6)
    size = _int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    org = wanted.pop("org")
    frame = queries.export_rows(**wanted)
    if org is not None:
        frame = frame[frame["org_code"] == org]
    total = len(frame)
    chunk = frame.iloc[(page - 1) * size: page * size]
    following = None
    if page * size < total:
        following = url_for("api_v1.rows", **{**params, "page": page + 1})
    return _answer(chunk, fmt, "kpi_rows",
                   {"page": page, "page_size": size, "total": total, "next": following or ""}
                   if fmt == "csv" else
                   {"page": page, "page_size": size, "total": total, "next": following})


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return OPENAPI


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


_FORMAT = _query("format", "json (default) or csv", {"type": "string", "enum": ["json", "csv"]})
_TABLE = {"description": "The rows", "content": {
    "application/json": {"schema": {"type": "object", "properties": {
        "rows": {"type": "array", "items": {"type": "object"}}}}},
    "text/csv": {"schema": {"type": "string"}}}}
_ERRORS = {"400": {"description": "A parameter is not valid; the message names it"},
           "401": {"description": "Not signed in"}}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "carekpi analyst API", "version": "1",
             "description": "Read-only KPI mart rows, as `carekpi export` writes them: counts "
                            "of 1 to 7, and the values built on them, read '*'. Sign in first "
                            "(the dashboard's session cookie, or the reverse proxy's user)."},
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/kpis": {"get": {"summary": "The KPI catalogue", "parameters": [_FORMAT],
                          "responses": {"200": _TABLE, **_ERRORS}}},
        "/organisations": {"get": {"summary": "Organisations and their current parent",
                                   "parameters": [_FORMAT],
                                   "responses": {"200": _TABLE, **_ERRORS}}},
        "/rows": {"get": {
            "summary": "KPI mart rows in the export's columns, a page at a time",
            "parameters": [
                _query("kpi", "KPI id (see /kpis)", {"type": "string"}),
                _query("level", "Organisation level", {"type": "string", "enum": list(LEVELS)}),
                _query("org", "Organisation code (see /organisations)", {"type": "string"}),
                _query("from", "First month, YYYY-MM", {"type": "string",
                                                        "pattern": PATTERN}),
                _query("to", "Last month, YYYY-MM", {"type": "string",
                                                     "pattern": PATTERN}),
                _query("page", "Page number from 1", {"type": "integer", "minimum": 1}),
                _query("page_size", "Rows a page", {"type": "integer", "minimum": 1,
                                                    "maximum": MAX_PAGE_SIZE,
                                                    "default": DEFAULT_PAGE_SIZE}),
                _FORMAT],
            "responses": {"200": {**_TABLE, "description": "One page of rows; JSON adds "
                                  "page, page_size, total and next (CSV: X-Page, X-Page-Size, "
                                  "X-Total, X-Next headers)"}, **_ERRORS}}},
        "/openapi.json": {"get": {"summary": "This description",
                                  "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}
