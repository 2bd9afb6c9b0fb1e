"""OS and torch errors -> one sentence: what the console script prints for the errors a user can
fix that the package did not raise itself (its own errors carry their sentence:
`ccdistill.errors.user_message`)."""

from __future__ import annotations

import errno


def os_error_message(error: OSError, fallback_path: str | None = None) -> str | None:
    """One sentence naming the path and what to do for the OS errors a user can fix; None for
    the others (they stay internal errors with a traceback).

    `fallback_path` (the command's output folder) is named when the OS does not say which file
    failed, as a write() on a full disk does not."""
    path = error.filename or fallback_path or "the output folder"
    if isinstance(error, PermissionError) or error.errno == errno.EROFS:
        return (f"cannot write or read {path}: permission denied (or a read-only file system); "
                "choose a folder you can write to, or fix its permissions")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on device at {path}; free space or choose another output"
    if isinstance(error, IsADirectoryError):
        return f"{path} is a folder, expected a file; pass the path of a file"
    if isinstance(error, NotADirectoryError):
        return f"{path} (or a folder above it) is a file, expected a folder; pass a folder path"
    if isinstance(error, FileNotFoundError):
        return f"{path} does not exist; check the path (relative paths start from the current folder)"
    return None


def torch_write_failure(error: RuntimeError, fallback_path: str | None) -> str | None:
    # torch.save reports a failed write as "PytorchStreamWriter failed writing file ..." or
    # "unexpected pos ...", with no errno: on a full disk the real cause is lost.
    text = str(error)
    if "PytorchStreamWriter failed" in text or "unexpected pos" in text:
        where = fallback_path or "the output folder"
        return (f"writing a checkpoint under {where} failed ({text.splitlines()[0][:120]}); the disk is "
                "probably full: free space or choose another output")
    return None
