"""Deterministic randomness as Spark column expressions.

Every draw is a pure function of ``(seed, table, column, key...)`` computed with
``xxhash64``, so a row's values do not depend on how Spark partitions the data,
which executor runs it, or which process does. Nothing here calls ``rand()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

_MANTISSA = float(1 << 53)


def _as_column(value: Column | str) -> Column:
    return F.col(value) if isinstance(value, str) else value


def hash64(seed: int, table: str, column: str, *keys: Column | str) -> Column:
    """A signed 64-bit hash of (seed, table, column, keys)."""
    return F.xxhash64(F.lit(seed), F.lit(table), F.lit(column), *[_as_column(k) for k in keys])


def uniform(seed: int, table: str, column: str, *keys: Column | str) -> Column:
    """A DOUBLE uniform in [0, 1): the top 53 bits of the hash, as a fraction."""
    return F.shiftrightunsigned(hash64(seed, table, column, *keys), 11).cast("double") / F.lit(_MANTISSA)


def uniform_open(seed: int, table: str, column: str, *keys: Column | str) -> Column:
    """A DOUBLE uniform in (0, 1): safe to take the logarithm of."""
    return (F.shiftrightunsigned(hash64(seed, table, column, *keys), 11).cast("double") + F.lit(0.5)) / F.lit(_MANTISSA)


def standard_normal(seed: int, table: str, column: str, *keys: Column | str) -> Column:
    """A DOUBLE drawn from N(0, 1) by the Box–Muller transform of two hashed uniforms."""
    u1 = uniform_open(seed, table, f"{column}#u1", *keys)
    u2 = uniform(seed, table, f"{column}#u2", *keys)
    return F.sqrt(F.lit(-2.0) * F.log(u1)) * F.cos(F.lit(2.0 * math.pi) * u2)


def uniform_int(
    seed: int, table: str, column: str, low: int | Column, high: int | Column, *keys: Column | str
) -> Column:
    """An INT uniform on the closed range [low, high]."""
    low_c = low if isinstance(low, Column) else F.lit(low)
    high_c = high if isinstance(high, Column) else F.lit(high)
    u = uniform(seed, table, column, *keys)
    return (low_c + F.floor(u * (high_c - low_c + F.lit(1)))).cast("int")


def geometric(seed: int, table: str, column: str, mean: float, *keys: Column | str) -> Column:
    """An INT ≥ 0 from the geometric distribution with the given mean (0 when mean ≤ 0)."""
    if mean <= 0:
        return F.lit(0)
    p = 1.0 / (1.0 + mean)
    u = uniform_open(seed, table, column, *keys)
    return F.floor(F.log(u) / F.lit(math.log(1.0 - p))).cast("int")


def categorical(u: Column, weights: Mapping[str, float]) -> Column:
    """Map a uniform draw ``u`` to a category by cumulative weights (insertion order).

    The last category takes the remainder, so rounding in the weights never yields NULL.
    """
    items = [(k, w) for k, w in weights.items() if w > 0]
    if not items:
        raise ValueError("categorical() needs at least one positive weight")
    total = sum(w for _, w in items)
    cumulative = 0.0
    expr = None
    for name, weight in items[:-1]:
        cumulative += weight / total
        expr = (
            (F.when(u < F.lit(cumulative), F.lit(name)))
            if expr is None
            else expr.when(u < F.lit(cumulative), F.lit(name))
        )
    last = F.lit(items[-1][0])
    return last if expr is None else expr.otherwise(last)


def pick(u: Column, values: Sequence[object]) -> Column:
    """Pick one of a small literal list uniformly by a uniform draw ``u``."""
    idx = F.least(F.floor(u * F.lit(len(values))).cast("int"), F.lit(len(values) - 1))
    return F.element_at(F.array(*[F.lit(v) for v in values]), idx + F.lit(1))


def clip(col: Column, low: float | int, high: float | int) -> Column:
    """``col`` clipped into [low, high]."""
    return F.least(F.greatest(col, F.lit(low)), F.lit(high))


def lookup(column: Column | str, table: Mapping[str, object]) -> Column:
    """``table[column]`` as a CASE expression (NULL for keys not in the table)."""
    col = _as_column(column)
    expr = None
    for name, value in table.items():
        cond = col == F.lit(name)
        expr = F.when(cond, F.lit(value)) if expr is None else expr.when(cond, F.lit(value))
    return expr


def near(centre: Column, spread: float, seed: int, table: str, column: str, *keys: Column | str) -> Column:
    """A DOUBLE in [0, 1] near ``centre`` (itself in [0, 1]): centre plus triangular noise of
    half-width ``spread`` (at most 1), reflected back into [0, 1].

    When ``centre`` is uniform over the rows, so is the draw: reflecting a uniform plus
    independent symmetric noise gives a uniform. Categories or flags drawn from it keep their
    configured shares while following ``centre``.
    """
    if not 0 <= spread <= 1:
        raise ValueError(f"near() needs a spread in [0, 1], got {spread}")
    noise = F.lit(spread) * (
        uniform(seed, table, f"{column}#n1", *keys) + uniform(seed, table, f"{column}#n2", *keys) - F.lit(1.0)
    )
    x = centre + noise
    return F.when(x < 0, -x).when(x > 1, F.lit(2.0) - x).otherwise(x)
