"""``nni.dump`` / ``nni.load``: JSON helpers for parameters, metrics and user data.

NNI builds these on json_tricks; here they are plain :mod:`json` with the conversions trial code
needs (NumPy scalars and arrays, tuples, sets) and NaN/Infinity allowed, so that loading them costs
nothing beyond the standard library.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, TypeVar

    _T = TypeVar('_T')

__all__ = ['dump', 'load', 'trace']

# json_tricks options that NNI's signatures accept; they have no meaning for plain JSON.
_IGNORED_OPTIONS = frozenset(
    {'use_trace', 'pickle_size_limit', 'preserve_order', 'ignore_comments', 'primitives', 'compression'}
)


def _default(obj: Any) -> Any:
    """Fallback encoder for objects :mod:`json` does not know."""
    cls = type(obj)
    if cls.__module__ == 'numpy' and cls.__name__ in ('bool', 'bool_'):
        return bool(obj)
    if getattr(cls, '__index__', None) is not None:
        try:
            return int(cls.__index__(obj))
        except TypeError:
            pass
    tolist = getattr(obj, 'tolist', None)
    if callable(tolist):
        return tolist()
    if getattr(cls, '__float__', None) is not None and not isinstance(obj, complex):
        return float(obj)
    if isinstance(obj, (set, frozenset)):
        try:
            return sorted(obj)
        except TypeError:
            return list(obj)
    import os

    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f'nni.dump cannot encode {cls.__module__}.{cls.__qualname__} object {obj!r:.80}')


def dump(obj: Any, fp: IO[str] | None = None, *, allow_nan: bool = True, **kwargs: Any) -> str | None:
    """Serialize ``obj`` to JSON.

    Parameters
    ----------
    obj
        The object. Besides plain JSON types, NumPy scalars and arrays, tuples, sets and paths are
        converted to their JSON counterparts.
    fp
        A text file to write to. When given, nothing is returned.
    allow_nan
        Write ``NaN`` / ``Infinity`` tokens for non-finite floats (NNI's default).
    **kwargs
        Passed to :func:`json.dumps` (``indent``, ``sort_keys``, ...). json_tricks-only options that
        NNI accepts (``use_trace``, ``pickle_size_limit``, ...) are ignored.

    Returns
    -------
    str or None
        The JSON text, or ``None`` when written to ``fp``.
    """
    import json

    for name in _IGNORED_OPTIONS.intersection(kwargs):
        del kwargs[name]
    kwargs.setdefault('default', _default)
    text = json.dumps(obj, allow_nan=allow_nan, **kwargs)
    if fp is None:
        return text
    fp.write(text)
    return None


def load(string: str | bytes | None = None, *, fp: IO[str] | None = None, **kwargs: Any) -> Any:
    """Deserialize JSON text produced by :func:`dump` (or any JSON).

    Parameters
    ----------
    string
        The JSON text. Exactly one of ``string`` and ``fp`` must be given.
    fp
        A text file to read from.
    **kwargs
        Passed to :func:`json.loads`; json_tricks-only options are ignored.

    Returns
    -------
    Any
        The decoded object.
    """
    if (string is None) == (fp is None):
        raise ValueError('nni.load needs exactly one of `string` and `fp`')
    for name in _IGNORED_OPTIONS.intersection(kwargs):
        del kwargs[name]
    if fp is not None:
        string = fp.read()
    if not kwargs:
        # the trial's parameter record: read without importing json (see nni.runtime.lean_json)
        from nni.runtime.lean_json import loads

        return loads(string)
    import json

    return json.loads(string, **kwargs)


def trace(cls_or_func: _T | None = None, *, kw_only: bool = True, inheritable: bool = False) -> Any:
    """Accept NNI's ``@nni.trace`` decorator and return the class or function unchanged.

    NNI records constructor arguments so that objects can be re-created for neural architecture
    search; hyper-parameter optimization never needs that, so tracing is a no-op here.

    Parameters
    ----------
    cls_or_func
        The decorated class or function; omitted when used as ``@nni.trace(...)``.
    kw_only, inheritable
        Accepted for compatibility; ignored.

    Returns
    -------
    Any
        ``cls_or_func`` itself, or a decorator returning its argument.
    """
    if cls_or_func is None:
        def decorator(obj: _T) -> _T:
            return obj

        return decorator
    return cls_or_func

