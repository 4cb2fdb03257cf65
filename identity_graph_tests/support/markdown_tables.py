"""Reading the markdown tables of asset-page profiles back into values."""


def rows_of(markdown: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the markdown table whose first header is ``first_header``, as header → cell."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    headers = [h.strip() for h in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(headers, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def number(cell: str) -> float:
    """A shown number: thousands separators, '%' and '×' dropped."""
    return float(cell.replace(",", "").replace("%", "").replace("×", "").strip())
