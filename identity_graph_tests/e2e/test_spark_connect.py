"""Generation has no RDD or Python-UDF path, so it runs over Spark Connect.

The whole graph over Spark Connect is generated, checked and compared with the in-process run,
row for row, by the UI tests (``test_webserver.py``: ``dagster dev`` runs each job in its own
process, with Spark through a Connect server), since pyspark refuses a Connect session in a
process that already has a local SparkContext (the shared ``spark`` fixture).
"""

import re

from identity_graph_tests.support.stored_graph import ROOT

GENERATION = ROOT / "identity_graph" / "generation"
#: What only an RDD or a Python UDF needs: the SparkContext, RDDs and Python functions run on rows.
FORBIDDEN = re.compile(
    r"\.rdd\b|sparkContext|SparkContext|\budf\s*\(|@udf\b|pandas_udf|mapInPandas|mapInArrow|applyInPandas|applyInArrow|\.foreach(Partition)?\s*\("
)


def test_generation_has_no_rdd_or_python_udf_path():
    found = [
        f"{source.relative_to(ROOT)}:{number}: {line.strip()}"
        for source in sorted(GENERATION.rglob("*.py"))
        for number, line in enumerate(source.read_text().splitlines(), 1)
        if FORBIDDEN.search(line.split("#", 1)[0])
    ]
    assert not found, "RDD / Python UDF use in generation:\n" + "\n".join(found)
