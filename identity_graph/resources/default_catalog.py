"""The workspace's default catalog: where the databricks target writes when ``IDENTITY_GRAPH_CATALOG`` is unset.

A Databricks workspace has a default catalog (what ``SELECT current_catalog()`` answers on
Unity Catalog compute; workspace admins change it under *Admin settings → Advanced*). Two
REST answers carry it, both asked with the preflight's bounded client:

1. the workspace setting ``default_namespace_ws`` —
   ``GET /api/2.0/settings/types/default_namespace_ws/names/default``, ``namespace.value``
   (databricks-sdk: ``WorkspaceClient.settings.default_namespace.get``); a workspace where it
   was never set answers 404, and a caller that may not read settings 403;
2. then the metastore assignment's ``default_catalog_name`` —
   ``GET /api/2.1/unity-catalog/current-metastore-assignment``
   (databricks-sdk: ``WorkspaceClient.metastores.current``), readable by any workspace user.

The name is resolved once, when the code location (or the command line) loads its settings,
and exported as ``IDENTITY_GRAPH_CATALOG`` to the processes it starts (run workers, step
processes) and, through the step launcher, to the cluster: every process of a run names the
same catalog. A workspace that cannot be asked, or whose default is not a Unity Catalog
catalog (``hive_metastore``), stops the load with an error asking for ``IDENTITY_GRAPH_CATALOG``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from identity_graph.resources.databricks import DatabricksSettings
from identity_graph.resources.permissions.unity_catalog import (
    Denied,
    Missing,
    UnityCatalog,
    UnityCatalogError,
    scrub,
    workspace_client,
)

SETTING_PATH = "/api/2.0/settings/types/default_namespace_ws/names/default"
ASSIGNMENT_PATH = "/api/2.1/unity-catalog/current-metastore-assignment"
#: Default catalogs the target cannot write Unity Catalog managed tables to.
NOT_UNITY_CATALOG = ("hive_metastore",)
#: Bounded as the preflight is: a load against an unreachable host fails in seconds.
HTTP_TIMEOUT_SECONDS = 10
RETRY_TIMEOUT_SECONDS = 10

#: Where the workspace says its default catalog is, in the order asked: the request, the answer's
#: field (dotted), and how the log names the source.
ANSWERS = (
    (SETTING_PATH, "namespace.value", "its default_namespace_ws setting"),
    (ASSIGNMENT_PATH, "default_catalog_name", "default_catalog_name of its metastore assignment"),
)


def _value(answer: Mapping[str, Any], field: str) -> str | None:
    """The non-empty string at the dotted ``field`` of a JSON answer, or None."""
    value: Any = answer
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return (value.strip() or None) if isinstance(value, str) else None


_HINT = "set IDENTITY_GRAPH_CATALOG (or --catalog) to the Unity Catalog catalog to write to"


@dataclass(frozen=True)
class DefaultCatalog:
    """The workspace's default catalog and where the answer came from."""

    name: str
    source: str

    def describe(self, host: str) -> str:
        return (
            f"identity_graph: IDENTITY_GRAPH_CATALOG is not set: the tables go to catalog {self.name!r}, "
            f"the default catalog of the workspace {host} ({self.source})"
        )


def workspace_default_catalog(
    settings: DatabricksSettings,
    environ: Mapping[str, str],
    *,
    http_timeout_seconds: int = HTTP_TIMEOUT_SECONDS,
    retry_timeout_seconds: int = RETRY_TIMEOUT_SECONDS,
) -> DefaultCatalog:
    """Ask the workspace of ``settings`` for its default catalog; ValueError naming the host,
    the requests and their answers (never a credential) when it cannot tell."""
    token = environ.get("DATABRICKS_TOKEN") if settings.auth == "token" else None
    client_id = environ.get("DATABRICKS_CLIENT_ID") if settings.auth == "oauth" else None
    client_secret = environ.get("DATABRICKS_CLIENT_SECRET") if settings.auth == "oauth" else None
    try:
        client = workspace_client(
            settings.host,
            token,
            client_id=client_id,
            client_secret=client_secret,
            profile=settings.profile,
            config_file=settings.config_file,
            http_timeout_seconds=http_timeout_seconds,
            retry_timeout_seconds=retry_timeout_seconds,
        )
    except Exception as error:  # noqa: BLE001 - the SDK resolves credentials when the client is built
        message = scrub(str(error), (token, client_secret))
        raise ValueError(
            f"Cannot read the default catalog of the workspace {settings.host}: no client "
            f"({type(error).__name__}: {message}); {_HINT}"
        ) from None
    catalog = UnityCatalog(client)
    tried: list[str] = []
    name, source = None, ""
    try:
        for path, field, where in ANSWERS:
            try:
                name = _value(catalog.get(path), field)
            except (Missing, Denied) as error:
                tried.append(f"GET {path}: {type(error).__name__}: {error}")
                continue
            if name is not None:
                source = where
                break
            tried.append(f"GET {path}: no {field}")
    except UnityCatalogError as error:
        raise ValueError(
            f"Cannot read the default catalog of the workspace {settings.host}: {error}; {_HINT}"
        ) from None
    if name is None:
        raise ValueError(f"The workspace {settings.host} names no default catalog ({'; '.join(tried)}); {_HINT}")
    if name.lower() in NOT_UNITY_CATALOG:
        raise ValueError(
            f"The default catalog of the workspace {settings.host} is {name!r} ({source}), not a Unity Catalog "
            f"catalog; {_HINT}"
        )
    return DefaultCatalog(name, source)
