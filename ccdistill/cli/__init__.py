"""The `ccdistill` console script: one module per command, each with `register(subparsers)`
(argument definitions only) and `run(args)` (the work).

Building the parser imports nothing heavy: torch and the library modules are imported inside
each command's `run`, so `ccdistill --help` and argument errors answer at once. Errors the
package raises on purpose (CCDistillError) and the common OS errors (permission, disk full, a
file where a folder was expected, ...) become one sentence on stderr and exit status 2; only
internal errors keep their traceback (exit status 1).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import re
import sys

from ccdistill.errors import CCDistillError, InputError

SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
USAGE_ERROR = 2  # CCDistillError, OS errors the user can fix, argument errors (argparse's own code)

# The commands, in the order `ccdistill --help` lists them; each module defines register().
COMMAND_MODULES: tuple[str, ...] = (
    "ccdistill.cli.doctor",
    "ccdistill.cli.data",
    "ccdistill.cli.train",
    "ccdistill.cli.eval",
    "ccdistill.cli.export",
    "ccdistill.cli.bench",
    "ccdistill.cli.experiments",
    "ccdistill.cli.notebooks",
)


# --------------------------------------------------------------------------------------------
# Argument types shared by the commands


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """'256x512' -> (256, 512) as (H, W): the one size parser of every command's size options."""
    match = SIZE_PATTERN.match(text)
    if match is None:
        raise InputError(f"{option} must be HEIGHTxWIDTH in pixels, e.g. 256x512; got {text!r}.")
    return int(match.group(1)), int(match.group(2))


def optional_size(text: str | None, option: str) -> tuple[int, int] | None:
    """`parse_size` for options whose absence means "native size"."""
    return parse_size(text, option) if text else None


def device_name(text: str) -> str:
    """argparse type of --device: auto, cpu, cuda, cuda:N or mps (availability is checked when
    the command resolves the device)."""
    if not DEVICE_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; expected auto, cpu, cuda, cuda:N or mps")
    return text


def positive_int(text: str) -> int:
    """argparse type of counts that must be at least 1 (repeats, image limits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (at least 1), got {value}")
    return value


# --------------------------------------------------------------------------------------------
# Errors -> one sentence


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


def _torch_write_failure(error: RuntimeError, fallback_path: str | None) -> str | None:
    # torch.save reports a failed write as "PytorchStreamWriter failed writing file ..." or
    # "unexpected pos ...", with no errno: on a full disk the real cause is lost.
    text = str(error)
    if "PytorchStreamWriter failed" in text or "unexpected pos" in text:
        where = fallback_path or "the output folder"
        return (f"writing a checkpoint under {where} failed ({text.splitlines()[0][:120]}); the disk is "
                "probably full: free space or choose another output")
    return None


def user_message(error: CCDistillError) -> str:
    """The error's own message; for errors re-raised from a DataLoader worker, whose message is
    the worker's whole traceback, only the original message."""
    text = str(error)
    if "DataLoader worker" in text and "Original Traceback" in text:
        marker = f"{type(error).__module__}.{type(error).__qualname__}: "
        if marker in text:
            return text.rsplit(marker, 1)[1].strip()
    return text


def build_parser() -> argparse.ArgumentParser:
    """The `ccdistill` parser with every command (imports no torch)."""
    parser = argparse.ArgumentParser(
        prog="ccdistill",
        description="CCDistill day-to-night domain adaptation: data, training, evaluation.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _output_path(args: argparse.Namespace) -> str | None:
    """The command's output folder (named in OS errors that carry no file name), read after the
    command ran: `train` only knows it once the config is loaded."""
    option = getattr(args, "output_option", None)
    value = getattr(args, option, None) if option else None
    return str(value) if value else None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (2 for errors the user can fix)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    message: str | None
    try:
        status = args.func(args)
    except CCDistillError as error:
        message = user_message(error)
    except OSError as error:
        message = os_error_message(error, _output_path(args))
        if message is None:
            raise
    except RuntimeError as error:
        message = _torch_write_failure(error, _output_path(args))
        if message is None:
            raise
    except KeyboardInterrupt:
        print(f"ccdistill {args.command}: interrupted", file=sys.stderr)
        return 130
    else:
        return int(status or 0)
    print(f"ccdistill {args.command}: error: {message}", file=sys.stderr)
    return USAGE_ERROR
