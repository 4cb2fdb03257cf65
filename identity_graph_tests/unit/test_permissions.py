"""Permission checks: GRANT building, the local warehouse, and Unity Catalog on recorded API answers.

The Unity Catalog tests point a real ``databricks.sdk.WorkspaceClient`` at an HTTP server
on 127.0.0.1 that replays the JSON files under ``fixtures/unity_catalog`` (see its
README for where each answer comes from). No mocking: the SDK really does HTTP, and a
request with no recorded answer fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from identity_graph.resources.permissions import (
    MissingObject,
    MissingPrivilege,
    PermissionReport,
    UnityCatalogError,
    grant_statement,
    quote_identifier,
    quote_principal,
    verify_local,
    verify_unity_catalog,
    workspace_client,
)
from identity_graph_tests.support.unity_catalog import FIXTURES, ME, TOKEN, RecordedUnityCatalog

USER = "someone@example.com"
GROUP = "data-engineers"
SP = "6f2a1c3e-0b7d-4c55-9a43-2f1e8d9b7c10"
TABLES = ("households", "individuals", "identity_mappings")
UC = "/api/2.1/unity-catalog"


# --------------------------------------------------------------------------- quoting and GRANT


def test_quote_identifier_doubles_backticks():
    assert quote_identifier("main") == "`main`"
    assert quote_identifier("we`ird") == "`we``ird`"
    assert quote_identifier("``") == "``````"


@pytest.mark.parametrize(
    "name",
    [
        "a`; DROP CATALOG main; --",
        "x` TO `attacker",
        "with space",
        "semi;colon",
        "quote'and\"double",
        "dotted.name",
        "`",
        "ünïcödé",
    ],
)
def test_grant_statement_keeps_hostile_names_inside_one_quoted_identifier(name):
    statement = grant_statement("MODIFY", "table", [name, name, name], name)
    quoted = "`" + name.replace("`", "``") + "`"
    assert statement == f"GRANT MODIFY ON TABLE {quoted}.{quoted}.{quoted} TO {quoted}"
    # Outside the quoted identifiers only the fixed keywords remain.
    assert _unquoted_tokens(statement) == ["GRANT", "MODIFY", "ON", "TABLE", ".", ".", "TO"]


def _unquoted_tokens(statement: str) -> list[str]:
    """The statement's text outside backtick-quoted identifiers (a doubled backtick stays inside)."""
    i, current = 0, ""
    while i < len(statement):
        ch = statement[i]
        if ch == "`":
            i += 1
            while True:
                if statement[i] == "`":
                    if i + 1 < len(statement) and statement[i + 1] == "`":
                        i += 2
                        continue
                    break
                i += 1
            current += " "
        else:
            current += ch
        i += 1
    return current.split()


def test_grant_statement_examples():
    assert (
        grant_statement("USE CATALOG", "catalog", ["main"], USER)
        == "GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com`"
    )
    assert (
        grant_statement("MODIFY", "TABLE", ["main", "identity_graph", "households"], "sp-123")
        == "GRANT MODIFY ON TABLE `main`.`identity_graph`.`households` TO `sp-123`"
    )
    # The REST spelling (underscores) is accepted and written the SQL way.
    assert (
        grant_statement("create_table", "schema", ["main", "g"], "grp")
        == "GRANT CREATE TABLE ON SCHEMA `main`.`g` TO `grp`"
    )


@pytest.mark.parametrize(
    "privilege, securable_type, parts",
    [
        ("DROP", "catalog", ["main"]),  # not on the allow-list
        ("USE CATALOG; DROP CATALOG main", "catalog", ["main"]),
        ("ALL PRIVILEGES ON METASTORE TO x --", "catalog", ["main"]),
        ("USE CATALOG", "metastore", ["main"]),  # securable type not allowed
        ("USE CATALOG", "catalog; DROP", ["main"]),
        ("USE CATALOG", "table", ["a", "b", "c"]),  # privilege not valid on a table
        ("CREATE SCHEMA", "schema", ["a", "b"]),
        ("MODIFY", "table", ["a", "b"]),  # wrong number of parts
        ("MODIFY", "table", "abc"),
        ("USE CATALOG", "catalog", [""]),
    ],
)
def test_grant_statement_rejects_anything_off_the_allow_lists(privilege, securable_type, parts):
    with pytest.raises(ValueError):
        grant_statement(privilege, securable_type, parts, USER)


@pytest.mark.parametrize(
    "bad", ["line\nGRANT ALL PRIVILEGES ON CATALOG `main` TO `evil`", "cr\r", "nul\x00", "sep\u2028", "zw\u200b"]
)
def test_names_with_line_breaks_or_control_characters_are_rejected(bad):
    # Quoted they would be inert SQL, but a line break could forge a separate-looking
    # statement in the text a person copies from describe().
    with pytest.raises(ValueError):
        quote_identifier(bad)
    with pytest.raises(ValueError):
        quote_principal(bad)
    with pytest.raises(ValueError):
        grant_statement("USE CATALOG", "catalog", ["main"], bad)


def test_markdown_escapes_pipes_and_backticks_in_statements():
    report = PermissionReport(
        target="databricks",
        location="main.s",
        principal="a|b",
        checked=("x",),
        missing=(
            MissingPrivilege(
                "catalog", "ma|in", "USE CATALOG", grant_statement("USE CATALOG", "catalog", ["ma|in"], "a``b")
            ),
        ),
    )
    md = report.markdown().splitlines()
    assert md[0] == "| securable type | securable | privilege | statement |"
    assert (
        md[2] == "| catalog | ma\\|in | USE CATALOG | ````` GRANT USE CATALOG ON CATALOG `ma\\|in` TO `a````b` ````` |"
    )


# --------------------------------------------------------------------------- local


def test_local_writable_warehouse_is_ok_and_leaves_nothing_behind(tmp_path):
    warehouse = tmp_path / "warehouse"
    report = verify_local(str(warehouse), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert report.target == "local"
    assert report.location == str(warehouse / "main" / "identity_graph")
    assert report.missing == ()
    assert report.checked == (
        f"{warehouse}/main/identity_graph does not exist yet and can be created under {tmp_path}: yes",
    )
    assert list(tmp_path.iterdir()) == []  # the probe directory is gone, nothing was created

    location = warehouse / "main" / "identity_graph"
    (location / "households" / "_delta_log").mkdir(parents=True)
    report = verify_local(str(warehouse), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert report.checked == (
        f"{location} is a writable directory: yes",
        f"{location}/households is writable: yes",
        f"{location}/households/_delta_log is writable: yes",
    )
    assert sorted(p.name for p in location.rglob("*")) == ["_delta_log", "households"]
    assert "OK (3 checks passed)" in report.describe()


def test_local_uncreatable_location_under_a_file_is_reported_with_its_path(tmp_path):
    blocker = tmp_path / "warehouse"
    blocker.write_text("not a directory")
    report = verify_local(str(blocker), "main", "identity_graph", TABLES)
    location = blocker / "main" / "identity_graph"
    assert not report.ok
    assert [(m.securable_type, m.securable, m.privilege) for m in report.missing] == [
        ("location", str(location), "WRITE")
    ]
    assert f"{blocker} is not a directory, so {location} cannot be created" in report.missing[0].remedy
    assert str(blocker) in report.describe()
    assert f"missing WRITE on location {location}" in report.describe()


def test_local_file_where_a_table_directory_should_be(tmp_path):
    location = tmp_path / "wh" / "main" / "identity_graph"
    location.mkdir(parents=True)
    (location / "individuals").write_text("oops")
    (location / "households").mkdir()
    report = verify_local(str(tmp_path / "wh"), "main", "identity_graph", TABLES)
    assert [(m.securable, m.privilege) for m in report.missing] == [(str(location / "individuals"), "WRITE")]
    assert report.missing[0].remedy.startswith(
        f"a file is where the table directory {location / 'individuals'} should be"
    )
    assert f"table directory {location / 'individuals'} is a directory: no (a file is in its place)" in report.checked


def test_local_file_where_the_schema_directory_should_be(tmp_path):
    (tmp_path / "main").mkdir()
    (tmp_path / "main" / "identity_graph").write_text("x")
    report = verify_local(str(tmp_path), "main", "identity_graph", TABLES)
    assert [m.securable for m in report.missing] == [str(tmp_path / "main" / "identity_graph")]


def test_local_names_must_be_plain(tmp_path):
    for catalog, schema, tables in [("a/b", "s", ()), ("c", "..", ()), ("c", "s", ("../../etc",)), ("", "s", ())]:
        with pytest.raises(ValueError):
            verify_local(str(tmp_path), catalog, schema, tables)


def test_local_unwritable_directories_as_an_unprivileged_user():
    """Read-only directories: as root chmod does not bind, so the check runs in a child that drops to nobody."""
    base = Path(tempfile.mkdtemp(prefix="ig-perm-"))
    try:
        base.chmod(0o755)
        root_owned = base / "root_owned_warehouse"
        root_owned.mkdir(mode=0o755)
        readonly = base / "readonly_warehouse"
        (readonly / "main" / "identity_graph").mkdir(parents=True)
        for p in (readonly, readonly / "main", readonly / "main" / "identity_graph"):
            p.chmod(0o755)
        shared = base / "shared_warehouse"
        location = shared / "main" / "identity_graph"
        (location / "households").mkdir(parents=True)
        for p in (shared, shared / "main", location, location / "households"):
            p.chmod(0o755)
        unprivileged = os.geteuid() == 0
        if unprivileged:
            # The location is the child's own; the existing table directory is not.
            os.chown(location, 65534, 65534)
        else:
            (location / "households").chmod(stat.S_IRUSR | stat.S_IXUSR)
            root_owned.chmod(stat.S_IRUSR | stat.S_IXUSR)
            (readonly / "main" / "identity_graph").chmod(stat.S_IRUSR | stat.S_IXUSR)
        first, second, third = _in_child(
            unprivileged,
            lambda: [
                verify_local(str(root_owned), "main", "identity_graph", TABLES),
                verify_local(str(shared), "main", "identity_graph", TABLES),
                verify_local(str(readonly), "main", "identity_graph", TABLES),
            ],
        )
        assert [(m["securable"], m["privilege"]) for m in first["missing"]] == [
            (str(root_owned / "main" / "identity_graph"), "WRITE")
        ]
        assert "Permission denied" in " ".join(first["checked"])
        assert [(m["securable"], m["privilege"]) for m in second["missing"]] == [
            (str(location / "households"), "WRITE")
        ]
        assert [(m["securable"], m["privilege"]) for m in third["missing"]] == [
            (str(readonly / "main" / "identity_graph"), "WRITE")
        ]
        if unprivileged:
            assert second["missing"][0]["remedy"] == f"sudo chown -R nobody -- {location / 'households'}"
            assert third["principal"] == "nobody"
        assert not any(p.name.startswith(".identity_graph_probe_") for p in base.rglob("*"))
    finally:
        for p in base.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(base)


def _in_child(drop_to_nobody: bool, work) -> list[dict]:
    """Run ``work`` (returning reports) in a forked child, as uid/gid 65534 if asked; the reports as dicts."""
    if not drop_to_nobody:
        return [_as_dict(r) for r in work()]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            payload = json.dumps([_as_dict(r) for r in work()]).encode()
            with os.fdopen(write, "wb") as out:
                out.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed"
    return json.loads(data)


def _as_dict(report: PermissionReport) -> dict:
    return {
        "ok": report.ok,
        "checked": list(report.checked),
        "missing": [m.__dict__ for m in report.missing],
        "principal": report.principal,
    }


# --------------------------------------------------------------------------- Unity Catalog replay server


@pytest.fixture
def replay(monkeypatch) -> Iterator:
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", os.devnull)
    servers: list[RecordedUnityCatalog] = []

    def start(routes: Mapping[str, str]) -> RecordedUnityCatalog:
        server = RecordedUnityCatalog(routes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
        assert server.unexpected == [], f"requests without a recorded answer: {server.unexpected}"


def obj(kind: str, full_name: str) -> str:
    return f"GET {UC}/{kind}s/{full_name}"


def eff(kind: str, full_name: str, principal: str = USER) -> str:
    return f"GET {UC}/effective-permissions/{kind}/{full_name}?principal={principal}"


def direct(kind: str, full_name: str, principal: str = USER) -> str:
    return f"GET {UC}/permissions/{kind}/{full_name}?principal={principal}"


SCHEMA = "main.identity_graph"
HH, IND, IDM = (f"{SCHEMA}.{t}" for t in TABLES)
GROUPS = (GROUP, "account users")


def no_group_grants(*securables: tuple[str, str]) -> dict[str, str]:
    """The user's groups hold nothing on these securables."""
    return {eff(kind, name, g): "databricks/effective_none.json" for kind, name in securables for g in GROUPS}


def world(**overrides: str) -> dict[str, str]:
    """Catalog, schema, households and individuals exist (owned by metastore-admins); identity_mappings does not."""
    routes = {
        ME: "databricks/me_user.json",
        obj("catalog", "main"): "databricks/catalog_main.json",
        obj("schema", SCHEMA): "databricks/schema_identity_graph.json",
        obj("table", HH): "databricks/table_households.json",
        obj("table", IND): "databricks/table_individuals.json",
        obj("table", IDM): "databricks/table_missing.json",
        **no_group_grants(("catalog", "main"), ("schema", SCHEMA), ("table", HH), ("table", IND)),
    }
    routes.update(overrides)
    return routes


def missing_set(report: PermissionReport) -> list[tuple[str, str, str, str]]:
    return [(m.securable_type, m.securable, m.privilege, m.remedy) for m in report.missing]


def test_everything_granted(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
                eff("schema", SCHEMA): "databricks/effective_schema_user_use_schema_create_table.json",
                eff("table", HH): "databricks/effective_table_user_modify_select.json",
                eff("table", IND): "databricks/effective_table_user_modify_select.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert (report.target, report.location, report.principal) == ("databricks", "main.identity_graph", USER)
    assert report.checked == (
        "catalog main exists: yes",
        "USE CATALOG on catalog main: yes (USE CATALOG)",
        "schema main.identity_graph exists: yes",
        "USE SCHEMA on schema main.identity_graph: yes (USE SCHEMA)",
        f"table {HH} exists: yes",
        f"MODIFY on table {HH}: yes (MODIFY)",
        f"SELECT on table {HH}: yes (SELECT)",
        f"table {IND} exists: yes",
        f"MODIFY on table {IND}: yes (MODIFY)",
        f"SELECT on table {IND}: yes (SELECT)",
        "tables to create in main.identity_graph: identity_mappings",
        "CREATE TABLE on schema main.identity_graph: yes (CREATE TABLE)",
    )
    assert report.notes == (
        "privileges read from the effective-permissions API (inheritance applied by Unity Catalog)",
    )
    # Real HTTP with the token; the effective endpoint is asked for its paginated form.
    assert {r["authorization"] for r in server.requests} == {f"Bearer {TOKEN}"}
    assert all(r["query"].get("max_results") == "0" for r in server.requests if "effective-permissions" in r["key"])


def test_nothing_granted_lists_every_missing_privilege_and_grant(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_none.json",
                eff("schema", SCHEMA): "databricks/effective_none.json",
                eff("table", HH): "databricks/effective_none.json",
                eff("table", IND): "databricks/effective_none.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert not report.ok
    assert missing_set(report) == [
        ("catalog", "main", "USE CATALOG", "GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com`"),
        ("schema", SCHEMA, "USE SCHEMA", "GRANT USE SCHEMA ON SCHEMA `main`.`identity_graph` TO `someone@example.com`"),
        ("table", HH, "MODIFY", "GRANT MODIFY ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`"),
        ("table", HH, "SELECT", "GRANT SELECT ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`"),
        (
            "table",
            IND,
            "MODIFY",
            "GRANT MODIFY ON TABLE `main`.`identity_graph`.`individuals` TO `someone@example.com`",
        ),
        (
            "table",
            IND,
            "SELECT",
            "GRANT SELECT ON TABLE `main`.`identity_graph`.`individuals` TO `someone@example.com`",
        ),
        (
            "schema",
            SCHEMA,
            "CREATE TABLE",
            "GRANT CREATE TABLE ON SCHEMA `main`.`identity_graph` TO `someone@example.com`",
        ),
    ]
    text = report.describe()
    assert (
        text.splitlines()[0]
        == "Permission check (databricks) for main.identity_graph as someone@example.com: 7 problems."
    )
    for m in report.missing:
        assert f"  {m.remedy};" in text.splitlines()
    md = report.markdown().splitlines()
    assert len([line for line in md if line.startswith("| ")]) == 1 + 7
    assert (
        md[2] == "| catalog | main | USE CATALOG | `` GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com` `` |"
    )


def test_service_principal_is_named_by_its_application_id(replay):
    routes = {k: v for k, v in world(**{ME: "databricks/me_service_principal.json"}).items() if GROUP not in k}
    for securable in (("catalog", "main"), ("schema", SCHEMA), ("table", HH), ("table", IND)):
        routes[eff(*securable, SP)] = "databricks/effective_none.json"
    server = replay(routes)
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.principal == SP
    assert report.missing[0].remedy == f"GRANT USE CATALOG ON CATALOG `main` TO `{SP}`"
    assert len(report.missing) == 7


def test_owner_of_the_catalog_may_create_the_schema(replay):
    server = replay(
        {
            ME: "databricks/me_user.json",
            obj("catalog", "main"): "databricks/catalog_main_owned_by_user.json",
            eff("catalog", "main"): "databricks/effective_none.json",
            **no_group_grants(("catalog", "main")),
            obj("schema", SCHEMA): "databricks/schema_missing.json",
        }
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert report.checked == (
        "catalog main exists: yes",
        f"USE CATALOG on catalog main: yes (owned by {USER})",
        "schema main.identity_graph exists: no",
        f"CREATE SCHEMA on catalog main: yes (owned by {USER})",
    )


def test_owning_the_catalog_does_not_grant_privileges_on_objects_inside_it(replay):
    # Databricks: ownership is not inherited (a schema owner does not automatically hold MODIFY on its tables).
    server = replay(
        world(
            **{
                obj("catalog", "main"): "databricks/catalog_main_owned_by_user.json",
                eff("catalog", "main"): "databricks/effective_none.json",
                eff("schema", SCHEMA): "databricks/effective_none.json",
                eff("table", HH): "databricks/effective_none.json",
                eff("table", IND): "databricks/effective_none.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert [(m.securable, m.privilege) for m in report.missing] == [
        (SCHEMA, "USE SCHEMA"),
        (HH, "MODIFY"),
        (HH, "SELECT"),
        (IND, "MODIFY"),
        (IND, "SELECT"),
        (SCHEMA, "CREATE TABLE"),
    ]


def test_all_privileges_on_the_catalog_covers_everything(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_catalog_user_all_privileges.json",
                eff("schema", SCHEMA): "databricks/effective_schema_user_all_privileges_from_catalog.json",
                eff("table", HH): "databricks/effective_table_user_all_privileges_from_catalog.json",
                eff("table", IND): "databricks/effective_table_user_all_privileges_from_catalog.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert "MODIFY on table main.identity_graph.households: yes (ALL PRIVILEGES)" in report.checked


def test_all_privileges_on_the_catalog_from_direct_grants_is_inherited_downward(replay):
    # Same situation through the direct-grants API: inheritance is applied by the check itself.
    routes = {
        ME: "databricks/me_user.json",
        obj("catalog", "main"): "databricks/catalog_main.json",
        obj("schema", SCHEMA): "databricks/schema_identity_graph.json",
        obj("table", HH): "databricks/table_households.json",
        obj("table", IND): "databricks/table_individuals.json",
        obj("table", IDM): "databricks/table_missing.json",
        direct("catalog", "main"): "databricks/permissions_catalog_user_all_privileges.json",
    }
    for kind, name in (("catalog", "main"), ("schema", SCHEMA), ("table", HH), ("table", IND)):
        for principal in (USER, *GROUPS):
            routes.setdefault(direct(kind, name, principal), "databricks/permissions_none.json")
    server = replay(routes)
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES, api="direct")
    assert report.ok, report.describe()
    assert f"MODIFY on table {IND}: yes (ALL PRIVILEGES)" in report.checked
    assert report.notes == ()


def test_privileges_held_through_a_group_count(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
                eff("catalog", "main", GROUP): "databricks/effective_catalog_group_direct.json",
                eff("schema", SCHEMA): "databricks/effective_none.json",
                eff("schema", SCHEMA, GROUP): "databricks/effective_schema_group_from_catalog.json",
                eff("table", HH): "databricks/effective_none.json",
                eff("table", HH, GROUP): "databricks/effective_table_group_from_catalog.json",
                eff("table", IND): "databricks/effective_none.json",
                eff("table", IND, GROUP): "databricks/effective_table_group_from_catalog.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    # An explicit principal without its groups: the same grants no longer count.
    server2 = replay(
        {k: v for k, v in server.routes.items() if k != ME and GROUP not in k and "account users" not in k}
    )
    report2 = verify_unity_catalog(server2.client(), "main", "identity_graph", TABLES, principal=USER)
    assert [(m.securable, m.privilege) for m in report2.missing] == [
        (SCHEMA, "USE SCHEMA"),
        (HH, "MODIFY"),
        (HH, "SELECT"),
        (IND, "MODIFY"),
        (IND, "SELECT"),
        (SCHEMA, "CREATE TABLE"),
    ]


def test_a_group_whose_grants_cannot_be_read_is_noted_not_fatal(replay):
    routes = world(
        **{
            eff("catalog", "main"): "databricks/effective_catalog_user_all_privileges.json",
            eff("catalog", "main", "account users"): "databricks/effective_denied.json",
            eff("schema", SCHEMA): "databricks/effective_schema_user_all_privileges_from_catalog.json",
            eff("table", HH): "databricks/effective_table_user_all_privileges_from_catalog.json",
            eff("table", IND): "databricks/effective_table_user_all_privileges_from_catalog.json",
        }
    )
    for securable in (("schema", SCHEMA), ("table", HH), ("table", IND)):
        del routes[eff(*securable, "account users")]  # asked once, then skipped
    server = replay(routes)
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok
    assert report.notes[1] == (
        "grants of group account users could not be read (User does not have MANAGE on Catalog 'main'.); "
        "privileges held through it were not counted"
    )


def test_schema_missing_needs_create_schema_on_the_catalog(replay):
    server = replay(
        {
            ME: "databricks/me_user.json",
            obj("catalog", "main"): "databricks/catalog_main.json",
            eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
            **no_group_grants(("catalog", "main")),
            obj("schema", SCHEMA): "databricks/schema_missing.json",
        }
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert missing_set(report) == [
        ("catalog", "main", "CREATE SCHEMA", "GRANT CREATE SCHEMA ON CATALOG `main` TO `someone@example.com`")
    ]
    assert "schema main.identity_graph exists: no" in report.checked


def test_some_tables_exist_modify_on_those_create_table_for_the_rest(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
                eff("schema", SCHEMA): "databricks/effective_schema_user_use_schema.json",
                eff("table", HH): "databricks/effective_none.json",
                eff("table", IND): "databricks/effective_table_user_select.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert missing_set(report) == [
        ("table", HH, "MODIFY", "GRANT MODIFY ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`"),
        ("table", HH, "SELECT", "GRANT SELECT ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`"),
        (
            "table",
            IND,
            "MODIFY",
            "GRANT MODIFY ON TABLE `main`.`identity_graph`.`individuals` TO `someone@example.com`",
        ),
        (
            "schema",
            SCHEMA,
            "CREATE TABLE",
            "GRANT CREATE TABLE ON SCHEMA `main`.`identity_graph` TO `someone@example.com`",
        ),
    ]


def test_effective_permissions_are_read_across_pages(replay):
    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
                eff("schema", SCHEMA): "databricks/effective_schema_user_page_1.json",
                eff("schema", SCHEMA) + "#page-2": "databricks/effective_schema_user_page_2.json",
                eff("table", HH): "databricks/effective_table_user_modify_select.json",
                eff("table", IND): "databricks/effective_table_user_modify_select.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert report.ok, report.describe()
    assert "CREATE TABLE on schema main.identity_graph: yes (CREATE TABLE)" in report.checked


def test_a_table_the_caller_cannot_read_is_still_checked_through_its_grants(replay):
    server = replay(
        world(
            **{
                obj("table", HH): "databricks/table_households_denied.json",
                eff("catalog", "main"): "databricks/effective_catalog_user_use_catalog.json",
                eff("schema", SCHEMA): "databricks/effective_schema_user_use_schema_create_table.json",
                eff("table", HH): "databricks/effective_none.json",
                eff("table", IND): "databricks/effective_table_user_modify_select.json",
            }
        )
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert [(m.securable, m.privilege) for m in report.missing] == [(HH, "MODIFY"), (HH, "SELECT")]
    assert report.notes[-1] == (
        f"table {HH} is not readable by the caller: User does not have SELECT on Table 'main.identity_graph.households'."
    )


def test_catalog_missing_is_reported_as_a_missing_object_with_what_to_run(replay):
    server = replay({ME: "databricks/me_user.json", obj("catalog", "main"): "databricks/catalog_missing.json"})
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    assert not report.ok
    assert report.missing_objects == (MissingObject("catalog", "main", "CREATE CATALOG IF NOT EXISTS `main`"),)
    assert [(m.privilege, m.remedy) for m in report.missing] == [
        ("USE CATALOG", "GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com`"),
        ("CREATE SCHEMA", "GRANT CREATE SCHEMA ON CATALOG `main` TO `someone@example.com`"),
    ]
    text = report.describe()
    assert "catalog main does not exist (or is not visible)" in text
    assert "  CREATE CATALOG IF NOT EXISTS `main`;" in text.splitlines()
    assert report.statements()[0] == "CREATE CATALOG IF NOT EXISTS `main`"
    assert "| catalog | main | (does not exist) | `` CREATE CATALOG IF NOT EXISTS `main` `` |" in report.markdown()


def test_invalid_token_403_raises_naming_the_host_not_the_token(replay):
    server = replay({ME: "databricks/error_403_invalid_token.json"})
    with pytest.raises(UnityCatalogError) as raised:
        verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    message = str(raised.value)
    assert server.host in message
    assert "Invalid access token." in message
    assert TOKEN not in message and TOKEN not in repr(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is not None  # `from None`: no chained SDK text
    assert raised.value.__suppress_context__


def test_a_server_message_echoing_the_token_is_scrubbed(replay):
    server = replay({ME: "databricks/error_500_echoes_token.json"})
    with pytest.raises(UnityCatalogError) as raised:
        verify_unity_catalog(server.client(), "main", "identity_graph", TABLES)
    message = str(raised.value)
    assert message == (
        f"Unity Catalog at {server.host} failed GET /api/2.0/preview/scim/v2/Me: InternalError: "
        "upstream rejected header 'Authorization: Bearer ***'"
    )


def test_unreachable_host_raises_quickly_naming_the_host_not_the_token(monkeypatch):
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = f"http://127.0.0.1:{port}"
    client = workspace_client(host, TOKEN, http_timeout_seconds=1, retry_timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(UnityCatalogError) as raised:
        verify_unity_catalog(client, "main", "identity_graph", TABLES)
    assert time.monotonic() - started < 30
    message = str(raised.value)
    assert message.startswith(
        f"Cannot reach Unity Catalog at {host} (GET /api/2.0/preview/scim/v2/Me): ConnectionError"
    )
    assert TOKEN not in message


def test_open_source_server_without_effective_endpoint_uses_direct_grants_and_inheritance(replay):
    etl = "etl@example.com"
    server = replay(
        {
            obj("catalog", "main"): "oss/catalog_main.json",
            eff("catalog", "main", etl): "oss/effective_permissions_no_route.json",
            direct("catalog", "main", etl): "oss/permissions_catalog_use_catalog_select_modify.json",
            obj("schema", SCHEMA): "oss/schema_identity_graph.json",
            direct("schema", SCHEMA, etl): "oss/permissions_schema_use_schema.json",
            obj("table", HH): "oss/table_households.json",
            direct("table", HH, etl): "oss/permissions_none.json",
            obj("table", IND): "oss/table_missing.json",
            obj("table", IDM): "oss/table_missing.json",
        }
    )
    report = verify_unity_catalog(server.client(), "main", "identity_graph", TABLES, principal=etl)
    # SELECT and MODIFY on the catalog reach the table; CREATE TABLE is granted nowhere.
    assert missing_set(report) == [
        ("schema", SCHEMA, "CREATE TABLE", "GRANT CREATE TABLE ON SCHEMA `main`.`identity_graph` TO `etl@example.com`")
    ]
    assert f"MODIFY on table {HH}: yes (MODIFY)" in report.checked
    assert report.notes == (
        "no effective-permissions endpoint (open-source Unity Catalog): privileges read from direct grants, "
        "with inheritance catalog -> schema -> table applied here",
    )
    # Each securable's direct grants are fetched once, even though three tables inherit them.
    keys = [r["key"] for r in server.requests]
    assert keys.count(direct("catalog", "main", etl)) == 1


def test_verify_unity_catalog_rejects_dotted_or_control_names_before_any_request(replay):
    server = replay({})
    for args in [("ma.in", "s", ()), ("main", "a/b", ()), ("main", "s", ("t\n",))]:
        with pytest.raises(ValueError):
            verify_unity_catalog(server.client(), *args)
    assert server.requests == []


def test_fixtures_are_documented():
    readme = (FIXTURES / "README.md").read_text()
    for path in FIXTURES.rglob("*.json"):
        recorded = json.loads(path.read_text())
        assert recorded["source"], path
        assert path.relative_to(FIXTURES).as_posix() in readme, f"{path.name} is not listed in the fixtures README"


def test_the_permission_asset_check_on_the_databricks_target_reports_every_grant(replay, tmp_path):
    """The `target_permissions` asset check, run through Dagster with the catalog resource on the
    databricks target, asks Unity Catalog (here: recorded answers on loopback) and fails with
    the exact GRANT statements as metadata — never the token."""
    import dagster as dg

    from identity_graph.definitions import ALL_ASSETS
    from identity_graph.resources.catalog import CatalogAccess
    from identity_graph.resources.location import TableLocation
    from identity_graph_tests.support.stored_graph import project_resources

    server = replay(
        world(
            **{
                eff("catalog", "main"): "databricks/effective_none.json",
                eff("schema", SCHEMA): "databricks/effective_none.json",
                eff("table", HH): "databricks/effective_none.json",
            }
        )
    )
    catalog = CatalogAccess(location=TableLocation("databricks"), databricks_host=server.host, databricks_token=TOKEN)
    key = dg.AssetCheckKey(dg.AssetKey("households"), "target_permissions")
    result = dg.materialize(
        ALL_ASSETS,
        selection=dg.AssetSelection.checks(key),
        resources={**project_resources(tmp_path), "catalog": catalog},
        raise_on_error=False,
    )
    (evaluation,) = [
        e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["statements"].value == [
        "GRANT USE CATALOG ON CATALOG `main` TO `someone@example.com`",
        "GRANT USE SCHEMA ON SCHEMA `main`.`identity_graph` TO `someone@example.com`",
        "GRANT MODIFY ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`",
        "GRANT SELECT ON TABLE `main`.`identity_graph`.`households` TO `someone@example.com`",
    ]
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert TOKEN not in str(result.all_events)
