"""Every stored table has the schema the model declares, and its non-nullable columns hold no NULL."""

from pyspark.sql import functions as F

from identity_graph import model
from identity_graph_tests.support.stored_graph import read


def test_every_stored_table_has_the_models_schema_and_its_non_null_columns_hold(spark, graph):
    for declared in model.TABLES:
        stored = read(spark, graph, declared.name)
        assert [(f.name, f.dataType) for f in stored.schema.fields] == [(c.name, c.type) for c in declared.columns]
        required = [c.name for c in declared.columns if not c.nullable]
        nulls = stored.agg(*[F.count(F.when(F.col(c).isNull(), 1)).alias(c) for c in required]).first().asDict()
        assert {c: n for c, n in nulls.items() if n} == {}, declared.name
