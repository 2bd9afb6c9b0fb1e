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
import importlib
import sys

from ccdistill.cli.messages import torch_write_failure, os_error_message
from ccdistill.errors import CCDistillError, user_message

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


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """`argv` parsed by the command's parser; `experiments` has its own (it needs the library)."""
    from ccdistill.cli import experiments

    if argv[:1] == [experiments.COMMAND]:
        return experiments.parse(argv[1:])
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (2 for errors the user can fix)."""
    args = parse_arguments(sys.argv[1:] if argv is None else list(argv))
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
        message = torch_write_failure(error, _output_path(args))
        if message is None:
            raise
    except KeyboardInterrupt:
        print(f"ccdistill {args.command}: interrupted", file=sys.stderr)
        return 130
    else:
        return int(status or 0)
    print(f"ccdistill {args.command}: error: {message}", file=sys.stderr)
    return USAGE_ERROR
