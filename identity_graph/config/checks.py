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


def check_range(name: str, low: float, high: float) -> None:
    """Raise when ``<name>_min`` exceeds ``<name>_max``, naming both values."""
    if low > high:
        raise ValueError(f"{name}_min ({low}) must not exceed {name}_max ({high})")
