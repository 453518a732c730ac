"""Dashboard accounts kept in the warehouse: user names, argon2id password hashes and roles.

`pathway users add|remove|list|set-role` manages them; the dashboard's sign-in checks them
(pathway.web.security). Passwords are hashed with argon2-cffi, never stored or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pathway.db import Warehouse
from pathway.schema import users

VIEWER, DATA_MANAGER = "viewer", "data_manager"
ROLES = {VIEWER: "viewer (disclosed figures, downloads and reports)",
         DATA_MANAGER: "data manager (also uploads, the load log, data quality and the audit log)"}
ROLE_WORDS = {VIEWER: "viewer", DATA_MANAGER: "data manager"}
MIN_PASSWORD_LENGTH = 12

# Letters, digits and . _ @ - (an e-mail address or an NHS login name fits).
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,127}$")
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A refused account change; the message is for people."""


@dataclass(frozen=True)
class Account:
    user_name: str
    role: str
    has_password: bool
    # Changes with the password: a session signed in under an old password ends.
    stamp: str = ""


def _account(row) -> "Account":
    stamp = hashlib.sha256(row.password_hash.encode()).hexdigest()[:16] if row.password_hash else ""
    return Account(row.user_name, row.role, bool(row.password_hash), stamp)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def check_user_name(name: str) -> str:
    name = (name or "").strip()
    if not _USER_NAME.match(name):
        raise AccountError(f"user name {name!r}: use 1 to 128 letters, digits and . _ @ - "
                           "(starting with a letter or digit)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose {' or '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


def add_user(warehouse: Warehouse, name: str, role: str, password: str | None) -> Account:
    """A new account; password None makes one that signs in only through the trusted proxy."""
    name, role = check_user_name(name), check_role(role)
    hashed = _hasher.hash(check_password(password)) if password is not None else None
    with warehouse.begin() as conn:
        if conn.execute(sa.select(users.c.user_name).where(users.c.user_name == name)).first():
            raise AccountError(f"user {name} already exists: use set-role or remove it first")
        conn.execute(users.insert().values(user_name=name, password_hash=hashed, role=role,
                                           created_at=_now(), updated_at=_now()))
    return Account(name, role, hashed is not None)


def remove_user(warehouse: Warehouse, name: str) -> None:
    with warehouse.begin() as conn:
        if not conn.execute(users.delete().where(users.c.user_name == name)).rowcount:
            raise AccountError(f"user {name} does not exist")


def set_role(warehouse: Warehouse, name: str, role: str) -> None:
    role = check_role(role)
    with warehouse.begin() as conn:
        changed = conn.execute(users.update().where(users.c.user_name == name)
                               .values(role=role, updated_at=_now())).rowcount
        if not changed:
            raise AccountError(f"user {name} does not exist")


def set_password(warehouse: Warehouse, name: str, password: str) -> None:
    hashed = _hasher.hash(check_password(password))
    with warehouse.begin() as conn:
        changed = conn.execute(users.update().where(users.c.user_name == name)
                               .values(password_hash=hashed, updated_at=_now())).rowcount
        if not changed:
            raise AccountError(f"user {name} does not exist")


def list_users(warehouse: Warehouse) -> list[Account]:
    with warehouse.connect() as conn:
        rows = conn.execute(sa.select(users.c.user_name, users.c.role, users.c.password_hash)
                            .order_by(users.c.user_name)).all()
    return [_account(r) for r in rows]


def find_user(warehouse: Warehouse, name: str) -> Account | None:
    with warehouse.connect() as conn:
        row = conn.execute(sa.select(users.c.user_name, users.c.role, users.c.password_hash)
                           .where(users.c.user_name == name)).first()
    return _account(row) if row else None


def authenticate(warehouse: Warehouse, name: str, password: str) -> Account | None:
    """The account when the name and password match, else None (same cost either way)."""
    with warehouse.connect() as conn:
        row = conn.execute(sa.select(users.c.user_name, users.c.role, users.c.password_hash)
                           .where(users.c.user_name == (name or "").strip())).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash:
        return None
    return _account(row)
