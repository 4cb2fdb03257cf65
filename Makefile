# identity_graph — the commands the README promises.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export IDENTITY_GRAPH_WAREHOUSE ?= $(CURDIR)/warehouse
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test test-unit check-defs lint doc-commands dev lock bench clean

$(BIN)/identity-graph: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	@touch $@

install: $(BIN)/identity-graph

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@printf 'nux:\n  enabled: false\ntelemetry:\n  enabled: false\n' > $@

## Generate the identity graph at a small default scale into ./warehouse.
run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/identity-graph generate

## The whole test suite (what .ci/run calls), in two pytest-xdist workers (one per core): each
## test file stays on one worker, the two UI files share one (conftest.py groups them).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

## The unit tier alone: no Spark, under a minute.
test-unit: install
	$(BIN)/python -m pytest identity_graph_tests/unit

## Load and validate the Definitions with the dg CLI ([tool.dg] in pyproject.toml), no Spark.
check-defs: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg check defs

## Lint and format check with ruff ([tool.ruff] in pyproject.toml); `ruff format` and `ruff check --fix` repair most.
lint: install
	$(BIN)/ruff check identity_graph identity_graph_tests benchmarks
	$(BIN)/ruff format --check identity_graph identity_graph_tests benchmarks

## Run every shell command line of README.md and docs/*.md, in reading order, in a fresh temporary directory.
doc-commands: install
	$(BIN)/python -m identity_graph_tests.doc_commands

## The Dagster UI on the workspace.
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

## Benchmarks; figures go to BENCHMARKS.md.
bench: install
	$(BIN)/python benchmarks/generate_scale.py

## Re-resolve the pinned set (after changing pyproject.toml).
lock:
	rm -rf /tmp/identity_graph_lock && $(PYTHON) -m venv /tmp/identity_graph_lock
	/tmp/identity_graph_lock/bin/pip install --quiet --upgrade pip
	/tmp/identity_graph_lock/bin/pip install --quiet --dry-run --ignore-installed --report /tmp/identity_graph_lock/report.json '.[test]'
	$(PYTHON) -c "import json; r=json.load(open('/tmp/identity_graph_lock/report.json')); rows=sorted((i['metadata']['name'].lower().replace('_','-'), i['metadata']['version']) for i in r['install'] if i['metadata']['name']!='identity_graph'); open('requirements.lock','w').write('# Every package the project installs, pinned to a set that resolves together\n# (regenerate with: make lock). Used as a constraints file by make install.\n'+''.join(f'{n}=={v}\n' for n,v in rows))"

clean:
	rm -rf $(VENV) warehouse .dagster_home spark-warehouse
