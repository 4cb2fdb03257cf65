"""The documentation stays true to the code: README.md and docs/*.md — without Spark.

Every ``identity-graph`` command in a shell code block parses with the CLI's own parser,
every ``make`` target named exists in the Makefile, every relative link (and its
``#anchor``) resolves, and the README stays short.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from identity_graph.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted([README, *(ROOT / "docs").glob("*.md")])
#: README.md is for a newcomer's first five minutes; the rest belongs in docs/.
README_MAX_LINES = 220
#: Fenced blocks with these info strings are shell; "text" (usage synopses, output) and "yaml" are not.
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console", "zsh"}
#: Written by the data model's doc generator from the code, not by hand: it may not exist yet.
GENERATED_DOCS = {ROOT / "docs" / "data-model.md"}

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(?P<code>.+?)\1")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def code_blocks(path: Path) -> Iterator[tuple[str, int, list[str]]]:
    """Each fenced code block of ``path``: its info string, first line number and lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info, start = opening["fence"], opening["info"].lower(), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        yield info, start + 1, body
        i += 1


def prose(path: Path) -> str:
    """``path`` without its fenced code blocks (links and inline code in prose only)."""
    kept, fence = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening["fence"]
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)):
            fence = None
        elif fence is None:
            kept.append(line)
    return "\n".join(kept)


def shell_commands(path: Path) -> Iterator[tuple[int, str]]:
    """Each command line of the shell code blocks of ``path`` (backslash continuations joined)."""
    for info, first, body in code_blocks(path):
        if info not in SHELL_LANGUAGES:
            continue
        pending, pending_line = "", first
        for offset, line in enumerate(body):
            if not pending:
                pending_line = first + offset
            text = line[2:] if line.startswith("$ ") else line
            if text.rstrip().endswith("\\"):
                pending += text.rstrip()[:-1] + " "
                continue
            command = (pending + text).strip()
            pending = ""
            if command:
                yield pending_line, command


def identity_graph_commands() -> list[tuple[str, list[str]]]:
    """Every ``identity-graph`` command line in the docs' shell blocks, as (where, argv)."""
    found = []
    for path in DOCS:
        for line_number, command in shell_commands(path):
            words = shlex.split(command, comments=True)
            while words and ENV_ASSIGNMENT.match(words[0]):
                words = words[1:]  # IDENTITY_GRAPH_TARGET=databricks identity-graph …
            if words and Path(words[0]).name == "identity-graph":
                found.append((f"{_rel(path)}:{line_number}", words[1:]))
    return found


def makefile_targets() -> set[str]:
    targets = set()
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        rule = re.match(r"^([A-Za-z0-9_.\-/ ]+?)\s*::?(?!=)", line)
        if rule and not line.startswith("\t"):
            targets.update(rule.group(1).split())
        if line.startswith(".PHONY:"):
            targets.update(line.split(":", 1)[1].split())
    return targets


def make_mentions() -> list[tuple[str, str]]:
    """Every ``make <target>`` in inline code or in a shell code block, as (where, target)."""
    mentions = []
    for path in DOCS:
        for span in INLINE_CODE.finditer(prose(path)):
            words = span["code"].split()
            if len(words) >= 2 and words[0] == "make":
                mentions.append((_rel(path), words[1]))
        for line_number, command in shell_commands(path):
            words = shlex.split(command, comments=True)
            if len(words) >= 2 and words[0] == "make":
                mentions.append((f"{_rel(path)}:{line_number}", words[1]))
    return mentions


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|<[^>]+>", "", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for line in prose(path).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = github_anchor(heading.group(1))
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


def relative_links() -> list[tuple[Path, str]]:
    links = []
    for path in DOCS:
        text = INLINE_CODE.sub("", prose(path))
        for link in LINK.finditer(text):
            target = link["target"]
            if re.match(r"^[a-z][a-z0-9+.\-]*:", target, re.IGNORECASE) or target.startswith("//"):
                continue  # https:, mailto:, …
            links.append((path, target))
    return links


def test_the_docs_exist():
    assert README.exists()
    assert {p.name for p in DOCS} >= {
        "README.md",
        "configuration.md",
        "checks.md",
        "operations.md",
        "databricks.md",
        "spark-connect.md",
        "development.md",
    }


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_every_identity_graph_command_parses():
    commands = identity_graph_commands()
    assert len(commands) >= 10, "expected the docs to show identity-graph commands"
    assert {argv[0] for _, argv in commands if argv} >= {"generate", "check"}
    parser = build_parser()
    bad = []
    for where, argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit:  # argparse reports the problem on stderr and exits 2
            bad.append(f"{where}: identity-graph {shlex.join(argv)}")
    assert not bad, "commands the CLI rejects:\n" + "\n".join(bad)


def test_every_make_target_mentioned_exists():
    mentions = make_mentions()
    assert {target for _, target in mentions} >= {"run", "dev", "test"}
    targets = makefile_targets()
    missing = [f"{where}: make {target}" for where, target in mentions if target not in targets]
    assert not missing, f"not a Makefile target (targets: {sorted(targets)}):\n" + "\n".join(missing)


def test_every_relative_link_resolves():
    links = relative_links()
    assert links, "expected links between the docs"
    broken = []
    for source, target in links:
        file_part, _, anchor = target.partition("#")
        destination = (source.parent / file_part).resolve() if file_part else source
        if not destination.exists():
            if destination in GENERATED_DOCS:
                continue
            broken.append(f"{_rel(source)}: {target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{_rel(source)}: {target} (no heading #{anchor} in {_rel(destination)})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_readme_links_every_docs_page():
    linked = {
        (README.parent / target.partition("#")[0]).resolve() for source, target in relative_links() if source == README
    }
    pages = {p.resolve() for p in DOCS if p != README} | GENERATED_DOCS
    assert not pages - linked, f"docs pages the README does not link: {sorted(_rel(p) for p in pages - linked)}"
