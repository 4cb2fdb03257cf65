"""Identity resolution: the reference baseline resolver and the metrics that score any resolver.

Pure Spark DataFrame code (no Dagster), so it runs over Spark Connect. A resolver's answer
is a frame of ``(observation_id, cluster_id)``; :func:`score` compares it with
identity_truth's ``(observation_id, individual_id)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

#: The fields the baseline links records on: exact matches of strong, person-level identifiers.
BASELINE_KEYS = ("email_sha256", "phone_sha256", "maid")
#: Label propagation stops after this many rounds even if labels still move (a chain longer than
#: twice this many records would be split; the rounds run are reported).
MAX_ROUNDS = 50


def baseline_clusters(observations: DataFrame) -> tuple[DataFrame, int]:
    """The baseline resolver: records sharing an exact ``email_sha256``, ``phone_sha256`` or
    ``maid`` are the same identity, transitively (connected components, found by propagating
    the smallest observation_id through shared keys until no label changes).

    Returns ``(observation_id, cluster_id)`` for every record — cluster_id is the smallest
    observation_id of its component — and the number of propagation rounds run.
    """
    keys = (
        observations.select(
            "observation_id",
            F.explode(
                F.array(*[F.when(F.col(k).isNotNull(), F.concat(F.lit(f"{k}:"), F.col(k))) for k in BASELINE_KEYS])
            ).alias("key"),
        )
        .where(F.col("key").isNotNull())
        # Stored once, so that each round's plan starts here and not from the observations' own plan.
        .localCheckpoint()
    )
    labels = observations.select("observation_id", F.col("observation_id").alias("cluster_id")).localCheckpoint()
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        # One round: each key takes the smallest label among its records, each record the
        # smallest label among its keys (two hops of the record–key graph).
        by_key = keys.join(labels, "observation_id").groupBy("key").agg(F.min("cluster_id").alias("key_label"))
        reached = keys.join(by_key, "key").groupBy("observation_id").agg(F.min("key_label").alias("reached"))
        updated = (
            labels.join(reached, "observation_id", "left")
            .select(
                "observation_id",
                F.least("cluster_id", F.coalesce("reached", "cluster_id")).alias("cluster_id"),
                (F.coalesce("reached", "cluster_id") < F.col("cluster_id")).alias("_moved"),
            )
            .localCheckpoint()
        )
        # Each round is checkpointed: its plan would otherwise hold every earlier round twice over.
        moved = updated.where("_moved").count()
        labels = updated.drop("_moved")
        if moved == 0:
            break
    return labels, rounds


@dataclass(frozen=True)
class Scores:
    """How a resolver's clusters compare with the truth.

    Pairwise: over pairs of records, a pair is predicted when both share a cluster and true
    when both are the same person. B-cubed: per record, the share of its cluster that is the
    same person (precision) and of its person that is in its cluster (recall), averaged.
    """

    records: int
    true_identities: int
    predicted_clusters: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(count: Column) -> Column:
    return count * (count - F.lit(1)) / F.lit(2)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score(clusters: DataFrame, truth: DataFrame) -> Scores:
    """Score ``clusters`` (``observation_id``, ``cluster_id``) against ``truth``
    (``observation_id``, ``individual_id``); a record missing from ``clusters`` counts as a
    cluster of its own. Precision is 1 when no pair is predicted, recall 1 when no pair is true.
    """
    joined = truth.select("observation_id", "individual_id").join(
        clusters.select("observation_id", "cluster_id"), "observation_id", "left"
    )
    # An unclustered record is a singleton: give it a cluster no other record has.
    joined = joined.withColumn(
        "cluster", F.coalesce(F.concat(F.lit("c"), F.col("cluster_id")), F.concat(F.lit("o"), F.col("observation_id")))
    )
    cells = joined.groupBy("cluster", "individual_id").agg(F.count("*").alias("n"))
    by_cluster = cells.groupBy("cluster").agg(F.sum("n").alias("n_cluster"))
    by_person = cells.groupBy("individual_id").agg(F.sum("n").alias("n_person"))
    cells = cells.join(by_cluster, "cluster").join(by_person, "individual_id")
    row = cells.agg(
        F.sum("n").alias("records"),
        F.countDistinct("individual_id").alias("true_identities"),
        F.countDistinct("cluster").alias("predicted_clusters"),
        F.sum(_pairs(F.col("n"))).alias("true_positive_pairs"),
        F.sum(F.col("n") * F.col("n") / F.col("n_cluster")).alias("bcubed_precision_sum"),
        F.sum(F.col("n") * F.col("n") / F.col("n_person")).alias("bcubed_recall_sum"),
    ).first()
    predicted_pairs = by_cluster.agg(F.sum(_pairs(F.col("n_cluster")))).first()[0] or 0
    true_pairs = by_person.agg(F.sum(_pairs(F.col("n_person")))).first()[0] or 0
    records = int(row["records"] or 0)
    tp = float(row["true_positive_pairs"] or 0)
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    b_precision = float(row["bcubed_precision_sum"]) / records if records else 1.0
    b_recall = float(row["bcubed_recall_sum"]) / records if records else 1.0
    return Scores(
        records=records,
        true_identities=int(row["true_identities"] or 0),
        predicted_clusters=int(row["predicted_clusters"] or 0),
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
    )
