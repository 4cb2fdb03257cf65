"""The databricks target: dagster-databricks' step launcher, configured from the environment.

Everything Databricks-specific about *running* lives here. Each asset (and each asset
check that reads tables) names the ``step_launcher`` resource: on the databricks target it
is dagster-databricks' ``databricks_pyspark_step_launcher``, which ships the step to a
cluster; on the local target it is ``None`` and the step runs in the local process.

Secrets never enter a config value that Dagster stores or shows: the launcher's token
and OAuth client are ``{"env": ...}`` sources resolved when the resource starts, on the
Dagster host from its environment and on the cluster from the Databricks secret scope that
the launcher exports as environment variables. With a config profile or the SDK's default
credential chain, no secret is named at all: databricks-sdk finds the credentials itself
(on the cluster: the runtime's own authentication).
"""

import configparser
import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

#: The resource key every Spark step requires, so that the step launcher can claim it.
STEP_LAUNCHER = "step_launcher"

#: The type of the ``step_launcher`` parameter of assets and checks (``None`` locally).
StepLauncherParam = dg.ResourceParam[dg.StepLauncher | None]

#: Databricks Runtime 17.3 LTS: Spark 4.0 and Python 3.12, the oldest LTS on Spark 4
#: (the generation code is written against pyspark 4; dagster 1.13 needs Python >= 3.10).
DEFAULT_SPARK_VERSION = "17.3.x-scala2.13"
#: The new clusters' node type per cloud (the workspace host tells the cloud): 4 cores, about
#: 32 GB of memory and local SSD on each.
DEFAULT_NODE_TYPES = {"aws": "i3.xlarge", "azure": "Standard_E4ds_v5", "gcp": "n2-highmem-4"}
DEFAULT_NODE_TYPE = DEFAULT_NODE_TYPES["aws"]
DEFAULT_WORKERS = "2-8"
DEFAULT_SECRET_SCOPE = "identity_graph"
DEFAULT_STAGING_PREFIX = "/dagster_staging/identity_graph"
#: Seconds between the launcher's polls of a run's state (dagster-databricks' own default).
DEFAULT_POLL_SECONDS = 5.0

#: PyPI packages the cluster needs beyond its runtime and dagster's own
#: (``install_default_libraries`` adds dagster, dagster-databricks, dagster-pyspark and
#: databricks-sdk at the local versions). pyspark and Delta come with the runtime.
CLUSTER_PACKAGES = ("faker",)

#: Set on every Databricks cluster; the Dagster host never has it.
RUNTIME_VARIABLE = "DATABRICKS_RUNTIME_VERSION"


#: How the Dagster host authenticates: a personal access token, a service principal's OAuth
#: client, a profile of the config file, or databricks-sdk's default credential chain.
AUTHS = ("token", "oauth", "profile", "default")


def cloud_of(host: str) -> str:
    """``aws``, ``azure`` or ``gcp``: the cloud of a workspace URL, as databricks-sdk tells it
    (``*.azuredatabricks.net`` and the other Azure zones, ``*.gcp.databricks.com``; anything
    else is AWS)."""
    from databricks.sdk.environments import get_environment_for_hostname

    hostname = urllib.parse.urlsplit(host).hostname or host
    return get_environment_for_hostname(hostname).cloud.value.lower()


def default_node_type(host: str) -> str:
    """The new clusters' node type when ``IDENTITY_GRAPH_DATABRICKS_NODE_TYPE`` is unset."""
    return DEFAULT_NODE_TYPES[cloud_of(host)]


def profile_host(profile: str, config_file: str | None = None) -> str | None:
    """The ``host`` of ``profile`` in databricks-sdk's config file (``config_file``, default
    ``~/.databrickscfg``), or None when the profile names none; ValueError naming the file and
    the profile when either is missing. Nothing else of the profile is read here (its
    credentials are the SDK's business) and no line of the file is quoted."""
    path = Path(config_file or "~/.databrickscfg").expanduser()
    where = f"DATABRICKS_CONFIG_PROFILE={profile!r}"
    if not path.exists():
        raise ValueError(
            f"{where} names a profile of {path}, which does not exist "
            "(DATABRICKS_CONFIG_FILE names another config file)"
        )
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error as error:
        line = getattr(error, "lineno", None)
        raise ValueError(
            f"{where}: {path} is not a Databricks config file ({type(error).__name__}"
            f"{f' at line {line}' if line else ''})"
        ) from None
    # As databricks-sdk reads it: a profile's own keys, DEFAULT only when it is the profile named.
    profiles = {name: dict(parser._sections[name]) for name in parser.sections()}
    if parser.defaults():
        profiles["DEFAULT"] = dict(parser.defaults())
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ValueError(f"{where}: {path} has no profile {profile!r} (its profiles: {known})")
    host = (profiles[profile].get("host") or "").strip()
    return normalized_host(host) if host else None


def normalized_host(host: str) -> str:
    """``host`` as a URL without a trailing slash (databricks-sdk adds ``https://`` to a bare name)."""
    host = host.strip().rstrip("/")
    return host if "://" in host else f"https://{host}"


def on_databricks_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is a step running on a Databricks cluster (not the Dagster host)."""
    return RUNTIME_VARIABLE in (os.environ if environ is None else environ)


@dataclass(frozen=True)
class DatabricksSettings:
    """Where and on what the databricks target runs, from the environment.

    Authentication is databricks-sdk's unified auth, the first of: ``DATABRICKS_TOKEN``
    (``auth="token"``); ``DATABRICKS_CLIENT_ID`` + ``DATABRICKS_CLIENT_SECRET``, a service
    principal (``"oauth"``); ``DATABRICKS_CONFIG_PROFILE``, a profile of the config file
    (``DATABRICKS_CONFIG_FILE``, default ``~/.databrickscfg``; ``"profile"``); else the SDK's
    default credential chain (``"default"``). Only *names* are kept here — secret values are
    read when resources start, by Dagster or by the SDK. ``DATABRICKS_HOST`` (``https://…``)
    is the workspace; with a profile it may come from the profile instead (the two must agree).
    ``IDENTITY_GRAPH_DATABRICKS_CLUSTER_ID`` runs every step on an existing cluster;
    otherwise each step gets a new job cluster of ``IDENTITY_GRAPH_DATABRICKS_SPARK_VERSION``
    on ``IDENTITY_GRAPH_DATABRICKS_NODE_TYPE`` (default: :data:`DEFAULT_NODE_TYPES` for the
    host's cloud) with ``IDENTITY_GRAPH_DATABRICKS_WORKERS`` workers (``4``, or ``2-8`` to
    autoscale). ``IDENTITY_GRAPH_DATABRICKS_SECRET_SCOPE`` is the secret scope holding the
    token or OAuth client for the cluster side (keys ``databricks_token``, or
    ``databricks_client_id`` and ``databricks_client_secret``); with a profile or the default
    chain the cluster side uses the runtime's own authentication instead.
    ``IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS`` is how often the launcher asks for a run's state.
    """

    host: str
    auth: str  # one of AUTHS
    profile: str | None = None
    config_file: str | None = None
    cluster_id: str | None = None
    spark_version: str = DEFAULT_SPARK_VERSION
    node_type: str = DEFAULT_NODE_TYPE
    workers: str = DEFAULT_WORKERS
    secret_scope: str = DEFAULT_SECRET_SCOPE
    staging_prefix: str = DEFAULT_STAGING_PREFIX
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    poll_seconds: float = DEFAULT_POLL_SECONDS

    def __post_init__(self) -> None:
        if not self.host.startswith(("https://", "http://")):
            raise ValueError(f"DATABRICKS_HOST must be the workspace URL, https://…; got {self.host!r}")
        if self.auth not in AUTHS:
            raise ValueError(f"auth must be one of {list(AUTHS)}, got {self.auth!r}")
        if (self.auth == "profile") != bool(self.profile):
            raise ValueError("a profile is named exactly when auth is 'profile'")
        if not self.staging_prefix.startswith("/"):
            raise ValueError(
                f"IDENTITY_GRAPH_DATABRICKS_STAGING must be an absolute DBFS path, got {self.staging_prefix!r}"
            )
        if not self.poll_seconds > 0:
            raise ValueError(f"IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS must be > 0, got {self.poll_seconds!r}")
        if not self.cluster_id:
            self.size()  # validates the workers setting

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "DatabricksSettings":
        """The settings from the environment; ValueError naming what is missing or wrong."""
        env = os.environ if environ is None else environ
        host = (env.get("DATABRICKS_HOST") or "").strip().rstrip("/")
        profile = (env.get("DATABRICKS_CONFIG_PROFILE") or "").strip() or None
        config_file = env.get("DATABRICKS_CONFIG_FILE") or None
        if env.get("DATABRICKS_TOKEN"):
            auth = "token"
        elif env.get("DATABRICKS_CLIENT_ID") and env.get("DATABRICKS_CLIENT_SECRET"):
            auth = "oauth"
        elif profile:
            auth = "profile"
        else:
            auth = "default"
        if auth == "profile":
            assert profile is not None
            in_profile = profile_host(profile, config_file)
            if in_profile and host and normalized_host(host) != in_profile:
                raise ValueError(
                    f"DATABRICKS_HOST={host} is not the host of profile {profile!r} ({in_profile}): "
                    "unset DATABRICKS_HOST, or name the profile of that workspace"
                )
            host = host or in_profile or ""
        if not host:
            raise ValueError(
                "IDENTITY_GRAPH_TARGET=databricks needs DATABRICKS_HOST (the workspace URL, https://…), "
                + (
                    f"or a host in profile {profile!r} (DATABRICKS_CONFIG_PROFILE)"
                    if profile
                    else "or DATABRICKS_CONFIG_PROFILE naming a profile of ~/.databrickscfg that has one"
                )
            )
        if auth != "profile":
            profile = None
        prefix = "IDENTITY_GRAPH_DATABRICKS_"
        poll = env.get(prefix + "POLL_SECONDS") or str(DEFAULT_POLL_SECONDS)
        try:
            poll_seconds = float(poll)
        except ValueError:
            raise ValueError(
                f"IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS must be a number of seconds, got {poll!r}"
            ) from None
        return cls(
            host=host,
            auth=auth,
            profile=profile,
            config_file=config_file if auth == "profile" else None,
            cluster_id=env.get(prefix + "CLUSTER_ID") or None,
            spark_version=env.get(prefix + "SPARK_VERSION") or DEFAULT_SPARK_VERSION,
            node_type=env.get(prefix + "NODE_TYPE") or default_node_type(host),
            workers=env.get(prefix + "WORKERS") or DEFAULT_WORKERS,
            secret_scope=env.get(prefix + "SECRET_SCOPE") or DEFAULT_SECRET_SCOPE,
            staging_prefix=env.get(prefix + "STAGING") or DEFAULT_STAGING_PREFIX,
            poll_seconds=poll_seconds,
        )

    # -- the pieces of the launcher's config -------------------------------------------
    def size(self) -> dict[str, Any]:
        """The new cluster's size: a fixed ``num_workers`` or an ``autoscale`` range."""
        text = self.workers.strip()
        try:
            if "-" in text:
                low, high = (int(part) for part in text.split("-", 1))
                if not 0 < low <= high:
                    raise ValueError
                return {"autoscale": {"min_workers": low, "max_workers": high}}
            count = int(text)
            if count < 0:
                raise ValueError
            return {"num_workers": count}
        except ValueError:
            raise ValueError(
                f"IDENTITY_GRAPH_DATABRICKS_WORKERS must be a worker count (4) or a range (2-8), got {self.workers!r}"
            ) from None

    def cluster(self) -> dict[str, Any]:
        """The ``cluster`` entry of the run: the existing cluster, or a new job cluster's spec."""
        if self.cluster_id:
            return {"existing": self.cluster_id}
        return {
            "new": {
                "size": self.size(),
                "spark_version": self.spark_version,
                "nodes": {"node_types": {"node_type_id": self.node_type}},
                # Dedicated (single-user) access: the step launcher stages files on DBFS and
                # runs a Python task, which standard (shared) access mode does not allow.
                "data_security_mode": "SINGLE_USER",
                "spark_conf": dict(self.spark_conf),
                "custom_tags": [{"key": "application", "value": "identity_graph"}],
            }
        }

    def libraries(self) -> list[dict[str, Any]]:
        """The project's own PyPI dependencies, pinned to the versions installed here."""
        return [{"pypi": {"package": f"{name}=={importlib.metadata.version(name)}"}} for name in CLUSTER_PACKAGES]

    def credentials(self) -> dict[str, Any]:
        """The launcher's credential config: environment sources, never values.

        With a profile or the default chain, none: dagster-databricks then builds its client
        with databricks-sdk's ``DefaultCredentials`` for the host, and the SDK reads
        ``DATABRICKS_CONFIG_PROFILE`` / ``DATABRICKS_CONFIG_FILE`` (or its other sources)
        itself — on the Dagster host as for the preflight, on the cluster the runtime's own auth.
        """
        if self.auth == "token":
            return {"databricks_token": {"env": "DATABRICKS_TOKEN"}}
        if self.auth == "oauth":
            return {
                "oauth_client_id": {"env": "DATABRICKS_CLIENT_ID"},
                "oauth_client_secret": {"env": "DATABRICKS_CLIENT_SECRET"},
            }
        return {}

    def cluster_secrets(self) -> list[dict[str, str]]:
        """The credentials the cluster side reads from the secret scope into its environment.

        A token or OAuth client: the same, from the scope. A profile or the default chain:
        nothing — a profile file is not on the cluster, and there databricks-sdk's default
        chain authenticates with the Databricks runtime's own credentials (its ``runtime``
        provider: the identity the run runs as, i.e. the one that submitted it).
        """
        if self.auth == "token":
            names = ["DATABRICKS_TOKEN"]
        elif self.auth == "oauth":
            names = ["DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"]
        else:
            names = []
        return [{"name": name, "key": name.lower(), "scope": self.secret_scope} for name in names]

    def cluster_environment(self, target_environment: Mapping[str, str]) -> dict[str, str]:
        """Non-secret environment for the cluster side: the host and the target's settings."""
        return {"DATABRICKS_HOST": self.host, **target_environment}

    def step_launcher(
        self,
        target_environment: Mapping[str, str],
        package_root: str | None = None,
        stays_here: Callable[[dg.DagsterRun], bool] | None = None,
    ) -> dg.ResourceDefinition:
        """dagster-databricks' ``databricks_pyspark_step_launcher`` for these settings.

        ``target_environment`` (the ``IDENTITY_GRAPH_*`` settings) is exported on the
        cluster so that the rebuilt resources there name the same catalog and schema. In a
        run for which ``stays_here`` is true (one that only asks the catalog, needing no
        Spark), the resource is ``None``: its steps run in the Dagster process, no cluster run.
        """
        from dagster_databricks import databricks_pyspark_step_launcher

        # On the cluster the launcher is only rebuilt, never launched: no package to stage there.
        package = package_root or (
            str(Path(__file__).resolve().parents[2]) if on_databricks_cluster() else staged_package()
        )
        static = {
            "run_config": {
                "run_name": "identity_graph step",
                "cluster": self.cluster(),
                "libraries": self.libraries(),
                "install_default_libraries": True,
            },
            "env_variables": self.cluster_environment(target_environment),
            "secrets_to_env_variables": self.cluster_secrets(),
            "local_pipeline_package_path": package,
            "staging_prefix": self.staging_prefix,
            "poll_interval_sec": self.poll_seconds,
            "wait_for_logs": False,
            "verbose_logs": False,
        }
        secret_schema = {
            "databricks_host": dg.Field(dg.StringSource),
            "databricks_token": dg.Field(dg.Noneable(dg.StringSource), default_value=None),
            "oauth_client_id": dg.Field(dg.Noneable(dg.StringSource), default_value=None),
            "oauth_client_secret": dg.Field(dg.Noneable(dg.StringSource), default_value=None),
        }

        def launcher_config(resolved: Mapping[str, Any]) -> dict[str, Any]:
            # Runs when the resource starts: the env sources above are resolved by then.
            oauth = (
                {"client_id": resolved["oauth_client_id"], "client_secret": resolved["oauth_client_secret"]}
                if resolved.get("oauth_client_id")
                else None
            )
            return {
                **static,
                "databricks_host": resolved["databricks_host"],
                "databricks_token": resolved.get("databricks_token"),
                "oauth_credentials": oauth,
            }

        with_secrets = databricks_pyspark_step_launcher.configured(launcher_config, config_schema=secret_schema)
        # The host is not a secret, and may come from a profile rather than DATABRICKS_HOST.
        launcher = with_secrets.configured({"databricks_host": self.host, **self.credentials()})
        if stays_here is None:
            return launcher

        def launch_unless_here(context: dg.InitResourceContext) -> Any:
            if context.dagster_run is not None and stays_here(context.dagster_run):
                return None
            return launcher.resource_fn(context)

        # The same configuration (and its mapping to the launcher's) as the launcher itself.
        return dg.ResourceDefinition(
            resource_fn=launch_unless_here, config_schema=launcher.config_schema, description=launcher.description
        )


def staged_package() -> str:
    """A directory holding only the ``identity_graph`` package, for the launcher to zip.

    The launcher zips the whole directory it is given, so it must not be the project root
    (virtualenvs, warehouses) or site-packages. The copy's name carries a hash of the
    sources, so a changed package is staged anew and an unchanged one is reused.
    """
    source = Path(__file__).resolve().parents[1]
    files = sorted(p for p in source.rglob("*.py") if "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(source)).encode())
        digest.update(path.read_bytes())
    root = Path(tempfile.gettempdir()) / f"identity_graph_package_{digest.hexdigest()[:16]}"
    if not (root / "identity_graph" / "__init__.py").exists():
        scratch = Path(tempfile.mkdtemp(prefix="identity_graph_package_"))
        for path in files:
            destination = scratch / "identity_graph" / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        try:
            scratch.rename(root)
        except OSError:  # another process staged the same sources first
            shutil.rmtree(scratch, ignore_errors=True)
    return str(root)
