"""A process's start time, which with its pid names it across pid reuse.

Shared by the manager (``supervisor_client``) and the trial supervisor (``supervisor_process``), which
runs as a script under ``python -S``: standard library only, and no import of the ``nni`` package.
"""

from __future__ import annotations


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22); ``None`` if gone."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as stat:
            fields = stat.read().rsplit(b')', 1)[1].split()
    except OSError:
        return None
    if fields[0] == b'Z':
        return None
    return int(fields[19])
