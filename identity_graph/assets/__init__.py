"""Thin asset wrappers: read config, call generation, return a DataFrame for the IO manager."""

from identity_graph.partitions import EVENT_DATE

#: Every asset is computed by Spark and stored as Delta.
KINDS = {"spark", "delta"}
OWNERS = ["team:identity-graph"]
#: Metadata of the daily event tables: the IO manager replaces days on this column.
EVENT_TABLE_METADATA = {"partition_expr": EVENT_DATE, "partition_columns": [EVENT_DATE]}
