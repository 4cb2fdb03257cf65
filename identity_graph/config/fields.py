"""What the config classes share: their base, and field types that carry their own rules.

Bounds are declared on each field (``Field(ge=…, le=…, gt=…)``) and single choices as
``Literal``; the types here cover what a bound cannot say. Dagster builds the launchpad's
schema from the same annotations, and it takes neither a ``Literal`` inside a list nor
anything but ``str`` as a map's key — so list elements and map keys are ``str`` checked
against the model's vocabulary by the type's own validator. A rule between two fields of
a class lives in that class's one ``model_validator``; a rule between two tables' config,
in :mod:`identity_graph.config.validation`.

Messages do not repeat the field's name: Pydantic reports where the error is (the field,
and the key or index within it), and :func:`~identity_graph.config.validation.describe_validation_error`
puts that location in front of every message.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: Weights summing to 1 within this are accepted.
WEIGHT_TOLERANCE = 1e-6


class TableConfig(BaseModel):
    """Base of a table's run config: immutable, unknown fields refused, and the table it configures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The model's name of the table whose asset (op) takes this config: its run config section.
    table: ClassVar[str]

    @classmethod
    def from_recorded(cls, values: Mapping[str, Any] | None) -> Self:
        """The config a materialisation recorded; fields it carries that the class has since lost are ignored."""
        return cls(**{k: v for k, v in (values or {}).items() if k in cls.model_fields})

    def _not_above(self, low: str, high: str) -> str | None:
        """The problem when field ``low`` exceeds field ``high``, naming both values (None when it does not)."""
        low_value, high_value = getattr(self, low), getattr(self, high)
        return f"{low} ({low_value}) must not exceed {high} ({high_value})" if low_value > high_value else None

    def _require(self, *problems: str | None) -> Self:
        """``self`` when no problem is given; else one ValueError listing them all."""
        found = [p for p in problems if p]
        if found:
            raise ValueError("; ".join(found))
        return self


#: A weight: ≥ 0 (NaN fails every bound).
Weight = Annotated[float, Field(ge=0.0)]
#: A probability or share: in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _non_blank(name: str) -> str:
    if not name.strip():
        raise ValueError(f"must not be blank, got {name!r}")
    return name


#: A configurable name (a content category, a segment): any text but blank.
Name = Annotated[str, AfterValidator(_non_blank)]


def _distinct(values: list[str]) -> list[str]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"duplicate entr{'y' if len(duplicates) == 1 else 'ies'} {duplicates}")
    return values


def _in_order(vocabulary: Sequence[str]) -> AfterValidator:
    """Reorder a list or a map's keys to ``vocabulary``'s order: draws follow it, so the input's order must not matter."""

    def reorder(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: value[k] for k in vocabulary if k in value}
        return [k for k in vocabulary if k in value]

    return AfterValidator(reorder)


def one_of(vocabulary: Sequence[str]) -> Any:
    """``str`` restricted to ``vocabulary`` — a ``Literal`` where Dagster takes none (list elements)."""

    def check(value: str) -> str:
        if value not in vocabulary:
            raise ValueError(f"must be one of {list(vocabulary)}, got {value!r}")
        return value

    return Annotated[str, AfterValidator(check)]


def distinct_list(item: Any, vocabulary: Sequence[str] | None = None) -> Any:
    """A non-empty list of ``item`` without duplicates; in ``vocabulary``'s order when one is given."""
    ordering = (_in_order(vocabulary),) if vocabulary is not None else ()
    return Annotated[list[item], Field(min_length=1), AfterValidator(_distinct), *ordering]


def _keys_from(vocabulary: Sequence[str] | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Map keys from ``vocabulary`` (any non-blank names when None)."""

    def check(mapping: dict[str, Any]) -> dict[str, Any]:
        if vocabulary is None:
            blank = [k for k in mapping if not k.strip()]
            if blank:
                raise ValueError(f"names must not be blank, got {blank}")
        else:
            unknown = sorted(set(mapping) - set(vocabulary))
            if unknown:
                raise ValueError(
                    f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; allowed: {list(vocabulary)}"
                )
        return mapping

    return check


def _sums_to_one(weights: dict[str, float]) -> dict[str, float]:
    if not weights:
        raise ValueError(f"needs at least one category, got {weights}")
    total = sum(weights.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ValueError(f"weights must sum to 1 (± {WEIGHT_TOLERANCE:g}), got {total:.6g} from {weights}")
    return weights


def _sums_to_at_most_one(rates: dict[str, float]) -> dict[str, float]:
    total = sum(rates.values())
    if total > 1.0 + 1e-9:
        raise ValueError(f"rates must sum to at most 1, got {total:.6g} from {rates}")
    return rates


def _some_positive(shares: dict[str, float]) -> dict[str, float]:
    if not any(s > 0 for s in shares.values()):
        raise ValueError(f"at least one share must be > 0, got {shares}")
    return shares


def weights_over(vocabulary: Sequence[str] | None = None) -> Any:
    """A mix: weights (each ≥ 0) summing to 1 (± :data:`WEIGHT_TOLERANCE`) over ``vocabulary``,
    kept in its order; over any non-blank names, in the given order, when ``vocabulary`` is None."""
    ordering = (_in_order(vocabulary),) if vocabulary is not None else ()
    return Annotated[dict[str, Weight], AfterValidator(_keys_from(vocabulary)), AfterValidator(_sums_to_one), *ordering]


def rates_over(vocabulary: Sequence[str]) -> Any:
    """Exclusive outcomes' probabilities over ``vocabulary``: each in [0, 1], summing to at most 1."""
    return Annotated[
        dict[str, Probability],
        AfterValidator(_keys_from(vocabulary)),
        AfterValidator(_sums_to_at_most_one),
        _in_order(vocabulary),
    ]


def rates_per(keys: Sequence[str], outcomes: Sequence[str], defaults: Mapping[str, Mapping[str, float]]) -> Any:
    """Per key of ``keys`` (a channel), exclusive outcomes' probabilities over ``outcomes``
    (:func:`rates_over`); a key left out keeps its ``defaults``, an outcome left out of a key's
    rates is 0. Kept in ``keys``' order."""

    def with_defaults(rates: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {k: dict(rates[k]) if k in rates else dict(defaults.get(k, {})) for k in keys}

    return Annotated[dict[str, rates_over(outcomes)], AfterValidator(_keys_from(keys)), AfterValidator(with_defaults)]


def shares_over(vocabulary: Sequence[str]) -> Any:
    """Independent shares over ``vocabulary``: each in [0, 1], at least one above 0."""
    return Annotated[
        dict[str, Probability],
        AfterValidator(_keys_from(vocabulary)),
        AfterValidator(_some_positive),
        _in_order(vocabulary),
    ]


def probabilities_over(vocabulary: Sequence[str]) -> Any:
    """A probability (in [0, 1]) per key of ``vocabulary``; keys may be left out."""
    return Annotated[dict[str, Probability], AfterValidator(_keys_from(vocabulary)), _in_order(vocabulary)]


#: A map from names to names (a segment per content category): neither side blank.
NameMap = Annotated[dict[str, Name], AfterValidator(_keys_from(None))]
