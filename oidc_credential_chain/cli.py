"""The ``oidc-credential-chain`` command line.

Exit codes: 0 success; 1 a fetch or exchange failed; 2 configuration or usage error;
3 ``doctor`` ran and found a mismatch.  Errors go to stderr as one paragraph, with a
traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from .errors import ErrorKind, OIDCError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MISMATCH = 3

PROG = "oidc-credential-chain"

#: Each module registers its sub-commands with ``register(subparsers)``; handlers import
#: heavy dependencies only when they run.
_COMMAND_MODULES = (
    "oidc_credential_chain._cli.tokens",
    "oidc_credential_chain._cli.aws",
    "oidc_credential_chain._cli.azure",
    "oidc_credential_chain._cli.demo",
    "oidc_credential_chain._cli.write_token",
    "oidc_credential_chain._cli.doctor",
)


class UsageError(Exception):
    """A command-line mistake detected after parsing (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Fetch OIDC ID tokens and exchange them for AWS, Azure and Google Cloud credentials.",
    )
    parser.add_argument("--debug", action="store_true", help="log at DEBUG and show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def exit_code_for(err: OIDCError) -> int:
    return EXIT_USAGE if err.kind is ErrorKind.CONFIGURATION else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Example: ``main(["claims", "oidc/github/sts.amazonaws.com"])``.
    """
    parser = build_parser()
    arguments, debug = _take_debug_flag(sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(arguments)
    args.debug = args.debug or debug
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if args.debug:
        # Only our loggers: botocore, azure-core and urllib3 log request and response bodies
        # (credentials included) at DEBUG.
        logging.getLogger("oidc_credential_chain").setLevel(logging.DEBUG)
    try:
        code: int = args.func(args)
    except ImportError as err:
        from ._internal.extras import missing_extra

        missing = missing_extra(err, _command_name(args))
        if missing is None:
            return _unexpected(err, debug=args.debug)
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"{PROG}: {missing}\n")
        return EXIT_USAGE
    except OIDCError as err:
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"{PROG}: {err}\n")
        return exit_code_for(err)
    except UsageError as err:
        sys.stderr.write(f"{PROG}: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``); nothing more can be said on stdout.
        _silence_stdout()
        return EXIT_FAILED
    except Exception as err:  # noqa: BLE001 - a bug still gets one paragraph, not a traceback
        return _unexpected(err, debug=args.debug)
    return code


def _unexpected(err: BaseException, *, debug: bool) -> int:
    if debug:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"{PROG}: unexpected {type(err).__name__}\n")
    else:
        sys.stderr.write(
            f"{PROG}: unexpected {type(err).__name__}; run again with --debug for the traceback\n"
        )
    return EXIT_FAILED


def _command_name(args: argparse.Namespace) -> str:
    """``aws credential-process``: the command as the user typed it."""
    words = [args.command]
    words += [value for key, value in vars(args).items() if key.endswith("_command") and value]
    return " ".join(words)


def _take_debug_flag(argv: list[str]) -> tuple[list[str], bool]:
    """Remove ``--debug`` wherever it stands (before or after the sub-command), up to a ``--``."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [arg for arg in argv[:end] if arg != "--debug"] + argv[end:]
    return kept, len(kept) != len(argv)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
