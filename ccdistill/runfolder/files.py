"""Writing files so that a crash never leaves a half-written one under the real name, with the
permissions any other file the user writes gets (`write_atomic`, `write_json_atomic` and its
reader `read_json`); and saying what is wrong with a path that should name a file."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

from ccdistill.errors import DataError

NEW_FILE_MODE = 0o666  # what open() asks for; the umask takes bits away


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc, since 4.7):
    setting and restoring it would race with other threads creating files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    """The mode `open(path, "w")` would leave: an existing file's own, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return NEW_FILE_MODE & ~current_umask()


def write_atomic(path: str | os.PathLike, write: Callable[[IO], None], binary: bool = True) -> Path:
    """Call `write(file)` on a temporary file beside `path`, fsync it, then rename it over `path`.

    The temporary name is ".<final name>.<random>.tmp" (what `names.TEMPORARY_GLOB`
    finds after a kill); on any error it is removed and the error re-raised. The file gets the
    mode a plain write would give it (mkstemp's own 0600 would hide it from the user's group).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb" if binary else "w") as file:
            write(file)
            file.flush()
            if hasattr(os, "fchmod"):  # not on Windows, where the mode bits do not apply
                os.fchmod(file.fileno(), _final_mode(path))
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def not_a_file(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be read as a file ("is a folder", "does not exist", ...), or None when it
    is a regular file. Messages then say what the path is instead of "does not exist"."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except NotADirectoryError:
        return "does not exist (a folder above it is a file)"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, expected a file"
    return "is not a regular file (a device, pipe or socket), expected a file"


def write_json_atomic(payload: Any, path: str | Path) -> Path:
    """json.dump to a temporary file in the same folder, fsync, then os.replace onto `path`."""
    def dump(file) -> None:
        json.dump(payload, file, indent=1, allow_nan=False)
        file.write("\n")

    return write_atomic(path, dump, binary=False)


def read_json(path: str | Path) -> dict[str, Any]:
    """A JSON file written by `write_json_atomic`; DataError naming the file if unreadable."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"result file {path} cannot be read ({error}); delete it to rerun that run") from None
    if not isinstance(payload, dict):
        raise DataError(f"result file {path} does not hold a JSON object; delete it to rerun that run")
    return payload
