"""The ``rt-keras`` command line: one entry point, one module per subcommand (each with
``register(subparsers)`` and ``run(args)``). Command modules import the library inside
``run``, so ``--help`` and argument errors load no TensorFlow."""

from __future__ import annotations

import argparse
import logging
import sys

from converters.files import PathError
from rt_keras.cli import compress, convert, data, dedup, evaluate, footprint, params, pipeline, qat, train, transcribe
from rt_keras.core.errors import UserError

COMMANDS = (params, data, train, evaluate, qat, convert, compress, transcribe, dedup, footprint, pipeline)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rt-keras",
        description="ResidualTransformer encoders in Keras: build, train, quantise, convert to "
                    "TFLite with shared tensors stored once, and measure the footprint.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


class _CurrentStderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when the message comes (tests swap it)."""

    stream = property(lambda self: sys.stderr, lambda self, value: None)


def _show_library_log() -> None:
    """The library logs what it skips and how training goes (logger "rt_keras"): shown on
    stderr, so that --json output on stdout stays machine-readable."""
    logger = logging.getLogger("rt_keras")
    if not logger.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    _show_library_log()
    try:
        return args.run(args)
    except (UserError, PathError, FileNotFoundError) as error:  # a request the user can fix: one line
        print(f"rt-keras {args.command}: {error}", file=sys.stderr)
        return 2
