"""
What ``nnictl`` prints: NNI's message prefixes, its JSON style, time formats, colours and tables.

Everything goes to **stdout**, as in NNI (scripts capture it there). Colours and boxed tables are used only
when stdout is a terminal (or ``FORCE_COLOR`` is set); ``NO_COLOR`` turns colours off. Piped output is plain
text in NNI's exact shapes, so scripts written against NNI keep parsing it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = [
    'colored',
    'error',
    'format_ms',
    'format_slash_ms',
    'info',
    'nni_json',
    'plain_json',
    'rich_output',
    'success',
    'table',
    'use_color',
    'warning',
]

_COLORS = {'red': '31', 'green': '32', 'yellow': '33', 'blue': '34', 'magenta': '35', 'cyan': '36', 'bold': '1',
           'dim': '2'}

#: Colour of each experiment / trial status in rich output.
STATUS_COLORS = {
    'RUNNING': 'cyan', 'WAITING': 'dim', 'INITIALIZED': 'dim', 'SUCCEEDED': 'green', 'DONE': 'green',
    'FAILED': 'red', 'ERROR': 'red', 'SYS_CANCELED': 'red', 'USER_CANCELED': 'yellow', 'EARLY_STOPPED': 'yellow',
    'STOPPED': 'dim', 'STOPPING': 'yellow', 'VIEWED': 'magenta', 'NO_MORE_TRIAL': 'green',
    'TUNER_NO_MORE_TRIAL': 'green',
}


def _env_flag(name: str) -> bool:
    value = os.environ.get(name)
    return value is not None and value not in ('', '0')


def rich_output() -> bool:
    """Whether stdout is a terminal (or ``FORCE_COLOR`` asks to pretend it is)."""
    if _env_flag('FORCE_COLOR'):
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def use_color() -> bool:
    """Whether to emit ANSI colours: rich output and no ``NO_COLOR``."""
    return rich_output() and not _env_flag('NO_COLOR')


def colored(text: str, color: str | None) -> str:
    """``text`` in ``color`` (a key of the colour table) when colours are on, else unchanged."""
    if not color or not use_color():
        return text
    return f'\x1b[{_COLORS[color]}m{text}\x1b[0m'


def info(text: str) -> None:
    """NNI's ``INFO:  <text>`` (two spaces: NNI prints ``'INFO: '`` and the text as two arguments)."""
    print('INFO: ', text, flush=True)


def error(text: str) -> None:
    """NNI's ``ERROR: <text>``, red on a terminal; one line per line of ``text``."""
    for line in str(text).splitlines() or ['']:
        print(colored(f'ERROR: {line}', 'red'), flush=True)


def warning(text: str) -> None:
    """NNI's ``WARNING: <text>``, yellow on a terminal."""
    print(colored(f'WARNING: {text}', 'yellow'), flush=True)


def success(text: str) -> None:
    """A plain line, green on a terminal (NNI's ``print_green``)."""
    print(colored(text, 'green'), flush=True)


def nni_json(data: Any) -> str:
    """NNI's JSON style for ``trial ls`` / ``experiment show`` / ``status``: indent 4, keys sorted, no space after ``:``."""
    return json.dumps(data, indent=4, sort_keys=True, separators=(',', ':'))


def plain_json(data: Any) -> str:
    """The standard JSON of ``--json`` outputs: indent 2, ordinary separators, keys in their natural order."""
    return json.dumps(data, indent=2)


def format_ms(value: Any) -> str:
    """An epoch-milliseconds value as local ``YYYY-MM-DD HH:MM:SS``; anything else (``'N/A'``) as is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(value / 1000))


def format_slash_ms(value: Any) -> Any:
    """An epoch-milliseconds value as local ``YYYY/MM/DD HH:MM:SS`` (``trial ls``, ``top``); others unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return time.strftime('%Y/%m/%d %H:%M:%S', time.localtime(value / 1000))


def format_duration(seconds: float | None) -> str:
    """
    ``1d 2h 3m 4s`` style; tenths of a second under a minute (``0d 0h 0m 0.4s``, not ``0s``); ``N/A`` for
    ``None``.
    """
    if seconds is None:
        return 'N/A'
    seconds = max(float(seconds), 0.0)
    if round(seconds, 1) < 60:
        return f'0d 0h 0m {seconds:.1f}s'
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{days}d {hours}h {minutes}m {secs}s'


def format_metric(value: Any) -> str:
    """A metric for tables: 6 significant digits for floats, ``N/A`` for ``None``."""
    if value is None:
        return 'N/A'
    if isinstance(value, float):
        return f'{value:.6g}'
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], colors: Sequence[str | None] | None = None) -> str:
    """
    A box-drawn table for terminals.

    Parameters
    ----------
    headers
        Column titles.
    rows
        Cell texts (already formatted).
    colors
        Per row, a colour for the whole row's status cell; ``None`` entries leave the row uncoloured.
        The status cell is the column titled ``Status``, when there is one.

    Returns
    -------
    str
        The table, without a trailing newline.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    status_col = headers.index('Status') if 'Status' in headers else -1

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join('─' * (w + 2) for w in widths) + right

    def render(cells: Sequence[str], color: str | None, bold: bool = False) -> str:
        parts = []
        for index, cell in enumerate(cells):
            text = f' {cell.ljust(widths[index])} '
            if bold:
                text = colored(text, 'bold')
            elif index == status_col and color:
                text = colored(text, color)
            parts.append(text)
        return '│' + '│'.join(parts) + '│'

    out = [line('┌', '┬', '┐'), render(headers, None, bold=True), line('├', '┼', '┤')]
    for row_index, row in enumerate(rows):
        out.append(render(row, colors[row_index] if colors else None))
    out.append(line('└', '┴', '┘'))
    return '\n'.join(out)
