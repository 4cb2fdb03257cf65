"""The local target: can the Delta warehouse directory ``<warehouse>/<catalog>/<schema>`` be written?

:func:`verify_local` probes the filesystem (creating and deleting a probe file or
directory, never leaving anything behind) and reports each unwritable place with the
shell command or setting that fixes it.
"""

from __future__ import annotations

import errno
import os
import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .identifiers import check_name
from .report import MissingPrivilege, PermissionReport

try:
    import pwd
except ImportError:  # pragma: no cover - not POSIX
    pwd = None  # type: ignore[assignment]

__all__ = ["verify_local"]


def _current_user() -> str:
    if pwd is not None:
        try:
            return pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            return str(os.geteuid())
    return os.environ.get("USER") or os.environ.get("USERNAME") or "the current user"


def _probe_file(directory: Path) -> OSError | None:
    """Create and delete a file in ``directory``; the error if that is not possible."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".identity_graph_probe_")
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        return error
    return None


def _probe_directory(parent: Path) -> OSError | None:
    """Create and delete a directory in ``parent``; the error if that is not possible."""
    try:
        os.rmdir(tempfile.mkdtemp(dir=parent, prefix=".identity_graph_probe_"))
    except OSError as error:
        return error
    return None


def _why(error: OSError) -> str:
    return error.strerror or str(error)


def _unwritable_remedy(path: Path, error: OSError, user: str) -> str:
    q = shlex.quote(str(path))
    if error.errno == errno.EROFS:
        return f"{path} is on a read-only file system: set IDENTITY_GRAPH_WAREHOUSE (or --warehouse) to a writable directory"
    try:
        owner_uid = path.stat().st_uid
    except OSError:
        owner_uid = None
    if owner_uid == os.geteuid():
        return f"chmod u+rwx -- {q}"
    return f"sudo chown -R {shlex.quote(user)} -- {q}"


def verify_local(warehouse: str, catalog: str, schema: str, tables: Sequence[str]) -> PermissionReport:
    """Check that the local warehouse location ``<warehouse>/<catalog>/<schema>`` can be written.

    * If the location exists it must be a directory in which a file can be created
      (a probe file is created and deleted).
    * If it does not exist, its nearest existing ancestor must be a directory in which a
      directory can be created (a probe directory is created and deleted). The location
      itself is *not* created: a check must not leave directories behind for a mistyped
      warehouse path; the run creates it.
    * Every table directory that already exists (``<location>/<table>``), and its
      ``_delta_log``, must be a writable directory; a file where a table directory
      should be is reported.
    """
    for kind, name in (("catalog", catalog), ("schema", schema), *(("table", t) for t in tables)):
        check_name(kind, name)
    user = _current_user()
    location = Path(warehouse).expanduser().absolute() / catalog / schema
    checked: list[str] = []
    missing: list[MissingPrivilege] = []

    def fail(path: Path, remedy: str) -> None:
        missing.append(MissingPrivilege("location", str(path), "WRITE", remedy))

    existing = location
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent

    if not existing.is_dir():
        # Something on the way is a file (or a dangling link): nothing can be created below it.
        fail(
            location,
            f"{existing} is not a directory, so {location} cannot be created: move it away "
            f"(mv -- {shlex.quote(str(existing))} {shlex.quote(str(existing) + '.bak')}) or set "
            "IDENTITY_GRAPH_WAREHOUSE (or --warehouse) to another directory",
        )
        checked.append(f"{location} can be created: no ({existing} is not a directory)")
    elif existing != location:
        error = _probe_directory(existing)
        if error is None:
            checked.append(f"{location} does not exist yet and can be created under {existing}: yes")
        else:
            checked.append(f"{location} can be created under {existing}: no ({_why(error)})")
            fail(location, _unwritable_remedy(existing, error, user))
    else:
        error = _probe_file(location)
        if error is None:
            checked.append(f"{location} is a writable directory: yes")
        else:
            checked.append(f"{location} is a writable directory: no ({_why(error)})")
            fail(location, _unwritable_remedy(location, error, user))
        for table in tables:
            path = location / table
            if not os.path.lexists(path):
                continue
            if not path.is_dir():
                checked.append(f"table directory {path} is a directory: no (a file is in its place)")
                fail(
                    path,
                    f"a file is where the table directory {path} should be: move it away "
                    f"(mv -- {shlex.quote(str(path))} {shlex.quote(str(path) + '.bak')})",
                )
                continue
            for directory in (path, path / "_delta_log"):
                if directory.name == "_delta_log" and not directory.is_dir():
                    continue
                error = _probe_file(directory)
                if error is None:
                    checked.append(f"{directory} is writable: yes")
                else:
                    checked.append(f"{directory} is writable: no ({_why(error)})")
                    fail(directory, _unwritable_remedy(directory, error, user))
    return PermissionReport(
        target="local",
        location=str(location),
        principal=user,
        checked=tuple(checked),
        missing=tuple(missing),
    )
