"""Can this run write where it is about to write? Permission checks for both runtime targets.

Pure Python, no Dagster: :func:`verify_local` for the local Delta warehouse and
:func:`verify_unity_catalog` for Unity Catalog (Databricks, or the open-source server).
Both return a :class:`PermissionReport` that says what was verified, what is missing,
and the exact statement that fixes each gap.

One module per job:

* :mod:`.report`: the report data types (:class:`PermissionReport`, :class:`MissingPrivilege`,
  :class:`MissingObject`) and their text and markdown rendering.
* :mod:`.identifiers`: name checks, identifier and principal quoting, GRANT statements.
* :mod:`.local`: the local-warehouse probe (:func:`verify_local`).
* :mod:`.unity_catalog`: the Unity Catalog REST client side (:func:`workspace_client`,
  :class:`UnityCatalogError`, JSON lookups).
* :mod:`.privileges`: the Unity Catalog privilege rules (:func:`verify_unity_catalog`); its
  docstring states the rules and which API answers.
"""

from __future__ import annotations

from .identifiers import grant_statement, quote_identifier, quote_principal
from .local import verify_local
from .privileges import verify_unity_catalog
from .report import MissingObject, MissingPrivilege, PermissionReport
from .unity_catalog import UnityCatalogError, workspace_client

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
