"""Checks of the target and of the stored graph: pure measures (``integrity``) and the Dagster asset checks built on them."""
