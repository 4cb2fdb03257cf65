"""The project's Dagster UI in a real browser (headless Chromium): the asset graph with all ten
assets and their checks, asset check pages, and the job's launchpad with its config defaults.

What a test expects comes from the project (its tables, config defaults and descriptions) or from
the webserver's GraphQL API (each asset's checks); what it asserts is what the browser renders.
Screenshots of the asset graph and the launchpad are saved as test artefacts.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from identity_graph.config import HouseholdsConfig
from identity_graph.project import GENERATE_JOB
from identity_graph_tests.support.browser import artifacts_dir, chromium, settle, wait_for
from identity_graph_tests.support.stored_graph import TABLES
from identity_graph_tests.support.webserver import LOCATION, DagsterUI

ASSET_CHECKS = "{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"

# Class names carry a build hash suffix, hence the prefix matches.
#: An asset's name on its node in the graph (the sidebar lists the names too, outside the SVG).
GRAPH_NODE_NAME = "svg foreignObject [class*='AssetNode_assetName']"
#: A check's name in an asset's check list; the full name is in ``title`` (long names are truncated).
CHECK_ROW_NAME = "[class*='AssetChecks_checkRow'] [class*='MiddleTruncate_container']"


@pytest.fixture
def browser(tmp_path, monkeypatch) -> WebDriver:
    """A fresh headless Chromium (own profile, so no launchpad session or graph state carries over)."""
    # Should Selenium ever call Selenium Manager, it must not go to the network.
    monkeypatch.setenv("SE_OFFLINE", "true")
    with chromium(tmp_path / "chromium") as driver:
        yield driver


def expected_checks(client: DagsterUI) -> dict[str, set[str]]:
    """Each asset's check names, as the webserver's GraphQL API lists them."""
    nodes = client.query(ASSET_CHECKS)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): {c["name"] for c in n["assetChecksOrError"]["checks"]} for n in nodes}


def save_screenshot(driver: WebDriver, name: str) -> None:
    path = artifacts_dir() / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    print(f"screenshot: {path}")


def graph_nodes(driver: WebDriver) -> dict[str, str]:
    """Asset name → the text of its node's "Asset checks" row, for every full asset node in the graph."""
    nodes = {}
    for name in driver.find_elements(By.CSS_SELECTOR, GRAPH_NODE_NAME):
        node = name.find_element(By.XPATH, "ancestor::*[local-name()='foreignObject']")
        links = node.find_elements(By.CSS_SELECTOR, "a[href*='view=checks']")
        nodes[name.text] = links[0].text if links else ""
    return nodes


def check_rows(driver: WebDriver) -> dict[str, str]:
    """Check name → the status its row shows under the name ("Succeeded", "Not Evaluated", ...),
    for every row of an asset's check list."""
    rows = {}
    for name in driver.find_elements(By.CSS_SELECTOR, CHECK_ROW_NAME):
        row = name.find_element(By.XPATH, "ancestor::*[contains(@class, 'AssetChecks_checkRow')]")
        rows[name.get_attribute("title")] = row.text.split("\n")[-1]
    return rows


def expand_all_groups(driver: WebDriver, attempts: int = 3) -> None:
    """Expand every asset group through the graph's settings menu, as a user would: the global
    lineage opens with one collapsed box per group, and asset nodes only inside expanded groups.
    A click that lands while the graph is still laying itself out is lost, so it is retried
    until the asset nodes show."""
    for attempt in range(1, attempts + 1):
        settings = wait_for(
            driver,
            lambda d: d.find_element(By.CSS_SELECTOR, "button:has(> [role='img'][aria-label='settings'])"),
            "the asset graph's settings button",
        )
        settings.click()
        item = wait_for(
            driver,
            lambda d: d.find_element(By.XPATH, "//button[@role='menuitem'][contains(., 'all groups')]"),
            "the 'Expand all groups' menu item",
        )
        if "Expand all groups" in item.text:
            item.click()
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        if attempt == attempts:
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, GRAPH_NODE_NAME), "the expanded asset nodes")
            return
        if settle(driver, lambda d: d.find_elements(By.CSS_SELECTOR, GRAPH_NODE_NAME), bool, timeout=10):
            return


def test_asset_graph_shows_every_asset_and_its_checks(ui_graph, browser):
    """The global asset lineage draws a node for each asset, each node showing that all
    of the asset's checks (as GraphQL lists them) passed in the graph's run; a screenshot of the
    graph is saved."""
    checks = expected_checks(ui_graph.client)
    assert set(checks) == set(TABLES), "the webserver's asset nodes are not the project's tables"
    expected = {asset: f"{len(names)} / {len(names)} Passed" for asset, names in checks.items()}

    browser.get(f"{ui_graph.url}/asset-groups")
    wait_for(browser, lambda d: d.title == "Global asset lineage", "the page title 'Global asset lineage'")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "svg foreignObject"), "the asset graph")
    expand_all_groups(browser)
    nodes = settle(browser, graph_nodes, lambda shown: shown == expected)
    save_screenshot(browser, "asset-graph.png")

    assert sorted(nodes) == sorted(TABLES), "the graph's asset nodes are not the project's tables"
    assert nodes == expected, "the asset nodes' 'Asset checks' rows are not all checks passed"


@pytest.mark.parametrize("asset", ["households", "response_events"])
def test_asset_checks_page_lists_the_checks(ui_graph, browser, asset):
    """An asset's checks tab lists every check GraphQL reports for it, each shown as having
    succeeded in the graph's run."""
    expected = dict.fromkeys(expected_checks(ui_graph.client)[asset], "Succeeded")

    browser.get(f"{ui_graph.url}/assets/{asset}?view=checks")
    shown = settle(browser, check_rows, lambda rows: rows == expected)

    assert sorted(shown) == sorted(expected), f"{asset}'s check list is not the checks GraphQL reports"
    assert shown == expected, f"{asset}'s checks are not all shown as succeeded"


def test_launchpad_shows_the_config_defaults(dagster_ui, browser):
    """The job's launchpad opens with every default in its config editor, valid; households'
    ``num_households: 1000`` is among them, and with the cursor on it the help panel shows the
    field's description. A screenshot of the launchpad is saved."""
    field = HouseholdsConfig.model_fields["num_households"]
    default_line = f"num_households: {field.default}"

    browser.get(f"{dagster_ui.url}/locations/{LOCATION}/jobs/{GENERATE_JOB}/playground")
    # "Launch Run" stays disabled until the webserver has validated the editor's config.
    wait_for(
        browser,
        lambda d: d.find_element(By.XPATH, "//button[normalize-space(.)='Launch Run']").is_enabled(),
        "'Launch Run' to be enabled (the default config validated)",
    )
    # The preview's list of ops: clicking one scrolls the editor to its config.
    ops_tag = wait_for(
        browser,
        lambda d: d.find_element(
            By.XPATH, "//*[contains(@class, 'RunPreview')]//button[normalize-space(.)='households']"
        ),
        "the 'households' op in the run preview",
    )
    ops_tag.click()
    line = wait_for(
        browser,
        lambda d: next(
            (e for e in d.find_elements(By.CSS_SELECTOR, ".CodeMirror-line") if e.text.strip() == default_line), None
        ),
        f"the line {default_line!r} in the config editor",
    )
    line.click()
    wait_for(
        browser,
        lambda d: (
            field.description
            in " ".join(d.find_element(By.CSS_SELECTOR, "[class*='ConfigEditorHelp_container']").text.split())
        ),
        f"num_households' description {field.description!r} in the config help panel",
    )
    save_screenshot(browser, "launchpad.png")
