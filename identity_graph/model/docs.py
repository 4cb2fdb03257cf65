"""``docs/data-model.md``, rendered from the model (``python -m identity_graph.model`` writes it)."""

from __future__ import annotations

from pathlib import Path

from identity_graph.markdown import cell as _cell
from identity_graph.model import vocabularies as V
from identity_graph.model.schema import Table
from identity_graph.model.tables import TABLES

#: Where the rendered document lives in the repository.
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def _table_section(table: Table) -> list[str]:
    fks = {fk.column: fk.target for fk in table.foreign_keys}
    lines = [
        f"## {table.name}",
        "",
        table.description,
        "",
        f"- **Grain:** {table.grain}",
        f"- **Primary key:** `{table.primary_key}`",
    ]
    if table.foreign_keys:
        lines.append("- **Foreign keys:** " + ", ".join(f"`{fk.column}` → `{fk.target}`" for fk in table.foreign_keys))
    if table.partition_column:
        lines.append(
            f"- **Partitioned by:** `{table.partition_column}` (daily; Delta partitions on the local target, the leading clustering column on Unity Catalog)"
        )
    lines += [
        "- **Clustered by:** "
        + ", ".join(f"`{c}`" for c in table.clustering)
        + " (Z-order, local target); liquid clustering by "
        + ", ".join(f"`{c}`" for c in table.cluster_by)
        + " on Unity Catalog",
        "",
    ]
    lines += ["| column | type | null | description |", "|---|---|---|---|"]
    for column in table.columns:
        key = " (PK)" if column.name == table.primary_key else f" (→ {fks[column.name]})" if column.name in fks else ""
        lines.append(
            f"| `{column.name}`{key} | `{column.type_name}` | {'yes' if column.nullable else 'no'} | {_cell(column.description)} |"
        )
    return [*lines, ""]


def _vocabulary_section() -> list[str]:
    rows = [
        ("income brackets", V.INCOME_BRACKETS),
        ("housing types", V.HOUSING_TYPES),
        ("genders", V.GENDERS),
        ("education levels", V.EDUCATION_LEVELS),
        ("employment statuses", V.EMPLOYMENT_STATUSES),
        ("household roles", V.HOUSEHOLD_ROLES),
        ("engagement types", V.ENGAGEMENT_TYPES),
        ("device types", V.DEVICE_TYPES),
        ("content categories (default, configurable)", V.CONTENT_CATEGORIES),
        ("segments (default, configurable)", V.SEGMENTS),
        ("behavioural classes", V.BEHAVIORAL_CLASSES),
        ("channels", V.CHANNELS),
        ("campaign goals", V.GOALS),
        ("response types", V.RESPONSE_TYPES),
        ("attribution models", V.ATTRIBUTION_MODELS),
        ("conversion statuses", V.CONVERSION_STATUSES),
    ]
    lines = ["## Vocabularies", "", "| vocabulary | values |", "|---|---|"]
    lines += [f"| {name} | {', '.join(f'`{v}`' for v in values)} |" for name, values in rows]
    lines += ["", "| income bracket | household income, $ a year |", "|---|---|"]
    lines += [
        f"| `{b}` | {low:,} and above |" if high is None else f"| `{b}` | {low:,} – {high - 1:,} |"
        for b, (low, high) in V.INCOME_BRACKET_RANGE.items()
    ]
    lines += ["", "| identifier type | identifies a | channels reaching people through it |", "|---|---|---|"]
    for identifier, scope in V.IDENTIFIER_SCOPE.items():
        channels = [c for c, i in V.CHANNEL_IDENTIFIER.items() if i == identifier]
        lines.append(f"| `{identifier}` | {scope} | {', '.join(f'`{c}`' for c in channels) or '–'} |")
    lines += ["", "| category | default segment |", "|---|---|"]
    lines += [f"| {c} | {s} |" for c, s in V.DEFAULT_SEGMENT_BY_CATEGORY.items()]
    return [*lines, ""]


def render() -> str:
    """The data-model document as Markdown."""
    edges = [f"| `{t.name}.{fk.column}` | `{fk.target}` |" for t in TABLES for fk in t.foreign_keys]
    lines = [
        "# Data model",
        "",
        "<!-- Generated from identity_graph/model by `python -m identity_graph.model`; do not edit by hand. -->",
        "",
        "The contract of the generated tables: names, grain, keys, columns and their types. Keys are BIGINT and",
        "every timestamp is UTC. Every foreign key resolves (zero orphans) and every primary key is unique: an",
        "asset check verifies each (see [checks](checks.md)). Timestamps such as `created_at` and `computed_at`",
        "are synthetic — derived from the seed and the event window, never from the clock — so the same seed and",
        "config give the same tables.",
        "",
        "| table | family | grain | primary key |",
        "|---|---|---|---|",
        *(f"| [{t.name}](#{t.name}) | {t.family} | {_cell(t.grain)} | `{t.primary_key}` |" for t in TABLES),
        "",
        "## Foreign keys",
        "",
        "| column | references |",
        "|---|---|",
        *edges,
        "",
    ]
    for table in TABLES:
        lines += _table_section(table)
    lines += _vocabulary_section()
    return "\n".join(lines)


def write(path: Path = DOC_PATH) -> Path:
    """Write the rendered document to ``path``; return the path."""
    path.write_text(render(), encoding="utf-8")
    return path
