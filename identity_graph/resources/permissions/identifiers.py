"""Names in SQL: identifier and principal quoting, name checks, and the GRANT statements built from them.

Every name that ends up in a statement a person copies (a catalog, schema, table or
principal) goes through here: it is checked (no empty names, no control or line-break
characters, no ``.`` or ``/`` in a single name part) and backtick-quoted, so no name can
inject SQL. Privileges and securable types are checked against allow-lists.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

__all__ = [
    "PRIVILEGES",
    "SECURABLE_TYPES",
    "check_name",
    "check_printable",
    "create_catalog_statement",
    "grant_statement",
    "normalise_privilege",
    "quote_identifier",
    "quote_principal",
]

SECURABLE_TYPES: Mapping[str, int] = {"catalog": 1, "schema": 2, "table": 3}
"""Securable types a GRANT can name here, with how many name parts each has."""

PRIVILEGES: Mapping[str, frozenset[str]] = {
    "USE CATALOG": frozenset({"catalog"}),
    "CREATE SCHEMA": frozenset({"catalog"}),
    "USE SCHEMA": frozenset({"catalog", "schema"}),
    "CREATE TABLE": frozenset({"catalog", "schema"}),
    "SELECT": frozenset({"catalog", "schema", "table"}),
    "MODIFY": frozenset({"catalog", "schema", "table"}),
    "ALL PRIVILEGES": frozenset({"catalog", "schema", "table"}),
}
"""Privileges a GRANT can name here, with the securable types each may be granted on."""


def check_printable(kind: str, name: str) -> None:
    """Reject ``name`` unless it is a non-empty string free of control and line-break characters."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} must be a non-empty string, got {name!r}")
    for ch in name:
        # Quoting keeps such names inert in SQL, but a line break would let a name forge a
        # separate-looking line in the statements a person copies from describe().
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise ValueError(f"{kind} {name!r} contains a control or line-break character")


def quote_identifier(name: str) -> str:
    """Backtick-quote one identifier part, doubling embedded backticks.

    Rejects empty names and names with control or line-break characters (Unity
    Catalog allows neither in object names).
    """
    check_printable("identifier", name)
    return "`" + name.replace("`", "``") + "`"


def quote_principal(principal: str) -> str:
    """Backtick-quote a user, service principal (application id) or group name, as GRANT needs."""
    check_printable("principal", principal)
    return "`" + principal.replace("`", "``") + "`"


def normalise_privilege(privilege: str) -> str:
    """``all_privileges``, ``ALL  PRIVILEGES`` -> ``ALL PRIVILEGES``: the spelling used throughout."""
    return " ".join(str(privilege).replace("_", " ").upper().split())


def grant_statement(privilege: str, securable_type: str, parts: Sequence[str], principal: str) -> str:
    """The GRANT statement giving ``privilege`` on a securable to ``principal``.

    ``privilege`` must be one of :data:`PRIVILEGES` (spaces or underscores, any case)
    and valid on ``securable_type`` (one of :data:`SECURABLE_TYPES`); ``parts`` are the
    name parts (1 for a catalog, 2 for a schema, 3 for a table). Every part and the
    principal are backtick-quoted, so no name can inject SQL::

        GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com`

    Raises :class:`ValueError` for anything outside the allow-lists.
    """
    priv = normalise_privilege(privilege)
    if priv not in PRIVILEGES:
        raise ValueError(f"unsupported privilege {privilege!r}; expected one of {sorted(PRIVILEGES)}")
    kind = str(securable_type).strip().lower()
    if kind not in SECURABLE_TYPES:
        raise ValueError(f"unsupported securable type {securable_type!r}; expected one of {list(SECURABLE_TYPES)}")
    if kind not in PRIVILEGES[priv]:
        raise ValueError(f"{priv} cannot be granted on a {kind}")
    if isinstance(parts, str) or len(parts) != SECURABLE_TYPES[kind]:
        raise ValueError(f"a {kind} name has {SECURABLE_TYPES[kind]} part(s), got {parts!r}")
    name = ".".join(quote_identifier(p) for p in parts)
    return f"GRANT {priv} ON {kind.upper()} {name} TO {quote_principal(principal)}"


def create_catalog_statement(catalog: str) -> str:
    """The statement that creates ``catalog`` (if it does not exist yet)."""
    return f"CREATE CATALOG IF NOT EXISTS {quote_identifier(catalog)}"


def check_name(kind: str, name: str) -> None:
    """Reject ``name`` unless it is a printable, single-part name (no ``.`` or ``/``)."""
    check_printable(kind, name)
    if "." in name or "/" in name:
        raise ValueError(f"{kind} {name!r} must be a plain name (no '.' or '/')")
