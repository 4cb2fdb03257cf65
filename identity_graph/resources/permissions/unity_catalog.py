"""The Unity Catalog REST client side: a bounded ``WorkspaceClient``, and JSON lookups through it.

:func:`workspace_client` builds a ``databricks.sdk.WorkspaceClient`` with timeouts a
preflight check can live with. :class:`UnityCatalog` asks the REST API through that
client's authenticated transport and returns plain JSON (see :mod:`.privileges` for why
not the SDK's typed responses); it turns the SDK's errors into :class:`Missing`
(404/501), :class:`Denied` (403, or 400) or :class:`UnityCatalogError` (anything else),
with the credentials scrubbed from every message.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

__all__ = [
    "UC_API",
    "Denied",
    "Missing",
    "UnityCatalog",
    "UnityCatalogError",
    "escape_name",
    "scrub",
    "workspace_client",
]

UC_API = "/api/2.1/unity-catalog"
"""Path prefix of the Unity Catalog REST API."""


class UnityCatalogError(RuntimeError):
    """Unity Catalog could not be asked (network, authentication, an unexpected answer).

    The message names the host and the request, never the credentials.
    """


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every one of ``secrets`` (``None`` and empty ones skipped) replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def workspace_client(
    host: str,
    token: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    profile: str | None = None,
    config_file: str | None = None,
    http_timeout_seconds: int = 10,
    retry_timeout_seconds: int = 10,
) -> WorkspaceClient:
    """A ``databricks.sdk.WorkspaceClient`` on ``host`` with bounded timeouts, authenticated by
    databricks-sdk's unified auth.

    A personal access token, else a service principal's OAuth client id and secret, as
    given; else the ``profile`` of the SDK's config file (``config_file``, default
    ``~/.databrickscfg``), else the SDK's default credential chain for ``host`` (its
    environment variables, the Databricks or Azure CLI's login, a cloud's metadata, ...).

    The SDK otherwise retries connection errors for 300 s; a preflight check must fail
    well inside a minute (an unanswered request costs ``http_timeout_seconds``, retries
    stop after ``retry_timeout_seconds``), whatever the auth.
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    if token:
        auth: dict[str, str] = {"token": token, "auth_type": "pat"}
    elif client_id and client_secret:
        auth = {"client_id": client_id, "client_secret": client_secret, "auth_type": "oauth-m2m"}
    else:
        # The SDK's unified auth: a profile when named, else its default credential chain.
        auth = {name: value for name, value in (("profile", profile), ("config_file", config_file)) if value}
    return WorkspaceClient(
        config=Config(
            host=host, http_timeout_seconds=http_timeout_seconds, retry_timeout_seconds=retry_timeout_seconds, **auth
        )
    )


@dataclass(frozen=True)
class _Lookup:
    """What a GET of a catalog, schema or table said."""

    exists: bool | None  # None: the caller may not see it (403), so existence is unknown
    owner: str | None = None
    denied: str | None = None


class Denied(Exception):
    """A 403 answer: the caller may not see or read the object."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Rejected(Denied):
    """A 400 answer: the server did not accept the request (e.g. an unknown principal)."""


class Missing(Exception):
    """A 404 or 501 answer: no such object, or no such endpoint on this server."""


class UnityCatalog:
    """Thin JSON access to the Unity Catalog REST API through the SDK's authenticated client."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._client = client
        config = getattr(client, "config", None)
        self.host = str(getattr(config, "host", None) or "the Databricks host")
        self._secrets = [
            str(s) for s in (getattr(config, name, None) for name in ("token", "client_secret", "password")) if s
        ]

    def _scrub(self, text: str) -> str:
        # The SDK appends its config (host, auth type, secrets masked) to 401/403 messages;
        # the host is named separately, so keep only the server's own message.
        return scrub(re.sub(r"\. Config: .*\Z", ".", text, flags=re.DOTALL), self._secrets)

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path``; raise :class:`Missing` on 404/501, :class:`Denied` on 403, else :class:`UnityCatalogError`."""
        import requests
        from databricks.sdk import errors

        try:
            result = self._client.api_client.do(
                "GET", path, query=dict(query or {}) or None, headers={"Accept": "application/json"}
            )
        except (errors.NotFound, errors.NotImplemented) as error:
            raise Missing(self._scrub(str(error))) from None
        except errors.PermissionDenied as error:
            raise Denied(self._scrub(str(error))) from None
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
        path = f"{UC_API}/{_plural(kind)}/{escape_name(full_name)}"
        try:
            info = self.get(path)
        except Missing:
            return _Lookup(exists=False)
        except _Rejected as rejected:
            raise UnityCatalogError(f"Unity Catalog at {self.host} rejected GET {path}: {rejected.message}") from None
        except Denied as denied:
            return _Lookup(exists=None, denied=denied.message)
        return _Lookup(exists=True, owner=info.get("owner"))


def _plural(kind: str) -> str:
    return {"catalog": "catalogs", "schema": "schemas", "table": "tables"}[kind]


def escape_name(full_name: str) -> str:
    """``full_name`` (``catalog.schema.table``) percent-escaped for use as one URL path segment."""
    # The SDK pastes names into URL paths unescaped; escape everything but the dots.
    return urllib.parse.quote(full_name, safe=".")
