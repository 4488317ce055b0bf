"""JSON for the trial's hot path without importing :mod:`json`.

Importing :mod:`json` pulls in :mod:`re` and :mod:`enum`: about 9 ms of CPU per trial process,
more than half of what a bare ``python -c pass`` costs, for a trial that only reads one small
parameter record and sends a few numbers. CPython's C accelerator :mod:`_json` (which :mod:`json`
uses underneath) needs none of that, so the few values a trial exchanges with the manager are
encoded and decoded with it directly. Output is byte-for-byte what ``json.dumps`` writes with its
defaults (``ensure_ascii``, ``", "`` and ``": "`` separators, ``NaN``/``Infinity`` tokens);
anything unusual (non-string keys, subclasses, other types, malformed text) goes to :mod:`json`
itself, so behaviour never differs, only the cost of the common case.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a trial ~4 ms to import
    from typing import Any

try:
    import _json as _accelerator
except ImportError:  # another Python implementation: plain json is used throughout
    _accelerator = None


class _NotPlain(Exception):
    """The value holds something the lean encoder leaves to :mod:`json`."""


_CONSTANTS = {'NaN': float('nan'), 'Infinity': float('inf'), '-Infinity': float('-inf')}


def _float_text(value: float) -> str:
    if value != value:
        return 'NaN'
    if value == _CONSTANTS['Infinity']:
        return 'Infinity'
    if value == _CONSTANTS['-Infinity']:
        return '-Infinity'
    return float.__repr__(value)


def _encode(value: Any, out: list[str], quote: Any) -> None:
    kind = type(value)
    if kind is str:
        out.append(quote(value))
    elif kind is float:
        out.append(_float_text(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif value is None:
        out.append('null')
    elif value is True:
        out.append('true')
    elif value is False:
        out.append('false')
    elif kind is dict:
        out.append('{')
        first = True
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            if not first:
                out.append(', ')
            first = False
            out.append(quote(key))
            out.append(': ')
            _encode(item, out, quote)
        out.append('}')
    elif kind is list or kind is tuple:
        out.append('[')
        for index, item in enumerate(value):
            if index:
                out.append(', ')
            _encode(item, out, quote)
        out.append(']')
    else:
        raise _NotPlain


def dumps(value: Any) -> str:
    """``json.dumps(value, allow_nan=True)``, without importing :mod:`json` for plain values."""
    if _accelerator is not None:
        out: list[str] = []
        try:
            _encode(value, out, _accelerator.encode_basestring_ascii)
            return ''.join(out)
        except (_NotPlain, RecursionError):
            pass
    import json

    return json.dumps(value, allow_nan=True)


class _ScannerContext:
    # the attributes _json.make_scanner reads from a json.JSONDecoder
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_CONSTANTS.__getitem__)
    memo: dict[str, str] = {}


_scan = None


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``, without importing :mod:`json` for well-formed text."""
    global _scan
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode('utf-8')
    if _accelerator is not None:
        stripped = text.strip(' \t\n\r')
        if stripped:
            try:
                if _scan is None:
                    _scan = _accelerator.make_scanner(_ScannerContext())
                value, end = _scan(stripped, 0)
                if end == len(stripped):
                    return value
            except Exception:  # noqa: BLE001 - json below raises the proper error for bad text
                pass
    import json

    return json.loads(text)


__all__ = ['dumps', 'loads']
