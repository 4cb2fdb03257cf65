"""Reading the project's documentation: README.md and docs/*.md, their code blocks, shell
command lines, links and headings — shared by ``unit/test_docs.py`` and the docs-command
runner (``identity_graph_tests/doc_commands.py``). Plain text parsing, no Spark, no Dagster.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: README.md first, then docs/*.md in alphabetical order: the order a reader (and the runner) goes.
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: Fenced blocks with these info strings are shell; "text" (usage synopses, output) and "yaml" are not.
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console", "zsh"}
#: Written by the data model's doc generator from the code, not by hand: it may not exist yet.
GENERATED_DOCS = {ROOT / "docs" / "data-model.md"}

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(?P<code>.+?)\1")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def rel(path: Path) -> str:
    """``path`` relative to the project root, with forward slashes."""
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


def shell_blocks(path: Path) -> Iterator[list[tuple[int, str]]]:
    """Each shell code block of ``path`` as its command lines: (line number, command), with
    backslash continuations joined and a leading ``$ `` prompt dropped."""
    for info, first, body in code_blocks(path):
        if info not in SHELL_LANGUAGES:
            continue
        commands, pending, pending_line = [], "", first
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
                commands.append((pending_line, command))
        yield commands


def shell_commands(path: Path) -> Iterator[tuple[int, str]]:
    """Each command line of the shell code blocks of ``path`` (backslash continuations joined)."""
    for block in shell_blocks(path):
        yield from block


def command_words(command: str) -> list[str]:
    """The command's words as the shell splits them, without a trailing ``# comment``."""
    return shlex.split(command, comments=True)


def program_words(command: str) -> list[str]:
    """The command's words from its program on: leading ``NAME=value`` assignments dropped."""
    words = command_words(command)
    while words and ENV_ASSIGNMENT.match(words[0]):
        words = words[1:]  # IDENTITY_GRAPH_TARGET=databricks identity-graph …
    return words


def identity_graph_commands() -> list[tuple[str, list[str]]]:
    """Every ``identity-graph`` command line in the docs' shell blocks, as (where, argv)."""
    found = []
    for path in DOCS:
        for line_number, command in shell_commands(path):
            words = program_words(command)
            if words and Path(words[0]).name == "identity-graph":
                found.append((f"{rel(path)}:{line_number}", words[1:]))
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
                mentions.append((rel(path), words[1]))
        for line_number, command in shell_commands(path):
            words = command_words(command)
            if len(words) >= 2 and words[0] == "make":
                mentions.append((f"{rel(path)}:{line_number}", words[1]))
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
