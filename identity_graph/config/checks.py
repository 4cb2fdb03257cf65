"""Validation helpers shared by every config class: messages name the field and the value."""

from collections.abc import Mapping

WEIGHT_TOLERANCE = 1e-6


def check_weights(field: str, weights: Mapping[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
    """Weights over known categories, each ≥ 0, summing to 1 (± 1e-6); returned in canonical order."""
    unknown = sorted(set(weights) - set(allowed))
    if unknown:
        raise ValueError(f"{field}: unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; allowed: {list(allowed)}")
    negative = {k: v for k, v in weights.items() if v < 0}
    if negative:
        raise ValueError(f"{field}: weights must be ≥ 0, got {negative}")
    total = sum(weights.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ValueError(f"{field}: weights must sum to 1 (± {WEIGHT_TOLERANCE:g}), got {total:.6g} from {dict(weights)}")
    return {k: float(weights[k]) for k in allowed if k in weights}


def check_range(low_field: str, low: float, high_field: str, high: float) -> None:
    """Raise when the lower bound ``low_field`` exceeds the upper bound ``high_field``, naming both values."""
    if low > high:
        raise ValueError(f"{low_field} ({low}) must not exceed {high_field} ({high})")


def check_between(
    field: str, value: float, low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> float:
    """Return ``value`` when it lies in [low, high] (or (low, high] with ``low_open``); else raise naming ``field``."""
    # Written as what must hold, so that NaN fails every bound.
    above_low = low is None or (value > low if low_open else value >= low)
    below_high = high is None or value <= high
    if not (above_low and below_high):
        if high is None:
            bound = f"> {low:g}" if low_open else f"≥ {low:g}"
            raise ValueError(f"{field} must be {bound}, got {value}")
        opening = "(" if low_open else "["
        raise ValueError(f"{field} must be in {opening}{low:g}, {high:g}], got {value}")
    return value


def check_unique(field: str, values: list[str]) -> None:
    """Raise when ``values`` names an entry twice."""
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{field}: duplicate entr{'y' if len(duplicates) == 1 else 'ies'} {duplicates}")
