"""
The ``nnictl`` command line: parser, dispatch, and the one place where failures become exit codes.

Parsing is argparse, as in NNI, so long options abbreviate to any unambiguous prefix (``--meta`` for
``--meta_path``), ``--opt=value`` works, and usage errors exit 2. One module per noun registers its
sub-commands (``launch``: create/resume/view, ``experiment``, ``trial``, ``algo``, ...).

Exit codes: 0 when the command did what was asked; 1 for every reported error (``ERROR: ...``), where NNI
often exited 0; 2 for usage errors. Errors are one line each, never a traceback (those go to stderr for
genuine bugs only).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Sequence

from .errors import CliError, LaunchError
from .output import colored, error

__all__ = ['build_parser', 'main']

_GUIDANCE = 'Please run "nnictl {positional argument} --help" to see nnictl guidance.'


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version('nni')
    except PackageNotFoundError:
        try:
            import nni

            return str(nni.__version__)
        except (ImportError, AttributeError):
            return None


def _package_stub(args: argparse.Namespace) -> int:
    raise CliError('nnictl package command is replaced by nnictl algo, please run nnictl algo -h to show the usage')


def build_parser() -> argparse.ArgumentParser:
    """The full ``nnictl`` parser."""
    from . import (
        algo,
        config_show,
        experiment,
        launch,
        log,
        platform_clean,
        ss_gen,
        stop,
        top,
        trial,
        update,
        webui,
    )

    parser = argparse.ArgumentParser(prog='nnictl', description='use nnictl command to control nni experiments')
    parser.add_argument('--version', '-v', action='store_true')
    parser.set_defaults(func=None)
    commands = parser.add_subparsers(title='commands')
    launch.add_parsers(commands)
    update.add_parsers(commands)
    stop.add_parsers(commands)
    trial.add_parsers(commands)
    experiment.add_parsers(commands)
    platform_clean.add_parsers(commands)
    webui.add_parsers(commands)
    config_show.add_parsers(commands)
    log.add_parsers(commands)
    algo.add_parsers(commands)
    package = commands.add_parser('package', help='this command is replaced by nnictl algo')
    package.add_argument('args', nargs=argparse.REMAINDER)
    package.set_defaults(func=_package_stub)
    top.add_parsers(commands)
    ss_gen.add_parsers(commands)
    return parser


class _ConsoleHandler(logging.Handler):
    """``[time] message`` lines of the experiment logger on the *current* ``sys.stdout`` (NNI's shape)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stamp = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(record.created))
            text = record.getMessage()
            if record.levelno >= logging.ERROR:
                line = colored(f'[{stamp}] ERROR: {text}', 'red')
            elif record.levelno >= logging.WARNING:
                line = colored(f'[{stamp}] WARNING: {text}', 'yellow')
            else:
                line = f'[{stamp}] {text}'
            print(line, file=sys.stdout, flush=True)
        except BrokenPipeError:
            pass  # `nnictl create ... | head`: the reader is gone, the command goes on quietly
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


def _install_logging() -> tuple[logging.Logger, logging.Handler, int]:
    nni_logger = logging.getLogger('nni')
    handler = _ConsoleHandler(logging.INFO)
    # The nnictl process owns its output: this handler goes first, so the client does not add its own.
    nni_logger.addHandler(handler)
    previous = nni_logger.level
    if nni_logger.getEffectiveLevel() > logging.INFO or nni_logger.level == logging.NOTSET:
        nni_logger.setLevel(logging.INFO)
    return nni_logger, handler, previous


def _report(exc: CliError) -> None:
    for line in exc.before:
        print(line)
    if isinstance(exc, LaunchError):
        logging.getLogger('nni.experiment').error('%s', exc.message)
    else:
        error(exc.message)
    if exc.details:
        print(exc.details)


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run ``nnictl`` with ``argv`` (default: the process arguments) and return the exit code.

    Parameters
    ----------
    argv
        Arguments after the program name.

    Returns
    -------
    int
        0 on success, 1 on reported errors, 2 on usage errors.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage error (2) or --help (0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if args.version:
        version = _version()
        if version is None:
            error('Get version failed, please use `pip3 list | grep nni` to check nni version!')
        else:
            print(version)
        return 0
    if args.func is None:
        print(_GUIDANCE)
        return 0
    nni_logger, handler, level = _install_logging()
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        _report(exc)
        return exc.exit_code
    except BrokenPipeError:
        # The reader of our output went away (`nnictl trial ls | head`): no traceback, and no second
        # error when the interpreter flushes stdout at exit.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        print()
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line on stdout, the traceback on stderr
        traceback.print_exc(file=sys.stderr)
        error(f'{type(exc).__name__}: {exc}')
        return 1
    finally:
        nni_logger.removeHandler(handler)
        nni_logger.setLevel(level)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
