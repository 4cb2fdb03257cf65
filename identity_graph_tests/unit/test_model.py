"""The model is the one declaration of the tables: its doc is current, nothing else lists the
tables, and imports point one way (the stored tables' schemas: integration/test_model_schema.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from pyspark.sql.types import LongType

from identity_graph import model
from identity_graph.model.docs import DOC_PATH, render

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "identity_graph"

#: Import layers, lowest first: a module may import its own layer or a lower one.
LAYERS = {
    "markdown": 0,
    "model": 0,
    "config": 1,
    "generation": 2,
    "profiles": 2,
    "resolution": 2,
    "partitions": 3,
    "resources": 3,
    "assets": 4,
    "checks": 4,
    "maintenance": 5,
    "schedules": 5,
    "project": 6,
    "definitions": 6,
    "runs": 6,
    "cli": 7,
}
#: Imports a layer must not make even though they point down.
FORBIDDEN = {"resources": {"generation", "profiles"}}


def test_the_data_model_doc_is_generated_from_the_model():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/data-model.md is stale: run `python -m identity_graph.model` and commit it"
    )


def table_lists(source: str, names: frozenset[str] = frozenset(model.TABLE_NAMES)) -> list[int]:
    """Lines of tuple, list, set or dict literals in ``source`` that spell out three or more table names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and elements:
            spelled = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in names}
            if len(spelled) >= 3:
                found.append(node.lineno)
    return found


def test_no_module_outside_the_model_lists_the_tables():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in PACKAGE.rglob("*.py")
        if "model" not in path.relative_to(PACKAGE).parts[:1]
        for lines in [table_lists(path.read_text(encoding="utf-8"))]
        if lines
    }
    assert offenders == {}


def test_the_table_list_scan_finds_a_list_of_tables():
    assert table_lists('TABLES = ("households", "individuals", "campaigns")\nx = ["households"]') == [1]
    assert table_lists('KEYS = {"households": "household_id", "individuals": 1, "campaigns": 2}') == [1]


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "identity_graph" and len(parts) > 1 else None


def import_violations(package: Path = PACKAGE) -> list[str]:
    """Every import in the package that points to a higher layer, or that its layer forbids."""
    problems = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package.parent).with_suffix("")
        here = layer_of(".".join(relative.parts))
        if here not in LAYERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            )
            for target in targets:
                there = layer_of(target)
                if there is None or there == here:
                    continue
                if there not in LAYERS or LAYERS[there] > LAYERS[here] or there in FORBIDDEN.get(here, set()):
                    problems.append(f"{relative}: imports {target} ({here} → {there})")
    return sorted(problems)


def test_imports_point_one_way():
    assert import_violations() == []


def test_the_import_rule_catches_an_upward_import(tmp_path):
    package = tmp_path / "identity_graph"
    (package / "generation").mkdir(parents=True)
    (package / "generation" / "bad.py").write_text("from identity_graph.assets import table_asset\n")
    (package / "resources").mkdir()
    (package / "resources" / "bad.py").write_text("import identity_graph.generation.common\n")
    assert import_violations(package) == [
        "identity_graph/generation/bad: imports identity_graph.assets (generation → assets)",
        "identity_graph/resources/bad: imports identity_graph.generation.common (resources → generation)",
    ]


def test_the_model_and_generation_load_without_dagster():
    probe = (
        "import sys, identity_graph.model, identity_graph.generation.campaigns, identity_graph.generation.engagement;"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0].startswith('dagster')}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_devices_and_channels_name_identifier_types_and_every_type_has_an_in_use_share():
    """Every device type and channel is observed on a declared identifier type (a device's a device
    or household identifier), and every identifier type says how many of its identifiers are still
    in use when the window ends."""
    from identity_graph.generation.identity_mappings import IN_USE_AT_END
    from identity_graph.model import vocabularies as V

    assert set(V.DEVICE_IDENTIFIER) == set(V.DEVICE_TYPES)
    assert {V.IDENTIFIER_SCOPE[t] for t in V.DEVICE_IDENTIFIER.values()} <= {"device", "household"}
    assert set(V.CHANNEL_IDENTIFIER) == set(V.CHANNELS)
    assert set(V.CHANNEL_IDENTIFIER.values()) <= set(V.IDENTIFIER_TYPES)
    assert set(IN_USE_AT_END) == set(V.IDENTIFIER_TYPES)
    assert all(0.0 < share < 1.0 for share in IN_USE_AT_END.values())


def test_liquid_clustering_leads_with_the_day_and_stays_within_deltas_four_columns():
    """Unity Catalog tables cluster by the model's cluster_by: an event table's day column first, then
    its clustering (the local target's Z-order columns); the assets carry exactly that."""
    from identity_graph.definitions import defs

    graph = defs.resolve_asset_graph()
    for declared in model.TABLES:
        expected = ((declared.partition_column,) if declared.partition_column else ()) + declared.clustering
        assert declared.cluster_by == expected and 1 <= len(expected) <= model.MAX_CLUSTERING_COLUMNS, declared.name
        metadata = graph.get(dg.AssetKey(declared.name)).metadata
        assert metadata["clustering_columns"] == list(expected), declared.name
    assert model.table("content_engagements").cluster_by == ("event_date", "individual_id")


def test_a_table_with_more_than_four_clustering_columns_is_refused():
    columns = tuple(model.Column(name, LongType(), name) for name in ("k", "a", "b", "c", "d"))
    fields = {"family": "x", "description": "x", "grain": "x", "primary_key": "k", "columns": columns}
    assert model.Table(name="four", clustering=("k", "a", "b", "c"), **fields).cluster_by == ("k", "a", "b", "c")
    with pytest.raises(
        ValueError, match=r"five: liquid clustering takes at most 4 columns, got \['k', 'a', 'b', 'c', 'd'\]"
    ):
        model.Table(name="five", clustering=("k", "a", "b", "c", "d"), **fields)
    # The partition column counts: it leads the clustering.
    dated = (*columns[:4], model.Column("day", LongType(), "day"))
    with pytest.raises(ValueError, match="at most 4"):
        model.Table(
            name="dated", partition_column="day", clustering=("k", "a", "b", "c"), **{**fields, "columns": dated}
        )


def clustering_in_docs(text: str) -> dict[str, tuple[str, ...]]:
    """Each table's clustering columns as the Table layout section of a docs page lists them."""
    section = text.split("\n## Table layout\n", 1)[1].split("\n## ", 1)[0]
    listed: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 2 and cells[1].startswith("`"):
            for name in cells[0].split(", "):
                listed[name] = tuple(c.strip().strip("`") for c in cells[1].split(","))
    return listed


def test_the_databricks_page_lists_every_tables_clustering_as_the_model_declares_it():
    text = (ROOT / "docs" / "databricks.md").read_text(encoding="utf-8")
    expected = {t.name: t.cluster_by for t in model.TABLES}
    assert clustering_in_docs(text) == expected
    # A stale page is caught: a table missing, or clustered otherwise.
    assert clustering_in_docs(text.replace("| conversion_truth | `event_date`, ", "| conversion_truth | ")) != expected
    assert clustering_in_docs(text.replace("| resolution_baseline | `cluster_id` |\n", "")) != expected
