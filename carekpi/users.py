"""Dashboard users in the warehouse: add, remove, list, set a password, check a sign-in.

Passwords are kept only as argon2id hashes (argon2-cffi, the reference implementation's
binding); a hash made with older parameters is replaced at the next successful sign-in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from carekpi.warehouse import app_user

ROLES = ("viewer", "data-manager")
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class UserError(ValueError):
    """A user command that cannot be done (bad name, role or password; unknown or taken)."""


def _check_name(username: str) -> str:
    if not _NAME.fullmatch(username):
        raise UserError(f"user name {username!r} must be 1-64 letters, digits or . _ @ -")
    return username


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def add_user(engine: Engine, username: str, password: str, role: str = "viewer") -> None:
    """Create a user; raises UserError if the name is taken or anything is not valid."""
    values = {"username": _check_name(username), "role": _check_role(role),
              "password_hash": _hasher.hash(_check_password(password)),
              "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        if conn.execute(select(app_user.c.username).where(
                app_user.c.username == username)).first():
            raise UserError(f"user {username!r} already exists")
        conn.execute(insert(app_user).values(**values))


def remove_user(engine: Engine, username: str) -> None:
    """Delete a user; raises UserError if there is none of that name."""
    with engine.begin() as conn:
        if not conn.execute(delete(app_user).where(app_user.c.username == username)).rowcount:
            raise UserError(f"no user {username!r}")


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a user's password; raises UserError if there is none of that name."""
    digest = _hasher.hash(_check_password(password))
    with engine.begin() as conn:
        if not conn.execute(update(app_user).where(app_user.c.username == username)
                            .values(password_hash=digest)).rowcount:
            raise UserError(f"no user {username!r}")


def list_users(engine: Engine) -> list[tuple[str, str]]:
    """(username, role) of every user, by name."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(app_user.c.username, app_user.c.role).order_by(app_user.c.username))]


def user_record(engine: Engine, username: str):
    """The user's row (username, password_hash, role), or None when there is no such user."""
    with engine.connect() as conn:
        return conn.execute(select(app_user.c.username, app_user.c.password_hash,
                                   app_user.c.role).where(
            app_user.c.username == username[:64])).first()


def user_role(engine: Engine, username: str) -> str | None:
    """The role of a user, or None when there is no such user."""
    row = user_record(engine, username)
    return row.role if row else None


def authenticate(engine: Engine, username: str, password: str) -> str | None:
    """The user's role when the password is theirs, else None (unknown names included)."""
    with engine.connect() as conn:
        row = conn.execute(select(app_user.c.password_hash, app_user.c.role).where(
            app_user.c.username == username[:64])).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(update(app_user).where(app_user.c.username == username)
                         .values(password_hash=_hasher.hash(password)))
    return row.role
