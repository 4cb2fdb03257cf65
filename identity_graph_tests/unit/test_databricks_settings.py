"""The databricks target's auth and defaults as Databricks users expect them (issue 15, point 5).

databricks-sdk's unified auth — a token, a service principal's OAuth client, a profile of the
config file chosen by ``DATABRICKS_CONFIG_PROFILE``, or the SDK's default credential chain — for
the preflight's client and the step launcher; the workspace's default catalog when
``IDENTITY_GRAPH_CATALOG`` is unset; the node type per cloud. Workspaces are the loopback
Databricks (support/loopback_databricks.py) on 127.0.0.1; config files are temporary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER, DatabricksSettings, cloud_of
from identity_graph.resources.default_catalog import ASSIGNMENT_PATH, SETTING_PATH
from identity_graph.resources.location import TableLocation
from identity_graph.resources.permissions import UnityCatalogError
from identity_graph.resources.targets import TargetSettings
from identity_graph_tests.support.loopback_databricks import LoopbackDatabricks

TOKEN = "dapi-TEST-SECRET-0123456789abcdef"
PROFILE_TOKEN = "dapi-PROFILE-SECRET-fedcba9876543210"
AWS = "https://dbc-0123.cloud.databricks.com"
TABLES = ["households"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No DATABRICKS_* or IDENTITY_GRAPH_* of the developer's; the SDK reads no config file unless told."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "IDENTITY_GRAPH_", "ARM_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", os.devnull)


@pytest.fixture
def workspace(tmp_path):
    """Start loopback workspaces (keyword arguments of LoopbackDatabricks); all closed afterwards."""
    started: list[LoopbackDatabricks] = []

    def start(token: str = TOKEN, **options) -> LoopbackDatabricks:
        server = LoopbackDatabricks(tmp_path / f"workspace{len(started)}", token, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "databrickscfg"
    path.write_text(text)
    return str(path)


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# --------------------------------------------------------------------------- which auth


def test_token_and_oauth_keep_their_environment_sources_and_secret_scope():
    token = DatabricksSettings.from_env({"DATABRICKS_HOST": AWS, "DATABRICKS_TOKEN": TOKEN})
    assert (token.auth, token.profile) == ("token", None)
    assert token.credentials() == {"databricks_token": {"env": "DATABRICKS_TOKEN"}}
    assert [s["name"] for s in token.cluster_secrets()] == ["DATABRICKS_TOKEN"]
    oauth = DatabricksSettings.from_env(
        {"DATABRICKS_HOST": AWS, "DATABRICKS_CLIENT_ID": "sp", "DATABRICKS_CLIENT_SECRET": "x"}
    )
    assert oauth.auth == "oauth"
    # A token wins over a profile, as before profiles were read.
    both = DatabricksSettings.from_env(
        {"DATABRICKS_HOST": AWS, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_CONFIG_PROFILE": "anything"}
    )
    assert (both.auth, both.profile) == ("token", None)


def test_a_profile_names_the_host_and_no_secret(tmp_path):
    path = config_file(
        tmp_path,
        f"[DEFAULT]\nhost = https://other.cloud.databricks.com\ntoken = dapi-default\n\n"
        f"[dev]\nhost = adb-123.4.azuredatabricks.net/\ntoken = {PROFILE_TOKEN}\n",
    )
    settings = DatabricksSettings.from_env({"DATABRICKS_CONFIG_PROFILE": "dev", "DATABRICKS_CONFIG_FILE": path})
    assert (settings.auth, settings.profile, settings.config_file) == ("profile", "dev", path)
    assert settings.host == "https://adb-123.4.azuredatabricks.net"
    # Nothing for the launcher to resolve: the SDK reads the profile itself; the cluster has no profile
    # file and uses the runtime's own authentication, so nothing comes from the secret scope.
    assert settings.credentials() == {}
    assert settings.cluster_secrets() == []
    assert PROFILE_TOKEN not in repr(settings)
    # DATABRICKS_HOST may name the same workspace.
    same = DatabricksSettings.from_env(
        {
            "DATABRICKS_HOST": "https://adb-123.4.azuredatabricks.net/",
            "DATABRICKS_CONFIG_PROFILE": "dev",
            "DATABRICKS_CONFIG_FILE": path,
        }
    )
    assert same.host == "https://adb-123.4.azuredatabricks.net/".rstrip("/")
    # DEFAULT is a profile like any other when named.
    default = DatabricksSettings.from_env({"DATABRICKS_CONFIG_PROFILE": "DEFAULT", "DATABRICKS_CONFIG_FILE": path})
    assert default.host == "https://other.cloud.databricks.com"


def test_the_default_credential_chain_when_nothing_else_is_named():
    settings = DatabricksSettings.from_env({"DATABRICKS_HOST": AWS})
    assert (settings.auth, settings.profile, settings.credentials(), settings.cluster_secrets()) == (
        "default",
        None,
        {},
        [],
    )


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("unknown profile", "has no profile 'prod' (its profiles: DEFAULT, dev)"),
        ("no config file", "which does not exist"),
        ("profile without host", "needs DATABRICKS_HOST (the workspace URL, https://…), or a host in profile 'bare'"),
        ("another host", "is not the host of profile 'dev'"),
        ("not a config file", "is not a Databricks config file (MissingSectionHeaderError at line 1)"),
    ],
)
def test_a_bad_profile_is_named_without_its_secrets(tmp_path, case, fragment):
    good = f"[DEFAULT]\nhost = {AWS}\ntoken = {PROFILE_TOKEN}\n\n[dev]\nhost = {AWS}\ntoken = {PROFILE_TOKEN}\n"
    environ = {"DATABRICKS_CONFIG_PROFILE": "dev", "DATABRICKS_CONFIG_FILE": config_file(tmp_path, good)}
    if case == "unknown profile":
        environ["DATABRICKS_CONFIG_PROFILE"] = "prod"
    elif case == "no config file":
        environ["DATABRICKS_CONFIG_FILE"] = str(tmp_path / "missing.cfg")
    elif case == "profile without host":
        environ["DATABRICKS_CONFIG_PROFILE"] = "bare"
        environ["DATABRICKS_CONFIG_FILE"] = config_file(tmp_path, f"[bare]\ntoken = {PROFILE_TOKEN}\n")
    elif case == "another host":
        environ["DATABRICKS_HOST"] = "https://dbc-9999.cloud.databricks.com"
    else:
        environ["DATABRICKS_CONFIG_FILE"] = config_file(tmp_path, f"token = {PROFILE_TOKEN}\n")
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as raised:
        DatabricksSettings.from_env(environ)
    assert PROFILE_TOKEN not in str(raised.value)


# --------------------------------------------------------------------------- node type per cloud


@pytest.mark.parametrize(
    ("host", "cloud", "node_type"),
    [
        (AWS, "aws", "i3.xlarge"),
        ("https://adb-1234567890123456.7.azuredatabricks.net", "azure", "Standard_E4ds_v5"),
        ("https://adb-1234567890123456.7.databricks.azure.cn", "azure", "Standard_E4ds_v5"),
        ("https://1234567890123456.7.gcp.databricks.com", "gcp", "n2-highmem-4"),
        ("http://127.0.0.1:8080", "aws", "i3.xlarge"),
    ],
)
def test_the_node_type_fits_the_hosts_cloud(host, cloud, node_type):
    assert cloud_of(host) == cloud
    settings = DatabricksSettings.from_env({"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN})
    assert settings.cluster()["new"]["nodes"] == {"node_types": {"node_type_id": node_type}}
    chosen = DatabricksSettings.from_env(
        {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN, "IDENTITY_GRAPH_DATABRICKS_NODE_TYPE": "m5d.large"}
    )
    assert chosen.node_type == "m5d.large"


# --------------------------------------------------------------------------- the preflight's client


def profile_catalog(host: str, path: str, profile: str = "dev") -> CatalogAccess:
    return CatalogAccess(
        location=TableLocation("databricks"),
        databricks_host=host,
        databricks_profile=profile,
        databricks_config_file=path,
    )


def test_the_preflight_authenticates_with_a_profile_within_bounded_timeouts(workspace, tmp_path):
    server = workspace(token=PROFILE_TOKEN)
    path = config_file(tmp_path, f"[dev]\nhost = {server.host}\ntoken = {PROFILE_TOKEN}\n")
    catalog = profile_catalog(server.host, path)
    client = catalog.workspace_client()
    assert (client.config.auth_type, client.config.token) == ("pat", PROFILE_TOKEN)
    assert (client.config.http_timeout_seconds, client.config.retry_timeout_seconds) == (10, 10)
    report = catalog.verify(TABLES)
    assert report.ok, report.describe()
    assert "GET /api/2.0/preview/scim/v2/Me" in server.requests


def test_a_profiles_rejected_token_fails_the_preflight_naming_the_host_not_the_token(workspace, tmp_path):
    server = workspace(token=TOKEN)
    path = config_file(tmp_path, f"[dev]\nhost = {server.host}\ntoken = {PROFILE_TOKEN}\n")
    with pytest.raises(UnityCatalogError) as rejected:
        profile_catalog(server.host, path).verify(TABLES)
    assert server.host in str(rejected.value) and "Invalid access token" in str(rejected.value)
    assert PROFILE_TOKEN not in str(rejected.value)
    # A profile the SDK cannot find fails as one error too.
    with pytest.raises(UnityCatalogError, match="has no prod profile configured"):
        profile_catalog(server.host, path, profile="prod").workspace_client()


def test_the_preflight_uses_the_sdks_default_chain(workspace, monkeypatch):
    server = workspace()
    catalog = CatalogAccess(location=TableLocation("databricks"), databricks_host=server.host)
    # Nothing the chain can use: one error naming the host and what was tried.
    with pytest.raises(UnityCatalogError) as raised:
        catalog.workspace_client()
    message = str(raised.value)
    assert message.startswith(f"Cannot connect to Databricks at {server.host}: ValueError: default auth:"), message
    assert "databricks-sdk's default credential chain was asked" in message
    # A source of the chain (here its metadata-service provider, served by the loopback workspace).
    monkeypatch.setenv("DATABRICKS_METADATA_SERVICE_URL", server.metadata_service_url)
    client = catalog.workspace_client()
    assert client.config.auth_type == "metadata-service"
    assert (client.config.http_timeout_seconds, client.config.retry_timeout_seconds) == (10, 10)
    assert catalog.verify(TABLES).ok


# --------------------------------------------------------------------------- the step launcher


def test_the_step_launcher_reads_a_profile_through_the_sdk(workspace, tmp_path, monkeypatch):
    """dagster-databricks' launcher, given no token or OAuth client, builds its client with the SDK's
    DefaultCredentials for the host, which reads DATABRICKS_CONFIG_PROFILE itself."""
    server = workspace(token=PROFILE_TOKEN)
    path = config_file(tmp_path, f"[dev]\nhost = {server.host}\ntoken = {PROFILE_TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", path)
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "dev")
    settings = DatabricksSettings.from_env()
    assert PROFILE_TOKEN not in repr(settings.step_launcher({}).config_schema)
    with dg.build_resources({STEP_LAUNCHER: settings.step_launcher({"IDENTITY_GRAPH_CATALOG": "c"})}) as resources:
        launcher = resources.step_launcher
    client = launcher.databricks_runner.client.workspace_client
    assert (launcher.databricks_host, client.config.host, client.config.token) == (
        server.host,
        server.host,
        PROFILE_TOKEN,
    )
    assert launcher.secrets == []
    assert launcher.env_variables == {"DATABRICKS_HOST": server.host, "IDENTITY_GRAPH_CATALOG": "c"}
    assert client.current_user.me().user_name == "someone@example.com"


# --------------------------------------------------------------------------- the default catalog


@pytest.mark.parametrize(
    ("answers", "catalog", "source"),
    [
        ({"default_namespace": "prod", "default_catalog": "main"}, "prod", "its default_namespace_ws setting"),
        ({"default_namespace": None, "default_catalog": "ws_1234"}, "ws_1234", "of its metastore assignment"),
        ({"settings_denied": True, "default_catalog": "ws_1234"}, "ws_1234", "of its metastore assignment"),
    ],
)
def test_the_databricks_target_defaults_to_the_workspaces_default_catalog(workspace, capsys, answers, catalog, source):
    server = workspace(**answers)
    environ = {"IDENTITY_GRAPH_TARGET": "databricks", "DATABRICKS_HOST": server.host, "DATABRICKS_TOKEN": TOKEN}
    settings = TargetSettings.from_env(environ)
    assert settings.catalog == catalog
    assert settings.environment()["IDENTITY_GRAPH_CATALOG"] == catalog  # what the cluster side gets
    printed = capsys.readouterr().err
    assert f"the tables go to catalog {catalog!r}, the default catalog of the workspace {server.host}" in printed
    assert source in printed and TOKEN not in printed
    assert server.requests[0] == f"GET {SETTING_PATH}"
    # A named catalog, and the local target, ask nobody.
    asked = len(server.requests)
    assert TargetSettings.from_env({**environ, "IDENTITY_GRAPH_CATALOG": "mine"}).catalog == "mine"
    assert TargetSettings.from_env(environ, catalog="cli").catalog == "cli"
    assert TargetSettings.from_env({"DATABRICKS_HOST": server.host}).catalog == "main"
    assert len(server.requests) == asked


def test_the_default_catalog_is_asked_with_a_profile(workspace, tmp_path):
    server = workspace(token=PROFILE_TOKEN, default_namespace="from_profile")
    path = config_file(tmp_path, f"[dev]\nhost = {server.host}\ntoken = {PROFILE_TOKEN}\n")
    environ = {
        "IDENTITY_GRAPH_TARGET": "databricks",
        "DATABRICKS_CONFIG_PROFILE": "dev",
        "DATABRICKS_CONFIG_FILE": path,
    }
    assert TargetSettings.from_env(environ).catalog == "from_profile"


def test_every_process_of_a_run_names_the_catalog_resolved_once(workspace, monkeypatch, capsys):
    """Resolved from the process environment, the catalog is exported to it: the processes it starts
    (run workers, step processes) read it instead of asking the workspace again."""
    server = workspace(default_namespace="prod")
    monkeypatch.setenv("IDENTITY_GRAPH_TARGET", "databricks")
    monkeypatch.setenv("DATABRICKS_HOST", server.host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    monkeypatch.setenv("IDENTITY_GRAPH_CATALOG", "placeholder")
    monkeypatch.delenv("IDENTITY_GRAPH_CATALOG")  # unset now, and unset again after the test
    assert TargetSettings.from_env().catalog == "prod"
    assert os.environ["IDENTITY_GRAPH_CATALOG"] == "prod"
    asked = len(server.requests)
    server.default_namespace = "changed_since"
    probe = "from identity_graph.resources.targets import TargetSettings; print(TargetSettings.from_env().catalog)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "prod"), done.stderr
    assert len(server.requests) == asked


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("no default", "names no default catalog"),
        (
            "hive metastore",
            "is 'hive_metastore' (default_catalog_name of its metastore assignment), not a Unity Catalog",
        ),
        ("rejected token", "Denied: Invalid access token."),
        ("unreachable", "Cannot read the default catalog of the workspace"),
        ("no credentials", "no client (ValueError: default auth:"),
    ],
)
def test_a_workspace_whose_default_catalog_cannot_be_read_stops_the_load(workspace, case, fragment):
    server = workspace(default_namespace=None, default_catalog="hive_metastore" if case == "hive metastore" else None)
    host, token = server.host, TOKEN
    if case == "rejected token":
        token = "dapi-WRONG-0000"
    elif case == "unreachable":
        host = closed_port()
    environ = {"IDENTITY_GRAPH_TARGET": "databricks", "DATABRICKS_HOST": host}
    if case != "no credentials":
        environ["DATABRICKS_TOKEN"] = token
    started = time.monotonic()
    with pytest.raises(ValueError) as raised:
        TargetSettings.from_env(environ)
    elapsed = time.monotonic() - started
    print(f"{case}: failed in {elapsed:.1f}s")
    assert elapsed < 30
    message = str(raised.value)
    assert fragment in message and host in message, message
    assert "set IDENTITY_GRAPH_CATALOG" in message
    assert token not in message
    if case in ("no default", "rejected token"):
        assert [r.split()[1] for r in server.requests] == [SETTING_PATH, ASSIGNMENT_PATH]
