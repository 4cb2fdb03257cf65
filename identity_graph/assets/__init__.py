"""Thin asset wrappers: read config, call generation, return a DataFrame for the IO manager."""
