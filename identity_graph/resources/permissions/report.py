"""The result of a permission check: what was verified, what is missing, and how to fix it.

:class:`PermissionReport` is what both :func:`~.local.verify_local` and
:func:`~.privileges.verify_unity_catalog` return. It renders as readable text
(:meth:`PermissionReport.describe`) and as a markdown table for Dagster metadata
(:meth:`PermissionReport.markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_graph.markdown import cell, code

__all__ = ["MissingObject", "MissingPrivilege", "PermissionReport"]


@dataclass(frozen=True)
class MissingPrivilege:
    """One privilege the identity lacks, and the statement that grants it."""

    securable_type: str
    """``catalog``, ``schema``, ``table`` or (local target) ``location``."""
    securable: str
    """Full name (``catalog``, ``catalog.schema``, ``catalog.schema.table``) or a filesystem path."""
    privilege: str
    """E.g. ``USE CATALOG``, ``CREATE TABLE``, ``MODIFY``; ``WRITE`` for a local path."""
    remedy: str
    """A GRANT statement for Unity Catalog; a sentence or shell command for a local path."""


@dataclass(frozen=True)
class MissingObject:
    """An object that must exist before privileges on it can be granted (a missing catalog)."""

    securable_type: str
    securable: str
    remedy: str
    """The statement that creates it (to be run by someone allowed to)."""


@dataclass(frozen=True)
class PermissionReport:
    """What was verified for one target, and what is missing."""

    target: str
    """``local`` or ``databricks``."""
    location: str
    """The warehouse path (local) or ``catalog.schema`` (Unity Catalog)."""
    principal: str | None
    checked: tuple[str, ...]
    """Human-readable list of what was verified, with the outcome of each."""
    missing: tuple[MissingPrivilege, ...]
    missing_objects: tuple[MissingObject, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """Which API answered, and anything that could not be verified."""

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing and not self.missing_objects

    def statements(self) -> tuple[str, ...]:
        """Every statement to run, in order: creations first, then grants."""
        return tuple(o.remedy for o in self.missing_objects) + tuple(m.remedy for m in self.missing)

    def describe(self) -> str:
        """Readable multi-line text: what is missing, and every statement to run."""
        who = f" as {self.principal}" if self.principal else ""
        head = f"Permission check ({self.target}) for {self.location}{who}"
        lines: list[str]
        if self.ok:
            lines = [f"{head}: OK ({_count(len(self.checked), 'check')} passed)."]
        else:
            lines = [f"{head}: {_count(len(self.missing) + len(self.missing_objects), 'problem')}."]
            for obj in self.missing_objects:
                lines.append(f"  - {obj.securable_type} {obj.securable} does not exist (or is not visible)")
            for m in self.missing:
                lines.append(f"  - missing {m.privilege} on {m.securable_type} {m.securable}")
            if self.target == "local":
                lines.append("To fix:")
                lines.extend(f"  {s}" for s in self.statements())
            else:
                lines.append("Run as a metastore admin (or the owner of each object):")
                lines.extend(f"  {s};" for s in self.statements())
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)

    def markdown(self) -> str:
        """A markdown table (securable type, securable, privilege, statement), for Dagster metadata."""
        if self.ok:
            text = f"{_count(len(self.checked), 'check')} passed for {code(self.location)}."
        else:
            rows = ["| securable type | securable | privilege | statement |", "|---|---|---|---|"]
            for obj in self.missing_objects:
                rows.append(f"| {obj.securable_type} | {cell(obj.securable)} | (does not exist) | {code(obj.remedy)} |")
            for m in self.missing:
                rows.append(f"| {m.securable_type} | {cell(m.securable)} | {m.privilege} | {code(m.remedy)} |")
            text = "\n".join(rows)
        if self.notes:
            text += "\n\n" + "\n".join(f"- {cell(n)}" for n in self.notes)
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
