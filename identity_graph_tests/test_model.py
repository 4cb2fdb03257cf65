"""The model is the one declaration of the tables: its doc is current, nothing else lists the
tables, imports point one way, and the stored tables have the model's schema."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from identity_graph import model
from identity_graph.model.docs import DOC_PATH, render

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "identity_graph"

#: Import layers, lowest first: a module may import its own layer or a lower one.
LAYERS = {
    "markdown": 0,
    "model": 0,
    "config": 1,
    "generation": 2,
    "profiles": 2,
    "partitions": 3,
    "resources": 3,
    "assets": 4,
    "checks": 4,
    "maintenance": 5,
    "schedules": 5,
    "project": 6,
    "definitions": 6,
    "cli": 7,
}
#: Imports a layer must not make even though they point down.
FORBIDDEN = {"resources": {"generation", "profiles"}}


@pytest.mark.unit
def test_the_data_model_doc_is_generated_from_the_model():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/data-model.md is stale: run `python -m identity_graph.model` and commit it"
    )


def table_lists(source: str, names: set[str] = set(model.TABLE_NAMES)) -> list[int]:
    """Lines of tuple, list, set or dict literals in ``source`` that spell out three or more table names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and elements:
            spelled = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in names}
            if len(spelled) >= 3:
                found.append(node.lineno)
    return found


@pytest.mark.unit
def test_no_module_outside_the_model_lists_the_tables():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in PACKAGE.rglob("*.py")
        if "model" not in path.relative_to(PACKAGE).parts[:1]
        for lines in [table_lists(path.read_text(encoding="utf-8"))]
        if lines
    }
    assert offenders == {}


@pytest.mark.unit
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
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            )
            for target in targets:
                there = layer_of(target)
                if there is None or there == here:
                    continue
                if there not in LAYERS or LAYERS[there] > LAYERS[here] or there in FORBIDDEN.get(here, set()):
                    problems.append(f"{relative}: imports {target} ({here} → {there})")
    return sorted(problems)


@pytest.mark.unit
def test_imports_point_one_way():
    assert import_violations() == []


@pytest.mark.unit
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


@pytest.mark.unit
def test_the_model_and_generation_load_without_dagster():
    probe = (
        "import sys, identity_graph.model, identity_graph.generation.campaigns, identity_graph.generation.engagement;"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0].startswith('dagster')}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.integration
def test_every_stored_table_has_the_models_schema_and_its_non_null_columns_hold(spark, graph):
    from identity_graph_tests.stored_graph import read

    for declared in model.TABLES:
        stored = read(spark, graph, declared.name)
        assert [(f.name, f.dataType) for f in stored.schema.fields] == [(c.name, c.type) for c in declared.columns]
        required = [c.name for c in declared.columns if not c.nullable]
        nulls = stored.agg(*[F.count(F.when(F.col(c).isNull(), 1)).alias(c) for c in required]).first().asDict()
        assert {c: n for c, n in nulls.items() if n} == {}, declared.name
