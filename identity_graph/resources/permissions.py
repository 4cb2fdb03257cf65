"""Can this run write where it is about to write? Permission checks for both runtime targets.

Pure Python, no Dagster: :func:`verify_local` for the local Delta warehouse and
:func:`verify_unity_catalog` for Unity Catalog (Databricks, or the open-source server).
Both return a :class:`PermissionReport` that says what was verified, what is missing,
and the exact statement that fixes each gap.

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

import errno
import os
import re
import shlex
import tempfile
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

try:
    import pwd
except ImportError:  # pragma: no cover - not POSIX
    pwd = None  # type: ignore[assignment]


__all__ = [
    "MissingObject",
    "MissingPrivilege",
    "PermissionReport",
    "UnityCatalogError",
    "grant_statement",
    "quote_identifier",
    "quote_principal",
    "verify_local",
    "verify_unity_catalog",
    "workspace_client",
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

ACCOUNT_USERS = "account users"
"""The Databricks group every user and service principal of the account belongs to."""

_ALL = "ALL PRIVILEGES"
_UC = "/api/2.1/unity-catalog"
_SCIM_ME = "/api/2.0/preview/scim/v2/Me"


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class MissingPrivilege:
    """One privilege the identity lacks, and the statement that grants it."""

    securable_type: str
    """``catalog``, ``schema``, ``table`` or (local target) ``location``."""
    securable: str
    """Full name (``catalog``, ``catalog.schema``, ``catalog.schema.table``) or a filesystem path."""
    privilege: str
    """E.g. ``USE CATALOG``, ``CREATE TABLE``, ``MODIFY``; ``WRITE`` for a local path."""
    remedy: str
    """A GRANT statement for Unity Catalog; a sentence or shell command for a local path."""


@dataclass(frozen=True)
class MissingObject:
    """An object that must exist before privileges on it can be granted (a missing catalog)."""

    securable_type: str
    securable: str
    remedy: str
    """The statement that creates it (to be run by someone allowed to)."""


@dataclass(frozen=True)
class PermissionReport:
    """What was verified for one target, and what is missing."""

    target: str
    """``local`` or ``databricks``."""
    location: str
    """The warehouse path (local) or ``catalog.schema`` (Unity Catalog)."""
    principal: str | None
    checked: tuple[str, ...]
    """Human-readable list of what was verified, with the outcome of each."""
    missing: tuple[MissingPrivilege, ...]
    missing_objects: tuple[MissingObject, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """Which API answered, and anything that could not be verified."""

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing and not self.missing_objects

    def statements(self) -> tuple[str, ...]:
        """Every statement to run, in order: creations first, then grants."""
        return tuple(o.remedy for o in self.missing_objects) + tuple(m.remedy for m in self.missing)

    def describe(self) -> str:
        """Readable multi-line text: what is missing, and every statement to run."""
        who = f" as {self.principal}" if self.principal else ""
        head = f"Permission check ({self.target}) for {self.location}{who}"
        lines: list[str]
        if self.ok:
            lines = [f"{head}: OK ({_count(len(self.checked), 'check')} passed)."]
        else:
            lines = [f"{head}: {_count(len(self.missing) + len(self.missing_objects), 'problem')}."]
            for obj in self.missing_objects:
                lines.append(f"  - {obj.securable_type} {obj.securable} does not exist (or is not visible)")
            for m in self.missing:
                lines.append(f"  - missing {m.privilege} on {m.securable_type} {m.securable}")
            if self.target == "local":
                lines.append("To fix:")
                lines.extend(f"  {s}" for s in self.statements())
            else:
                lines.append("Run as a metastore admin (or the owner of each object):")
                lines.extend(f"  {s};" for s in self.statements())
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def markdown(self) -> str:
        """A markdown table (securable type, securable, privilege, statement), for Dagster metadata."""
        if self.ok:
            text = f"{_count(len(self.checked), 'check')} passed for {_md_code(self.location)}."
        else:
            rows = ["| securable type | securable | privilege | statement |", "|---|---|---|---|"]
            for obj in self.missing_objects:
                rows.append(
                    f"| {obj.securable_type} | {_md_cell(obj.securable)} | (does not exist) | {_md_code(obj.remedy)} |"
                )
            for m in self.missing:
                rows.append(f"| {m.securable_type} | {_md_cell(m.securable)} | {m.privilege} | {_md_code(m.remedy)} |")
            text = "\n".join(rows)
        if self.notes:
            text += "\n\n" + "\n".join(f"- {_md_cell(n)}" for n in self.notes)
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_code(text: str) -> str:
    # A code span needs a fence longer than any backtick run inside it (GFM); pipes
    # still need escaping inside a table cell.
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    body = text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return f"{fence} {body} {fence}"


# --------------------------------------------------------------------------- GRANT statements


def _check_printable(kind: str, name: str) -> None:
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
    _check_printable("identifier", name)
    return "`" + name.replace("`", "``") + "`"


def quote_principal(principal: str) -> str:
    """Backtick-quote a user, service principal (application id) or group name, as GRANT needs."""
    _check_printable("principal", principal)
    return "`" + principal.replace("`", "``") + "`"


def _normalise_privilege(privilege: str) -> str:
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
    priv = _normalise_privilege(privilege)
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


def _create_catalog_statement(catalog: str) -> str:
    return f"CREATE CATALOG IF NOT EXISTS {quote_identifier(catalog)}"


def _check_name(kind: str, name: str) -> None:
    _check_printable(kind, name)
    if "." in name or "/" in name:
        raise ValueError(f"{kind} {name!r} must be a plain name (no '.' or '/')")


# --------------------------------------------------------------------------- local target


def _current_user() -> str:
    if pwd is not None:
        try:
            return pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            return str(os.geteuid())
    return os.environ.get("USER") or os.environ.get("USERNAME") or "the current user"


def _probe_file(directory: Path) -> OSError | None:
    """Create and delete a file in ``directory``; the error if that is not possible."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".identity_graph_probe_")
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        return error
    return None


def _probe_directory(parent: Path) -> OSError | None:
    """Create and delete a directory in ``parent``; the error if that is not possible."""
    try:
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".identity_graph_probe_"))
    except OSError as error:
        return error
    return None


def _why(error: OSError) -> str:
    return error.strerror or str(error)


def _unwritable_remedy(path: Path, error: OSError, user: str) -> str:
    q = shlex.quote(str(path))
    if error.errno == errno.EROFS:
        return f"{path} is on a read-only file system: set IDENTITY_GRAPH_WAREHOUSE (or --warehouse) to a writable directory"
    try:
        owner_uid = path.stat().st_uid
    except OSError:
        owner_uid = None
    if owner_uid == os.geteuid():
        return f"chmod u+rwx -- {q}"
    return f"sudo chown -R {shlex.quote(user)} -- {q}"


def verify_local(warehouse: str, catalog: str, schema: str, tables: Sequence[str]) -> PermissionReport:
    """Check that the local warehouse location ``<warehouse>/<catalog>/<schema>`` can be written.

    * If the location exists it must be a directory in which a file can be created
      (a probe file is created and deleted).
    * If it does not exist, its nearest existing ancestor must be a directory in which a
      directory can be created (a probe directory is created and deleted). The location
      itself is *not* created: a check must not leave directories behind for a mistyped
      warehouse path; the run creates it.
    * Every table directory that already exists (``<location>/<table>``), and its
      ``_delta_log``, must be a writable directory; a file where a table directory
      should be is reported.
    """
    for kind, name in (("catalog", catalog), ("schema", schema), *(("table", t) for t in tables)):
        _check_name(kind, name)
    user = _current_user()
    location = Path(warehouse).expanduser().absolute() / catalog / schema
    checked: list[str] = []
    missing: list[MissingPrivilege] = []

    def fail(path: Path, remedy: str) -> None:
        missing.append(MissingPrivilege("location", str(path), "WRITE", remedy))

    existing = location
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent

    if not existing.is_dir():
        # Something on the way is a file (or a dangling link): nothing can be created below it.
        fail(
            location,
            f"{existing} is not a directory, so {location} cannot be created: move it away "
            f"(mv -- {shlex.quote(str(existing))} {shlex.quote(str(existing) + '.bak')}) or set "
            "IDENTITY_GRAPH_WAREHOUSE (or --warehouse) to another directory",
        )
        checked.append(f"{location} can be created: no ({existing} is not a directory)")
    elif existing != location:
        error = _probe_directory(existing)
        if error is None:
            checked.append(f"{location} does not exist yet and can be created under {existing}: yes")
        else:
            checked.append(f"{location} can be created under {existing}: no ({_why(error)})")
            fail(location, _unwritable_remedy(existing, error, user))
    else:
        error = _probe_file(location)
        if error is None:
            checked.append(f"{location} is a writable directory: yes")
        else:
            checked.append(f"{location} is a writable directory: no ({_why(error)})")
            fail(location, _unwritable_remedy(location, error, user))
        for table in tables:
            path = location / table
            if not os.path.lexists(path):
                continue
            if not path.is_dir():
                checked.append(f"table directory {path} is a directory: no (a file is in its place)")
                fail(
                    path,
                    f"a file is where the table directory {path} should be: move it away "
                    f"(mv -- {shlex.quote(str(path))} {shlex.quote(str(path) + '.bak')})",
                )
                continue
            for directory in (path, path / "_delta_log"):
                if directory.name == "_delta_log" and not directory.is_dir():
                    continue
                error = _probe_file(directory)
                if error is None:
                    checked.append(f"{directory} is writable: yes")
                else:
                    checked.append(f"{directory} is writable: no ({_why(error)})")
                    fail(directory, _unwritable_remedy(directory, error, user))
    return PermissionReport(
        target="local",
        location=str(location),
        principal=user,
        checked=tuple(checked),
        missing=tuple(missing),
    )


# --------------------------------------------------------------------------- Unity Catalog


class UnityCatalogError(RuntimeError):
    """Unity Catalog could not be asked (network, authentication, an unexpected answer).

    The message names the host and the request, never the credentials.
    """


def workspace_client(
    host: str,
    token: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    http_timeout_seconds: int = 10,
    retry_timeout_seconds: int = 10,
) -> WorkspaceClient:
    """A ``databricks.sdk.WorkspaceClient`` with a personal access token (or a service
    principal's OAuth client id and secret) and bounded timeouts.

    The SDK otherwise retries connection errors for 300 s; a preflight check must fail
    well inside a minute (an unanswered request costs ``http_timeout_seconds``, retries
    stop after ``retry_timeout_seconds``).
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    if token:
        auth: dict[str, str] = {"token": token, "auth_type": "pat"}
    elif client_id and client_secret:
        auth = {"client_id": client_id, "client_secret": client_secret, "auth_type": "oauth-m2m"}
    else:
        raise ValueError(f"No credentials for {host}: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")
    return WorkspaceClient(
        config=Config(host=host, http_timeout_seconds=http_timeout_seconds, retry_timeout_seconds=retry_timeout_seconds, **auth)
    )


@dataclass(frozen=True)
class _Lookup:
    """What a GET of a catalog, schema or table said."""

    exists: bool | None  # None: the caller may not see it (403), so existence is unknown
    owner: str | None = None
    denied: str | None = None


class _Denied(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Rejected(_Denied):
    """A 400 answer: the server did not accept the request (e.g. an unknown principal)."""


class _Missing(Exception):
    pass


class _UnityCatalog:
    """Thin JSON access to the Unity Catalog REST API through the SDK's authenticated client."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._client = client
        config = getattr(client, "config", None)
        self.host = str(getattr(config, "host", None) or "the Databricks host")
        self._secrets = [
            str(s)
            for s in (getattr(config, name, None) for name in ("token", "client_secret", "password"))
            if s
        ]

    def _scrub(self, text: str) -> str:
        # The SDK appends its config (host, auth type, secrets masked) to 401/403 messages;
        # the host is named separately, so keep only the server's own message.
        text = re.sub(r"\. Config: .*\Z", ".", text, flags=re.DOTALL)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path``; raise :class:`_Missing` on 404/501, :class:`_Denied` on 403, else :class:`UnityCatalogError`."""
        import requests
        from databricks.sdk import errors

        try:
            result = self._client.api_client.do(
                "GET", path, query=dict(query or {}) or None, headers={"Accept": "application/json"}
            )
        except (errors.NotFound, errors.NotImplemented) as error:
            raise _Missing(self._scrub(str(error))) from None
        except errors.PermissionDenied as error:
            raise _Denied(self._scrub(str(error))) from None
        except errors.BadRequest as error:
            raise _Rejected(f"{type(error).__name__}: {self._scrub(str(error))}") from None
        except errors.Unauthenticated as error:
            raise UnityCatalogError(
                f"Unity Catalog at {self.host} rejected the credentials (401) for GET {path}: {self._scrub(str(error))}"
            ) from None
        except errors.DatabricksError as error:
            raise UnityCatalogError(
                f"Unity Catalog at {self.host} failed GET {path}: {type(error).__name__}: {self._scrub(str(error))}"
            ) from None
        except (requests.RequestException, TimeoutError, OSError) as error:
            cause = error.__cause__ if isinstance(error, TimeoutError) and error.__cause__ else error
            raise UnityCatalogError(
                f"Cannot reach Unity Catalog at {self.host} (GET {path}): "
                f"{type(cause).__name__}: {self._scrub(str(cause))}"
            ) from None
        return result if isinstance(result, dict) else {}

    def pages(self, path: str, query: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
        """Every page of a paginated listing (``next_page_token``)."""
        token: str | None = None
        for _ in range(1000):
            page = self.get(path, {**query, **({"page_token": token} if token else {})})
            yield page
            token = page.get("next_page_token")
            if not token:
                return
        raise UnityCatalogError(f"Unity Catalog at {self.host}: GET {path} kept returning next_page_token")

    def lookup(self, kind: str, full_name: str) -> _Lookup:
        path = f"{_UC}/{_plural(kind)}/{_escape(full_name)}"
        try:
            info = self.get(path)
        except _Missing:
            return _Lookup(exists=False)
        except _Rejected as rejected:
            raise UnityCatalogError(f"Unity Catalog at {self.host} rejected GET {path}: {rejected.message}") from None
        except _Denied as denied:
            return _Lookup(exists=None, denied=denied.message)
        return _Lookup(exists=True, owner=info.get("owner"))


def _plural(kind: str) -> str:
    return {"catalog": "catalogs", "schema": "schemas", "table": "tables"}[kind]


def _escape(full_name: str) -> str:
    # The SDK pastes names into URL paths unescaped; escape everything but the dots.
    return urllib.parse.quote(full_name, safe=".")


def _privilege_names(values: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for value in values:
        raw = value.get("privilege") if isinstance(value, dict) else value
        if raw:
            names.add(_normalise_privilege(raw))
    return names


class _Grants:
    """Privileges of a set of principals on securables: effective API, or direct grants + inheritance."""

    def __init__(
        self,
        uc: _UnityCatalog,
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
        path = f"{_UC}/{endpoint}/{kind}/{_escape(full_name)}"
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
        except _Missing as missing:
            if is_group:
                self._skip(principal, str(missing))
                return None
            raise
        except _Denied as denied:
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
            self._notes.append(f"grants of group {group} could not be read ({why}); privileges held through it were not counted")

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
        """Privileges held on the securable ``parts`` (raises :class:`_Missing` if it does not exist)."""
        full_name = ".".join(parts)
        if self._api in ("auto", "effective"):
            try:
                held = self._read("effective-permissions", kind, full_name, self._principal) or set()
            except _Missing:
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


def _current_identity(uc: _UnityCatalog) -> tuple[str, list[str]]:
    try:
        me = uc.get(_SCIM_ME)
    except _Denied as denied:
        raise UnityCatalogError(
            f"Unity Catalog at {uc.host} refused to say who the caller is (GET {_SCIM_ME}): "
            f"{denied.message} Check the token or OAuth credentials for this workspace."
        ) from None
    except _Missing:
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
        _check_name(kind, name)
    uc = _UnityCatalog(client)
    notes: list[str] = []
    if principal is None:
        principal, own_groups = _current_identity(uc)
        group_list = [*(groups if groups is not None else own_groups), ACCOUNT_USERS]
    else:
        _check_printable("principal", principal)
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
                MissingPrivilege("catalog", catalog, privilege, grant_statement(privilege, "catalog", [catalog], principal))
            )
        return report([MissingObject("catalog", catalog, _create_catalog_statement(catalog))])

    # Catalog: it must exist, and the identity must be able to use it.
    cat = uc.lookup("catalog", catalog)
    if cat.exists is False:
        return catalog_missing()
    if cat.denied:
        notes.append(f"catalog {catalog} is not readable by the caller: {cat.denied}")
    try:
        on_catalog = grants.held("catalog", [catalog])
    except _Missing:
        return catalog_missing()
    check.checked.append(f"catalog {catalog} exists: yes")
    check.require("USE CATALOG", "catalog", [catalog], on_catalog, cat.owner)

    # Schema: use it if it exists, else be allowed to create it (and then own it).
    sch = uc.lookup("schema", location)
    on_schema: set[str] | None = None
    if sch.exists is not False:
        try:
            on_schema = grants.held("schema", [catalog, schema])
        except _Missing:
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
        except _Missing:
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
