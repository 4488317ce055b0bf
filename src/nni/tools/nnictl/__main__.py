"""``nnictl`` entry point (console script ``nni.tools.nnictl.__main__:main``, or ``python -m nni.tools.nnictl``)."""

from __future__ import annotations

import sys

from .cli import main

__all__ = ['main']

if __name__ == '__main__':
    sys.exit(main())
