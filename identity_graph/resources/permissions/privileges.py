"""The Unity Catalog privilege rules: may an identity create and overwrite ``catalog.schema.<tables>``?

:func:`verify_unity_catalog` asks Unity Catalog (through :mod:`.unity_catalog`) what
exists and which privileges the identity holds, and reports every missing one with the
GRANT that fixes it.

Unity Catalog rules applied (Databricks' documented model):

* The identity needs USE CATALOG on the catalog. If the schema exists it needs USE SCHEMA
  on it, CREATE TABLE on it when any of the tables does not exist yet, and MODIFY and
  SELECT on every table that exists (the graph overwrites its tables and reads them
  back as upstream inputs). If the schema does not exist it needs CREATE SCHEMA on the
  catalog; it then owns the new schema, and so may create tables in it.
* Privileges granted on a catalog are inherited by its schemas and their tables, and
  those granted on a schema by its tables. ALL PRIVILEGES implies every other one.
* The owner of an object has every privilege on that object, but ownership is not
  inherited: the owner of a schema does not by that alone hold MODIFY on the tables in it.
* Grants to a group count for its members. The groups of the calling identity come from
  SCIM ``Me``; every Databricks identity is also in ``account users``.
* Metastore admins get no data privileges implicitly, so they are not special-cased.

Which API answers: on Databricks the effective-permissions endpoint
(``GET /api/2.1/unity-catalog/effective-permissions/{type}/{name}``, inheritance already
applied). The open-source Unity Catalog server has no such endpoint: when it answers 404
or 501, the check falls back to direct grants
(``GET /api/2.1/unity-catalog/permissions/{type}/{name}``) and applies inheritance itself.
Responses are read as JSON rather than through the SDK's ``Privilege`` enum, because the
open-source server spells privileges with spaces (``USE CATALOG``) and the SDK would drop
those values as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .identifiers import check_name, check_printable, create_catalog_statement, grant_statement, normalise_privilege
from .report import MissingObject, MissingPrivilege, PermissionReport
from .unity_catalog import UC_API, Denied, Missing, UnityCatalog, UnityCatalogError, escape_name

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

__all__ = ["ACCOUNT_USERS", "verify_unity_catalog"]

ACCOUNT_USERS = "account users"
"""The Databricks group every user and service principal of the account belongs to."""

_ALL = "ALL PRIVILEGES"
_SCIM_ME = "/api/2.0/preview/scim/v2/Me"


def _privilege_names(values: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for value in values:
        raw = value.get("privilege") if isinstance(value, dict) else value
        if raw:
            names.add(normalise_privilege(raw))
    return names


class _Grants:
    """Privileges of a set of principals on securables: effective API, or direct grants + inheritance."""

    def __init__(
        self,
        uc: UnityCatalog,
        principal: str,
        groups: Sequence[str],
        api: Literal["auto", "effective", "direct"],
        notes: list[str],
    ) -> None:
        self._uc = uc
        self._principal = principal
        self._groups = [g for g in dict.fromkeys(groups) if g and g != principal]
        self._api = api
        self._notes = notes
        self._direct: dict[tuple[str, str], set[str]] = {}
        self._skipped: set[str] = set()

    def _read(self, endpoint: str, kind: str, full_name: str, principal: str) -> set[str] | None:
        """The privileges ``principal`` has on one securable (``None``: a group whose grants cannot be read)."""
        path = f"{UC_API}/{endpoint}/{kind}/{escape_name(full_name)}"
        query: dict[str, Any] = {"principal": principal}
        if endpoint == "effective-permissions":
            query["max_results"] = 0  # the paginated form, which Databricks recommends
        privileges: set[str] = set()
        is_group = principal != self._principal
        try:
            for page in self._uc.pages(path, query):
                for assignment in page.get("privilege_assignments") or []:
                    if str(assignment.get("principal", "")).casefold() == principal.casefold():
                        privileges |= _privilege_names(assignment.get("privileges") or [])
        except Missing as missing:
            if is_group:
                self._skip(principal, str(missing))
                return None
            raise
        except Denied as denied:
            if is_group:
                self._skip(principal, denied.message)
                return None
            raise UnityCatalogError(
                f"Unity Catalog at {self._uc.host} does not let this identity read the grants of "
                f"{principal} on {kind} {full_name}: {denied.message}. Run the check as {principal} "
                "itself, as the object's owner or as a metastore admin."
            ) from None
        return privileges

    def _skip(self, group: str, why: str) -> None:
        if group not in self._skipped:
            self._skipped.add(group)
            self._notes.append(
                f"grants of group {group} could not be read ({why}); privileges held through it were not counted"
            )

    def _direct_on(self, kind: str, full_name: str) -> set[str]:
        key = (kind, full_name)
        if key not in self._direct:
            held: set[str] = set()
            for principal in [self._principal, *self._groups]:
                if principal in self._skipped:
                    continue
                held |= self._read("permissions", kind, full_name, principal) or set()
            self._direct[key] = held
        return self._direct[key]

    def held(self, kind: str, parts: Sequence[str]) -> set[str]:
        """Privileges held on the securable ``parts`` (raises :class:`Missing` if it does not exist)."""
        full_name = ".".join(parts)
        if self._api in ("auto", "effective"):
            try:
                held = self._read("effective-permissions", kind, full_name, self._principal) or set()
            except Missing:
                if self._api == "effective":
                    raise
                # The first question goes to the catalog, which exists: a 404 here means the
                # server has no such endpoint.
                self._api = "direct"
                self._notes.append(
                    "no effective-permissions endpoint (open-source Unity Catalog): privileges read from direct "
                    "grants, with inheritance catalog -> schema -> table applied here"
                )
            else:
                if self._api == "auto":
                    self._api = "effective"
                    self._notes.append(
                        "privileges read from the effective-permissions API (inheritance applied by Unity Catalog)"
                    )
                for group in self._groups:
                    if group not in self._skipped:
                        held |= self._read("effective-permissions", kind, full_name, group) or set()
                return held
        held = set()
        for depth in range(1, len(parts) + 1):
            held |= self._direct_on(("catalog", "schema", "table")[depth - 1], ".".join(parts[:depth]))
        return held


@dataclass
class _Checker:
    principal: str
    identities: frozenset[str]
    grants: _Grants
    checked: list[str] = field(default_factory=list)
    missing: list[MissingPrivilege] = field(default_factory=list)

    def require(self, privilege: str, kind: str, parts: Sequence[str], held: set[str], owner: str | None) -> None:
        name = ".".join(parts)
        if owner is not None and owner.casefold() in self.identities:
            self.checked.append(f"{privilege} on {kind} {name}: yes (owned by {owner})")
        elif privilege in held or _ALL in held:
            how = privilege if privilege in held else _ALL
            self.checked.append(f"{privilege} on {kind} {name}: yes ({how})")
        else:
            self.checked.append(f"{privilege} on {kind} {name}: no")
            self.missing.append(
                MissingPrivilege(kind, name, privilege, grant_statement(privilege, kind, parts, self.principal))
            )


def _current_identity(uc: UnityCatalog) -> tuple[str, list[str]]:
    try:
        me = uc.get(_SCIM_ME)
    except Denied as denied:
        raise UnityCatalogError(
            f"Unity Catalog at {uc.host} refused to say who the caller is (GET {_SCIM_ME}): "
            f"{denied.message} Check the token or OAuth credentials for this workspace."
        ) from None
    except Missing:
        raise UnityCatalogError(
            f"{uc.host} has no SCIM Me endpoint ({_SCIM_ME}); pass the principal explicitly"
        ) from None
    user_name = me.get("userName")
    if not user_name:
        raise UnityCatalogError(f"{uc.host} answered GET {_SCIM_ME} without a userName")
    groups = [g.get("display") for g in me.get("groups") or [] if isinstance(g, dict) and g.get("display")]
    return str(user_name), [str(g) for g in groups]


def verify_unity_catalog(
    client: WorkspaceClient,
    catalog: str,
    schema: str,
    tables: Sequence[str],
    principal: str | None = None,
    *,
    groups: Sequence[str] | None = None,
    api: Literal["auto", "effective", "direct"] = "auto",
) -> PermissionReport:
    """Check that ``principal`` may create and overwrite ``catalog.schema.<tables>`` in Unity Catalog.

    ``client`` is a ``databricks.sdk.WorkspaceClient`` (bound its timeouts: see
    :func:`workspace_client`). ``principal`` defaults to the calling identity
    (``userName`` of SCIM ``Me``: the e-mail of a user, the application id of a service
    principal), whose groups, plus ``account users``, then also count; for an explicit
    principal pass its ``groups`` (default: none). ``api`` chooses where privileges come
    from: ``auto`` tries the effective-permissions API and falls back to direct grants
    when the server has none (see the module docstring for the rules).

    A missing catalog is reported as a missing object (with ``CREATE CATALOG`` and the
    grants the identity then needs). Network and authentication failures raise
    :class:`UnityCatalogError`, naming the host and never the credentials.
    """
    for kind, name in (("catalog", catalog), ("schema", schema), *(("table", t) for t in tables)):
        check_name(kind, name)
    uc = UnityCatalog(client)
    notes: list[str] = []
    if principal is None:
        principal, own_groups = _current_identity(uc)
        group_list = [*(groups if groups is not None else own_groups), ACCOUNT_USERS]
    else:
        check_printable("principal", principal)
        group_list = list(groups or [])
    grants = _Grants(uc, principal, group_list, api, notes)
    check = _Checker(principal, frozenset(p.casefold() for p in [principal, *group_list]), grants)
    location = f"{catalog}.{schema}"

    def report(missing_objects: Sequence[MissingObject] = ()) -> PermissionReport:
        return PermissionReport(
            target="databricks",
            location=location,
            principal=principal,
            checked=tuple(check.checked),
            missing=tuple(check.missing),
            missing_objects=tuple(missing_objects),
            notes=tuple(notes),
        )

    def catalog_missing() -> PermissionReport:
        check.checked.append(f"catalog {catalog} exists: no")
        for privilege in ("USE CATALOG", "CREATE SCHEMA"):
            check.missing.append(
                MissingPrivilege(
                    "catalog", catalog, privilege, grant_statement(privilege, "catalog", [catalog], principal)
                )
            )
        return report([MissingObject("catalog", catalog, create_catalog_statement(catalog))])

    # Catalog: it must exist, and the identity must be able to use it.
    cat = uc.lookup("catalog", catalog)
    if cat.exists is False:
        return catalog_missing()
    if cat.denied:
        notes.append(f"catalog {catalog} is not readable by the caller: {cat.denied}")
    try:
        on_catalog = grants.held("catalog", [catalog])
    except Missing:
        return catalog_missing()
    check.checked.append(f"catalog {catalog} exists: yes")
    check.require("USE CATALOG", "catalog", [catalog], on_catalog, cat.owner)

    # Schema: use it if it exists, else be allowed to create it (and then own it).
    sch = uc.lookup("schema", location)
    on_schema: set[str] | None = None
    if sch.exists is not False:
        try:
            on_schema = grants.held("schema", [catalog, schema])
        except Missing:
            on_schema = None
    if on_schema is None:
        check.checked.append(f"schema {location} exists: no")
        check.require("CREATE SCHEMA", "catalog", [catalog], on_catalog, cat.owner)
        return report()
    if sch.denied:
        notes.append(f"schema {location} is not readable by the caller: {sch.denied}")
    check.checked.append(f"schema {location} exists: yes")
    check.require("USE SCHEMA", "schema", [catalog, schema], on_schema, sch.owner)

    # Tables: overwrite and read back the ones that exist, create the others.
    to_create: list[str] = []
    for table in tables:
        parts = [catalog, schema, table]
        full = ".".join(parts)
        tab = uc.lookup("table", full)
        if tab.exists is False:
            to_create.append(table)
            continue
        try:
            on_table = grants.held("table", parts)
        except Missing:
            to_create.append(table)
            continue
        if tab.denied:
            notes.append(f"table {full} is not readable by the caller: {tab.denied}")
        check.checked.append(f"table {full} exists: yes")
        for privilege in ("MODIFY", "SELECT"):
            check.require(privilege, "table", parts, on_table, tab.owner)
    if to_create:
        check.checked.append(f"tables to create in {location}: {', '.join(to_create)}")
        check.require("CREATE TABLE", "schema", [catalog, schema], on_schema, sch.owner)
    return report()
