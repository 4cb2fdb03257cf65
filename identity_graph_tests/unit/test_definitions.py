"""The Definitions load, and the asset graph mirrors the foreign-key graph."""

import dagster as dg
import pytest

from identity_graph.definitions import GENERATE_JOB, build_definitions, defs
from identity_graph.resources.targets import TargetSettings

#: Each asset's upstream tables: exactly the tables it reads (DATA_MODEL.md).
EXPECTED_DEPS = {
    "households": set(),
    "individuals": {"households"},
    "identity_mappings": {"individuals"},
    "content_engagements": {"identity_mappings", "audience_truth"},
    "viewership_patterns": {"content_engagements"},
    "audience_attributes": {"viewership_patterns", "individuals"},
    "campaigns": set(),
    "campaign_assignments": {"campaigns", "audience_attributes"},
    "campaign_exposures": {"campaigns", "campaign_assignments", "identity_mappings"},
    "response_events": {
        "campaign_exposures",
        "campaigns",
        "audience_attributes",
        "audience_truth",
        "identity_mappings",
    },
    "conversion_truth": {
        "response_events",
        "campaign_exposures",
        "audience_attributes",
        "audience_truth",
        "identity_mappings",
    },
    "campaign_truth": {
        "campaigns",
        "campaign_assignments",
        "audience_truth",
        "campaign_exposures",
        "identity_mappings",
        "conversion_truth",
    },
    "audience_truth": {"individuals"},
    "outcome_metrics": {"response_events", "campaign_exposures"},
    "campaign_delivery": {"campaigns", "campaign_exposures"},
    "identity_observations": {"households", "individuals", "identity_mappings"},
    "identity_truth": {"identity_observations", "households", "individuals", "identity_mappings"},
    "resolution_baseline": {"identity_observations", "identity_truth"},
}
EXPECTED_GROUPS = {
    "identity": {"households", "individuals", "identity_mappings"},
    "engagement": {"content_engagements", "viewership_patterns", "audience_attributes"},
    "campaigns": {
        "campaigns",
        "campaign_assignments",
        "campaign_exposures",
        "response_events",
        "outcome_metrics",
        "campaign_delivery",
    },
    "measurement": {"audience_truth", "conversion_truth", "campaign_truth"},
    "resolution": {"identity_observations", "identity_truth", "resolution_baseline"},
}
DAILY = {"content_engagements", "campaign_exposures", "response_events", "conversion_truth"}


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def(GENERATE_JOB) is not None


def test_asset_dependencies_mirror_the_foreign_keys():
    graph = defs.resolve_asset_graph()
    deps = {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert deps == EXPECTED_DEPS


def test_every_asset_is_described_grouped_and_kinded():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 40, key
        assert key.to_user_string() in EXPECTED_GROUPS[node.group_name], key
        assert {"spark", "delta"} <= set(node.kinds), key


def test_local_runs_execute_in_process():
    assert defs.resolve_job_def(GENERATE_JOB).executor_def is dg.in_process_executor


def test_target_settings_come_from_the_environment():
    settings = TargetSettings.from_env(
        {"IDENTITY_GRAPH_WAREHOUSE": "/data/wh", "IDENTITY_GRAPH_CATALOG": "dev", "IDENTITY_GRAPH_SCHEMA": "synthetic"}
    )
    assert (settings.target, settings.warehouse, settings.catalog, settings.schema) == (
        "local",
        "/data/wh",
        "dev",
        "synthetic",
    )
    io_manager = build_definitions(settings).resources["io_manager"]
    assert io_manager.catalog.location.table_path("households") == "/data/wh/dev/synthetic/households"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"IDENTITY_GRAPH_TARGET": "mainframe"}, "IDENTITY_GRAPH_TARGET='mainframe'"),
        ({"IDENTITY_GRAPH_SCHEMA": "a/b"}, "schema"),
    ],
)
def test_bad_target_settings_are_rejected(environ, fragment):
    with pytest.raises(ValueError, match=fragment):
        TargetSettings.from_env(environ)


def test_event_tables_are_daily_partitioned_on_event_date_and_backfilled_in_one_run():
    graph = defs.resolve_asset_graph()
    partitioned = {key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).is_partitioned}
    assert partitioned == DAILY
    for name in DAILY:
        node = graph.get(dg.AssetKey(name))
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
        assert node.metadata["partition_expr"] == "event_date"
        assert node.backfill_policy == dg.BackfillPolicy.single_run()


def test_responses_read_a_trailing_week_of_exposures():
    graph = defs.resolve_asset_graph()
    mapping = graph.get_partition_mapping(dg.AssetKey("response_events"), dg.AssetKey("campaign_exposures"))
    assert isinstance(mapping, dg.TimeWindowPartitionMapping)
    assert (mapping.start_offset, mapping.end_offset) == (-7, 0)


def test_every_table_carries_its_permission_key_and_foreign_key_checks():
    from identity_graph.definitions import CHECK_JOB, CHECK_TARGET_JOB
    from identity_graph.model import FOREIGN_KEYS

    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name): graph.get(key) for key in graph.asset_check_keys}
    for table in EXPECTED_DEPS:
        assert checks[(table, "primary_key_unique")].blocking, table
        # Not blocking for Dagster (a run of permission checks alone reports every table's): the
        # table's step itself stops before generating when it fails (test_checks.py shows it).
        assert not checks[(table, "target_permissions")].blocking, table
    # Every FK edge of the data model is a blocking check on the child table.
    edges = {(child.name, fk.table) for child, fk in FOREIGN_KEYS}
    assert {(child, parent) for child, parents in EXPECTED_DEPS.items() for parent in parents} - edges <= {
        # Dependencies that are not foreign keys: the tables derived from them.
        ("viewership_patterns", "content_engagements"), ("audience_attributes", "viewership_patterns"),
        # The latent persona tilts what people engage with, and churners stop engaging.
        ("content_engagements", "audience_truth"),
        ("campaign_assignments", "audience_attributes"), ("response_events", "audience_attributes"),
        # Conversions happen at each person's latent rate; the truth is drawn from the same inputs.
        ("response_events", "audience_truth"), ("conversion_truth", "audience_attributes"),
        ("conversion_truth", "audience_truth"), ("conversion_truth", "identity_mappings"),
        ("campaign_truth", "campaign_assignments"), ("campaign_truth", "audience_truth"),
        ("campaign_truth", "campaign_exposures"), ("campaign_truth", "identity_mappings"),
        ("campaign_truth", "conversion_truth"),
        # Delivery is the exposures' count and cost over the window.
        ("campaign_delivery", "campaign_exposures"),
        # An exposure's (campaign, person) pair is assigned to treatment: treatment_group_only checks it.
        ("campaign_exposures", "campaign_assignments"),
        ("campaign_exposures", "identity_mappings"),
        # Observed records carry no true key; their truth is drawn from the same tables.
        ("identity_observations", "households"), ("identity_observations", "individuals"),
        ("identity_observations", "identity_mappings"), ("identity_truth", "identity_mappings"),
        ("resolution_baseline", "identity_truth"),
    }  # fmt: skip
    assert len(FOREIGN_KEYS) == 29
    for child, fk in FOREIGN_KEYS:
        assert checks[(child.name, f"foreign_key_{fk.column}")].blocking
    assert defs.resolve_job_def(CHECK_JOB).asset_layer.asset_graph.asset_check_keys == set(graph.asset_check_keys)
    assert {k.name for k in defs.resolve_job_def(CHECK_TARGET_JOB).asset_layer.asset_graph.asset_check_keys} == {
        "target_permissions"
    }


def test_asset_definitions_name_their_table_uri_columns_and_source():
    """Before any run, each asset's definition says where its table is (``dagster/table_name``,
    ``dagster/uri`` locally), its columns from the model, and where its code is: a file and line,
    or a link into the repository when IDENTITY_GRAPH_GIT_URL is set."""
    from identity_graph import model

    settings = TargetSettings.from_env({"IDENTITY_GRAPH_WAREHOUSE": "/data/wh"})
    graph = build_definitions(settings).resolve_asset_graph()
    for declared in model.TABLES:
        metadata = graph.get(dg.AssetKey(declared.name)).metadata
        assert metadata["dagster/table_name"] == f"main.identity_graph.{declared.name}"
        assert metadata["dagster/uri"] == f"file:///data/wh/main/identity_graph/{declared.name}"
        assert [c.name for c in metadata["dagster/column_schema"].columns] == list(declared.column_names)
        (reference,) = metadata["dagster/code_references"].code_references
        assert reference.file_path.endswith(f"identity_graph/assets/{declared.family}.py")

    linked = TargetSettings.from_env({"IDENTITY_GRAPH_GIT_URL": "https://github.com/example/identity_graph"})
    metadata = build_definitions(linked).resolve_asset_graph().get(dg.AssetKey("households")).metadata
    (reference,) = metadata["dagster/code_references"].code_references
    assert reference.url.startswith(
        "https://github.com/example/identity_graph/tree/main/identity_graph/assets/identity.py#L"
    )
