"""The installed packages are exactly the pinned set (requirements.lock and pyproject.toml)."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_installed_versions_equal_the_lock_file():
    mismatched = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, version = line.split("==")
        installed = importlib.metadata.version(name)
        if installed != version:
            mismatched[name] = (version, installed)
    assert not mismatched


def test_direct_pins_in_pyproject_agree_with_the_lock_file():
    lock = dict(
        (_normalise(n), v)
        for n, v in (line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] + project["optional-dependencies"]["test"] if "==" in d]
    assert len(pins) >= 10
    for pin in pins:
        name, version = pin.split("==")
        assert lock[_normalise(name.split("[")[0])] == version, pin


def test_the_dagster_family_is_pinned_together():
    versions = {
        name: importlib.metadata.version(name)
        for name in ("dagster", "dagster-webserver", "dagster-pyspark", "dagster-databricks")
    }
    assert versions == {
        "dagster": "1.13.27",
        "dagster-webserver": "1.13.27",
        "dagster-pyspark": "0.29.27",
        "dagster-databricks": "0.29.27",
    }
    assert importlib.metadata.version("pyspark").startswith("4.2.")
    assert importlib.metadata.version("delta-spark").startswith("4.4.")
    assert int(importlib.metadata.version("pandas").split(".")[0]) < 3
