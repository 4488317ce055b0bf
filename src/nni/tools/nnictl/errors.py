"""
Exceptions of ``nnictl``; the top level (:func:`nni.tools.nnictl.cli.main`) turns them into output and an exit code.

Hierarchy::

    Exception
     '-- CliError              printed as ``ERROR: <message>`` (plus optional extra lines), exit code 1
          '-- LaunchError      the same, in the ``[time] ERROR: ...`` shape of create / resume / view

Commands raise; only the top level prints the error and exits, so the mapping from failures to exit codes
lives in one place. ``exit_code`` is a class attribute that an instance may override.
"""

from __future__ import annotations

__all__ = ['CliError', 'LaunchError']


class CliError(Exception):
    """
    A failure the user can fix; printed without a traceback.

    Parameters
    ----------
    message
        The error line(s); each line becomes one ``ERROR: ...`` line.
    details
        Text printed as is after the error lines (e.g. the experiment table after "There are multiple
        experiments").
    exit_code
        Exit status of ``nnictl``; 1 unless given.
    before
        Lines printed as they are *before* the error (NNI prints ``INFO:  ...`` lines first in some cases).
    """

    exit_code: int = 1

    def __init__(self, message: str, *, details: str | None = None, exit_code: int | None = None,
                 before: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.before = list(before or [])
        if exit_code is not None:
            self.exit_code = exit_code


class LaunchError(CliError):
    """A failure of ``create``/``resume``/``view``, printed through the experiment logger (``[time] ERROR: ...``)."""
