"""Markdown tables for asset pages, check results and generated docs: one way to write a cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any) -> str:
    """A table cell: '–' for missing, thousands separators for integers, one line, pipes escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def code(text: str) -> str:
    """``text`` as a code span that survives inside a table cell."""
    # A code span needs a fence longer than any backtick run inside it (GFM); pipes
    # still need escaping inside a table cell.
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    body = text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return f"{fence} {body} {fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int | None = 1) -> str:
    """A markdown table; the first ``left`` columns are left-aligned and the others (numbers)
    right-aligned (``None``: every column left-aligned). Cells go through :func:`cell`."""
    align = ["---" if left is None or i < left else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
