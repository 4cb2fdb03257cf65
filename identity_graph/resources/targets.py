"""The runtime target (local or Databricks) and where tables go: read from the environment in one place."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

TARGETS = ("local", "databricks")


@dataclass(frozen=True)
class TargetSettings:
    """Everything that differs between runtime targets.

    ``IDENTITY_GRAPH_TARGET`` (``local`` or ``databricks``; default ``local``),
    ``IDENTITY_GRAPH_WAREHOUSE`` (default ``./warehouse``), ``IDENTITY_GRAPH_CATALOG``
    (``main`` locally; on the databricks target the workspace's default catalog, see
    :mod:`identity_graph.resources.default_catalog`), ``IDENTITY_GRAPH_SCHEMA`` (``identity_graph``),
    ``IDENTITY_GRAPH_SPARK_MASTER`` (``local[*]``) and ``IDENTITY_GRAPH_SPARK_REMOTE``
    (a Spark Connect URL ``sc://host:port``; when set, the local target's session is a
    Connect client instead of a local JVM), ``IDENTITY_GRAPH_GIT_URL`` and
    ``IDENTITY_GRAPH_GIT_BRANCH`` (``main``; when a URL is set, each asset's code reference
    links to its source in that repository) are read by :meth:`from_env` and nowhere else.
    The databricks target's own settings (workspace, cluster) are read by
    :class:`identity_graph.resources.databricks.DatabricksSettings`.
    """

    target: str = "local"
    warehouse: str = "warehouse"
    catalog: str = "main"
    schema: str = "identity_graph"
    spark_master: str = "local[*]"
    spark_remote: str | None = None
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    git_url: str | None = None
    git_branch: str = "main"

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"IDENTITY_GRAPH_TARGET={self.target!r} is not supported; choose one of {list(TARGETS)}")
        for name in ("catalog", "schema"):
            value = getattr(self, name)
            if not value or "/" in value or value in (".", ".."):
                raise ValueError(f"{name} must be a plain name, got {value!r}")
        if self.spark_remote is not None and not self.spark_remote.startswith("sc://"):
            raise ValueError(
                f"IDENTITY_GRAPH_SPARK_REMOTE must be a Spark Connect URL sc://host:port, got {self.spark_remote!r}"
            )

    def environment(self) -> dict[str, str]:
        """These settings as the environment variables :meth:`from_env` reads (for a remote process)."""
        return {
            "IDENTITY_GRAPH_TARGET": self.target,
            "IDENTITY_GRAPH_CATALOG": self.catalog,
            "IDENTITY_GRAPH_SCHEMA": self.schema,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> TargetSettings:
        """Settings from the environment, with explicit overrides (``None`` values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "target": env.get("IDENTITY_GRAPH_TARGET", "local").strip().lower() or "local",
            "warehouse": env.get("IDENTITY_GRAPH_WAREHOUSE") or "warehouse",
            "catalog": env.get("IDENTITY_GRAPH_CATALOG") or None,
            "schema": env.get("IDENTITY_GRAPH_SCHEMA") or "identity_graph",
            "spark_master": env.get("IDENTITY_GRAPH_SPARK_MASTER") or "local[*]",
            "spark_remote": env.get("IDENTITY_GRAPH_SPARK_REMOTE") or None,
            "git_url": env.get("IDENTITY_GRAPH_GIT_URL") or None,
            "git_branch": env.get("IDENTITY_GRAPH_GIT_BRANCH") or "main",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["catalog"] is None:
            values["catalog"] = (
                default_catalog(env, export=environ is None) if values["target"] == "databricks" else "main"
            )
        return cls(**values)  # type: ignore[arg-type]


def default_catalog(environ: Mapping[str, str], *, export: bool) -> str:
    """The databricks target's catalog when none is named: the workspace's default catalog, asked
    once with a bounded client and printed with the reason. ``export``: set it as
    ``IDENTITY_GRAPH_CATALOG`` in this process's environment, so the processes it starts (run
    workers, step processes) name the same catalog without asking again."""
    from identity_graph.resources.databricks import DatabricksSettings
    from identity_graph.resources.default_catalog import workspace_default_catalog

    settings = DatabricksSettings.from_env(environ)
    chosen = workspace_default_catalog(settings, environ)
    print(chosen.describe(settings.host), file=sys.stderr)
    if export:
        os.environ["IDENTITY_GRAPH_CATALOG"] = chosen.name
    return chosen.name
