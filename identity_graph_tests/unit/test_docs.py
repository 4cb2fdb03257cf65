"""The documentation stays true to the code: README.md and docs/*.md — without Spark.

Every ``identity-graph`` command in a shell code block parses with the CLI's own parser,
every ``make`` target named exists in the Makefile, every relative link (and its
``#anchor``) resolves, the README stays short, and ``make doc-commands``
(``identity_graph_tests/doc_commands.py``) runs every shell command line of the docs or
names why not.
"""

from __future__ import annotations

import shlex

from identity_graph.cli import build_parser
from identity_graph_tests import doc_commands
from identity_graph_tests.support.docs import (
    DOCS,
    GENERATED_DOCS,
    README,
    anchors,
    identity_graph_commands,
    make_mentions,
    makefile_targets,
    rel,
    relative_links,
    shell_commands,
)

#: README.md is for a newcomer's first five minutes; the rest belongs in docs/.
README_MAX_LINES = 220
#: Whole-graph generations the docs show (make run, one scale example, the run config file,
#: Spark Connect): each costs minutes in make doc-commands. Show other options in --select forms.
MAX_WHOLE_GRAPH_GENERATIONS = 4


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
            broken.append(f"{rel(source)}: {target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{rel(source)}: {target} (no heading #{anchor} in {rel(destination)})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_readme_links_every_docs_page():
    linked = {
        (README.parent / target.partition("#")[0]).resolve() for source, target in relative_links() if source == README
    }
    pages = {p.resolve() for p in DOCS if p != README} | GENERATED_DOCS
    assert not pages - linked, f"docs pages the README does not link: {sorted(rel(p) for p in pages - linked)}"


def test_the_doc_command_runner_runs_every_shell_command_line_or_names_why_not():
    """The plan of make doc-commands: every command line of every doc's shell blocks is run
    (or is a repeat of one that is), or skipped by an entry of the runner's one SKIPS table,
    and every entry of that table matches a line of the docs."""
    steps = doc_commands.plan()
    planned = {(step.doc, number): step for step in steps for number, _ in step.lines}
    lines = [
        (path, number, command)
        for path in doc_commands.documents()
        for number, command in shell_commands(path)
        if not command.lstrip().startswith("#")  # a comment line in a shell block
    ]
    assert len(lines) >= 20, "expected the docs to show shell commands"
    left_out = [f"{rel(path)}:{number}: {command}" for path, number, command in lines if (path, number) not in planned]
    assert not left_out, "doc command lines the runner would not run:\n" + "\n".join(left_out)

    runs = {step.where for step in steps if step.action in ("run", "serve")}
    for step in steps:
        if step.action == "skip":
            assert any(skip.reason == step.reason and skip.applies_to(step.command) for skip in doc_commands.SKIPS), (
                step.where
            )
        elif step.action == "duplicate":
            assert step.reason.rsplit(" ", 1)[-1] in runs, step.reason
        else:
            assert step.action in ("run", "serve"), (step.where, step.action)
    stale = [skip.prefix for skip in doc_commands.SKIPS if not any(skip.applies_to(s.command) for s in steps)]
    assert not stale, f"SKIPS entries that match no command line of the docs: {stale}"
    assert [s.where for s in steps if s.action == "skip"], "expected make test to be skipped"

    # The generated docs are not run: they have no commands to run.
    for path in GENERATED_DOCS:
        assert not path.exists() or not list(shell_commands(path)), rel(path)
    # A --remote command runs while the Spark Connect server its document starts is up.
    for step in steps:
        if step.action == "run" and "sc://localhost:15002" in step.script:
            assert any(other.doc == step.doc and other.server is doc_commands.SPARK_CONNECT for other in steps), (
                f"{step.where}: no Spark Connect server line in {rel(step.doc)}"
            )
    # --config run.yaml runs with the README's example run config.
    assert "ops:" in doc_commands.readme_run_config()


def test_the_docs_show_at_most_four_whole_graph_generations():
    whole = {
        shlex.join(argv) for _, argv in identity_graph_commands() if argv[:1] == ["generate"] and "--select" not in argv
    }
    whole.add("make run")
    assert len(whole) <= MAX_WHOLE_GRAPH_GENERATIONS, (
        "each whole-graph generation in the docs costs minutes in make doc-commands; show further "
        f"options in an existing one or in a --select form: {sorted(whole)}"
    )
