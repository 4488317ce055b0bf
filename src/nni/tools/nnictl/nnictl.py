"""NNI's own entry point name (``nni.tools.nnictl.nnictl:parse_args``), for scripts that call it."""

from __future__ import annotations

import sys

from .cli import main

__all__ = ['parse_args']


def parse_args() -> None:
    """Run ``nnictl`` with the process arguments and exit with its status."""
    sys.exit(main())
