"""Identity observations, their truth and the baseline resolver: keys, noise rates, difficulty.

Noise rates are compared with their settings within 4.5 binomial standard errors, each over
the records it can apply to (its eligible records, worked out from the truth and the
identity tables), so a rate realised at the wrong level or on the wrong records fails.
"""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph import resolution
from identity_graph.checks.noise import realised_noise
from identity_graph.config import (
    DemographicsConfig,
    HouseholdsConfig,
    IdentifiersConfig,
    ObservationsConfig,
    RunParameters,
)
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals
from identity_graph.generation.observations import (
    digit_error,
    generate_identity_observations,
    generate_identity_truth,
    letter_error,
    observed_records,
)
from identity_graph.model import vocabularies as V
from identity_graph.model.tables import IDENTITY_OBSERVATIONS, IDENTITY_TRUTH
from identity_graph_tests.support.docs import ROOT, code_blocks
from identity_graph_tests.support.stored_graph import read

PARAMS = RunParameters(seed=42, partitions=2)
NOISY_HOUSEHOLDS = 1_500
SMALL_HOUSEHOLDS = 300
#: Every noise at 0.2 and every source missing fields at its own rate.
NOISY = ObservationsConfig(
    records_per_person_mean=3.0,
    missing_rate=dict(zip(V.SOURCES, (0.1, 0.2, 0.3, 0.4, 0.5), strict=True)),
    **{name: 0.2 for name in ObservationsConfig.model_fields if name.endswith("_rate") and name != "missing_rate"},
)
CLEAN = ObservationsConfig(
    missing_rate={},
    **{name: 0.0 for name in ObservationsConfig.model_fields if name.endswith("_rate") and name != "missing_rate"},
)


def identity_core(spark, households: int, identifiers: IdentifiersConfig | None = None, params=PARAMS):
    """The three identity tables, each checkpointed: the records' plan then starts from stored
    rows instead of repeating the generators' plans at every join (which made every query over
    the records spend its time in Spark's analyser)."""
    hh = generate_households(spark, HouseholdsConfig(num_households=households), params).localCheckpoint()
    people = generate_individuals(spark, hh, DemographicsConfig(), params).localCheckpoint()
    mappings = generate_identity_mappings(spark, people, identifiers or IdentifiersConfig(), params).localCheckpoint()
    return hh, people, mappings


@pytest.fixture(scope="module")
def noisy(spark):
    """A larger graph with every noise at 0.2: enough eligible records to measure each rate."""
    hh, people, mappings = identity_core(spark, NOISY_HOUSEHOLDS)
    records = observed_records(spark, hh, people, mappings, NOISY, PARAMS).localCheckpoint()
    yield {"records": records, "individuals": people, "identity_mappings": mappings}
    for frame in (records, mappings, people, hh):
        frame.unpersist()


@pytest.fixture(scope="module")
def small(spark):
    """A small identity core at the default identifier mix, and its records at the default config."""
    hh, people, mappings = identity_core(spark, SMALL_HOUSEHOLDS)
    records = observed_records(spark, hh, people, mappings, ObservationsConfig(), PARAMS).localCheckpoint()
    yield {"frames": (hh, people, mappings), "records": records}
    for frame in (records, mappings, people, hh):
        frame.unpersist()


def has(noise: str) -> DataFrame:
    return F.array_contains("noise", noise)


def originals(records: DataFrame) -> DataFrame:
    return records.where(~has("duplicate"))


# -- keys and the split between what is observed and the truth -----------------------------------


def test_observations_and_truth_cover_the_same_records_keyed_1_to_n(spark, small):
    hh, people, mappings = small["frames"]
    # The two generators are the two sides of the same records, as the model declares them.
    observations = generate_identity_observations(spark, hh, people, mappings, ObservationsConfig(), PARAMS)
    truth = generate_identity_truth(spark, hh, people, mappings, ObservationsConfig(), PARAMS)
    for frame, declared in ((observations, IDENTITY_OBSERVATIONS), (truth, IDENTITY_TRUTH)):
        assert [(f.name, f.dataType) for f in frame.schema] == [(c.name, c.type) for c in declared.columns]
    assert not {"individual_id", "household_id", "noise"} & set(observations.columns)
    records = small["records"]
    n = records.count()
    stats = records.agg(F.countDistinct("observation_id"), F.min("observation_id"), F.max("observation_id")).first()
    assert tuple(stats) == (n, 1, n)
    # Every person has at least one record, and the truth's household is the person's.
    assert records.select("individual_id").distinct().count() == people.count()
    assert records.join(people, ["individual_id", "household_id"], "left_anti").count() == 0


def test_observation_ids_say_nothing_about_who(small):
    """Consecutive ids rarely belong to one person: about as often as two random records do."""
    truth = small["records"].select("observation_id", "individual_id")
    pairs = truth.alias("a").join(truth.alias("b"), F.col("b.observation_id") == F.col("a.observation_id") + 1)
    same = pairs.where(F.col("a.individual_id") == F.col("b.individual_id")).count()
    assert same / pairs.count() < 0.02


def test_same_seed_same_records_across_partition_counts(spark, small, shuffle_partitions):
    hh, people, mappings = small["frames"]
    shuffle_partitions(7)
    other = RunParameters(seed=42, partitions=5)
    again = observed_records(
        spark, hh.repartition(3), people.repartition(4), mappings.repartition(5), ObservationsConfig(), other
    )
    first = small["records"]
    assert first.exceptAll(again).count() == 0 and again.exceptAll(first).count() == 0


# -- each noise rate, over the records it can apply to ---------------------------------------------


def split(records: DataFrame) -> tuple[DataFrame, DataFrame]:
    """``records`` as the two stored tables: identity_observations and identity_truth."""
    return records.select(*IDENTITY_OBSERVATIONS.column_names), records.select(*IDENTITY_TRUTH.column_names)


def test_every_noise_rate_is_realised_over_its_eligible_records(noisy):
    observations, truth = split(noisy["records"])
    rates = realised_noise(observations, truth, noisy["individuals"], noisy["identity_mappings"], NOISY)
    assert {r.noise.split("[")[0] for r in rates} == set(V.NOISE_TYPES)
    assert [r for r in rates if not r.judged] == []
    assert [r for r in rates if not r.passed] == [], [(r.noise, r.realised, r.expected) for r in rates]
    assert all(r.expected > 0 for r in rates if not r.noise.startswith("missing_field"))


def test_the_noise_check_fails_when_flags_are_lost_or_rates_differ(noisy):
    observations, truth = split(noisy["records"])
    # Planted: the nickname flags dropped from the truth.
    lost = truth.withColumn("noise", F.array_remove("noise", "nickname"))
    rates = {
        r.noise: r for r in realised_noise(observations, lost, noisy["individuals"], noisy["identity_mappings"], NOISY)
    }
    assert not rates["nickname"].passed and rates["name_typo"].passed
    # Asked for other rates than the records carry.
    other = NOISY.model_copy(update={"cookie_reset_rate": 0.4})
    rates = {
        r.noise: r for r in realised_noise(observations, truth, noisy["individuals"], noisy["identity_mappings"], other)
    }
    assert not rates["cookie_reset"].passed


def test_flags_say_what_the_record_shows(noisy):
    records = (
        originals(noisy["records"])
        .where(F.col("source").isin("crm", "data_partner"))
        .join(
            noisy["individuals"].select(
                "individual_id", F.col("first_name").alias("true_first"), F.col("last_name").alias("true_last")
            ),
            "individual_id",
        )
    )
    nicknamed = records.where(has("nickname") & ~has("name_typo"))
    assert nicknamed.count() > 0 and nicknamed.where(F.col("first_name") == F.col("true_first")).count() == 0
    initials = records.where(has("initial") & ~has("name_typo"))
    assert initials.count() > 0 and initials.where(F.length("first_name") != 1).count() == 0
    unnamed = ("name_typo", "nickname", "initial", "phonetic")
    clean = records.where(~F.exists("noise", lambda n: n.isin(*unnamed)))
    assert (
        clean.where((F.col("first_name") != F.col("true_first")) | (F.col("last_name") != F.col("true_last"))).count()
        == 0
    )
    # A reset cookie is no identifier anyone holds.
    known = noisy["identity_mappings"].select(F.col("identifier_value").alias("cookie_id"))
    assert noisy["records"].where(has("cookie_reset")).join(known, "cookie_id").count() == 0


def test_sources_show_only_the_fields_they_capture(noisy):
    records = noisy["records"]
    for source, fields in V.SOURCE_FIELDS.items():
        others = [F.col(f).isNotNull() for f in V.OBSERVED_FIELDS if f not in fields]
        assert records.where((F.col("source") == source) & F.greatest(*others)).count() == 0, source


def test_household_devices_are_shared(noisy):
    records = noisy["records"].where(F.col("source") == "ctv_app")
    per_household = (
        records.where(F.col("ctv_id").isNotNull()).groupBy("household_id").agg(F.countDistinct("ctv_id").alias("ids"))
    )
    assert per_household.where(F.col("ids") > 1).count() == 0
    # Web logins come from the home network: the household's ip_address identifier, where it has one.
    home_ips = (
        noisy["identity_mappings"]
        .where(F.col("identifier_type") == "ip_address")
        .join(noisy["individuals"].select("individual_id", "household_id"), "individual_id")
        .select("household_id", F.col("identifier_value").alias("home_ip"))
        .distinct()
    )
    logins = noisy["records"].where((F.col("source") == "web_login") & F.col("ip_address").isNotNull())
    seen = logins.join(home_ips, "household_id", "left")
    assert seen.where(F.col("home_ip").isNotNull() & (F.col("ip_address") != F.col("home_ip"))).count() == 0
    assert seen.where(F.col("home_ip").isNull()).count() > 0  # households without one: a carrier's IP


def test_digit_and_letter_errors_always_change_the_value(spark):
    frame = spark.range(2000).select(
        F.lpad((F.col("id") * 7919 % 100000).cast("string"), 5, "0").alias("digits"),
        F.element_at(
            F.array(*[F.lit(n) for n in ("Ann", "Bob", "Christopher", "Li", "O'Neil")]),
            (F.col("id") % 5 + 1).cast("int"),
        ).alias("name"),
        ((F.col("id") % 10) / 10).alias("u1"),
        ((F.col("id") % 13) / 13).alias("u2"),
        ((F.col("id") % 17) / 17).alias("u3"),
    )
    out = frame.select(
        "digits",
        "name",
        digit_error(F.col("digits"), F.col("u1"), F.col("u2"), F.col("u3")).alias("bad_digits"),
        letter_error(F.col("name"), F.col("u1"), F.col("u2"), F.col("u3")).alias("bad_name"),
    )
    assert out.where((F.col("bad_digits") == F.col("digits")) | (F.col("bad_name") == F.col("name"))).count() == 0
    assert out.where((F.length("bad_digits") != 5) | ~F.col("bad_digits").rlike("^[0-9]{5}$")).count() == 0


# -- the baseline resolver and its scores ----------------------------------------------------------


def test_scores_of_perfect_and_of_singleton_clusters(spark):
    truth = spark.createDataFrame(
        [(1, 10), (2, 10), (3, 10), (4, 20), (5, 20), (6, 30)], "observation_id long, individual_id long"
    )
    perfect = resolution.score(truth.select("observation_id", F.col("individual_id").alias("cluster_id")), truth)
    assert (perfect.pairwise_precision, perfect.pairwise_recall, perfect.bcubed_f1) == (1.0, 1.0, 1.0)
    singletons = resolution.score(truth.select("observation_id", F.col("observation_id").alias("cluster_id")), truth)
    assert singletons.pairwise_recall == 0.0 and singletons.pairwise_precision == 1.0
    # One cluster of everything: 4 true pairs of 15.
    lumped = resolution.score(truth.select("observation_id", F.lit(1).alias("cluster_id")), truth)
    assert lumped.pairwise_precision == pytest.approx(4 / 15) and lumped.pairwise_recall == 1.0


def test_the_baseline_links_through_chains_of_shared_keys(spark):
    observations = spark.createDataFrame(
        [
            (1, "e1", None, None),
            (2, "e1", "p1", None),
            (3, None, "p1", "m1"),
            (4, None, None, "m1"),
            (5, None, None, None),
            (6, "e2", None, None),
        ],
        "observation_id long, email_sha256 string, phone_sha256 string, maid string",
    )
    clusters, _ = resolution.baseline_clusters(observations)
    assert {r["observation_id"]: r["cluster_id"] for r in clusters.collect()} == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: 6}


def test_zero_noise_is_resolved_perfectly(spark):
    # Everyone holds an email and every source captures one: with no noise, every record links.
    identifiers = IdentifiersConfig(
        type_prevalence={**IdentifiersConfig().type_prevalence, "email_hash": 1.0}, mean_per_individual=5.5
    )
    hh, people, mappings = identity_core(spark, 100, identifiers)
    records = observed_records(spark, hh, people, mappings, CLEAN, PARAMS).localCheckpoint()
    assert records.where(F.size("noise") > 0).count() == 0
    clusters, _ = resolution.baseline_clusters(records)
    scores = resolution.score(clusters, records)
    assert (scores.pairwise_f1, scores.bcubed_f1) == (1.0, 1.0)


def test_at_the_defaults_the_baseline_is_neither_trivial_nor_hopeless_and_more_noise_lowers_recall(spark, small):
    default = small["records"]
    clusters, _ = resolution.baseline_clusters(default)
    at_defaults = resolution.score(clusters, default)
    assert 0.6 <= at_defaults.pairwise_f1 <= 0.9, at_defaults
    more = ObservationsConfig(
        missing_rate={s: min(1.0, r + 0.3) for s, r in ObservationsConfig().missing_rate.items()}, maid_reset_rate=0.5
    )
    noisier = observed_records(spark, *small["frames"], more, PARAMS).localCheckpoint()
    clusters, _ = resolution.baseline_clusters(noisier)
    assert resolution.score(clusters, noisier).pairwise_recall < at_defaults.pairwise_recall


def test_the_scoring_guide_in_the_docs_runs_and_agrees_with_score(spark, graph):
    """docs/identity-resolution.md's Python and SQL, run as written on the shared graph's stored
    truth with the baseline's clusters as "my_clusters", give resolution.score's pairwise figures."""
    guide = ROOT / "docs" / "identity-resolution.md"
    blocks = {info: body for info, _, body in code_blocks(guide) if info in ("python", "sql")}
    assert set(blocks) == {"python", "sql"}, "the guide's Python setup and SQL query"
    my_clusters = read(spark, graph, "resolution_baseline").select("observation_id", "cluster_id")
    setup = "\n".join(blocks["python"]).replace('"warehouse/', f'"{graph}/')
    exec(setup, {"spark": spark, "my_clusters": my_clusters})  # the guide's own code, as a reader runs it
    row = spark.sql("\n".join(blocks["sql"])).first()
    expected = resolution.score(my_clusters, read(spark, graph, "identity_truth"))
    assert row["pairwise_precision"] == pytest.approx(expected.pairwise_precision)
    assert row["pairwise_recall"] == pytest.approx(expected.pairwise_recall)
    assert row["pairwise_f1"] == pytest.approx(expected.pairwise_f1)
    assert 0 < expected.pairwise_f1 < 1
