"""Machinery shared by the config classes; not part of NNI's public API.

* field names: normalised matching and camelCase output;
* :class:`Problems`: the collector behind "report every error at once";
* :class:`Check` and friends: per-field rules that produce the messages;
* runtime type matching and description of type hints (used where a field has no rule);
* path resolution, GPU index lists, and the base path used while loading a file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from ..errors import ConfigError
from .public import parse_memory_size

__all__ = [
    'MISSING',
    'MEMORY_SIZE',
    'Check',
    'ConfigListCheck',
    'GpuIndicesCheck',
    'Problems',
    'camel_case',
    'canonical_gpu_indices',
    'canonical_memory_size',
    'checked',
    'closest_name',
    'config_base_path',
    'current_base_path',
    'describe_hint',
    'is_memory_size',
    'is_missing',
    'is_path_hint',
    'is_port',
    'join_path',
    'matches_hint',
    'normalize_key',
    'resolve_path',
    'show',
]

#: "Never assigned": the value of a required field that has not been set.
MISSING: Any = dataclasses.MISSING


def is_missing(value: Any) -> bool:
    """Whether ``value`` is MISSING, also after a copy or pickle made a new sentinel object."""
    return isinstance(value, type(MISSING))

_NoneType = type(None)

# ---------------------------------------------------------------------------------------------
# Names


def normalize_key(key: str) -> str:
    """Key used to match constructor arguments with fields: lower case, no underscores."""
    return key.lower().replace('_', '')


def camel_case(name: str) -> str:
    """``max_trial_number_per_gpu`` -> ``maxTrialNumberPerGpu`` (the spelling of YAML and JSON)."""
    words = name.strip('_').split('_')
    return words[0] + ''.join(word.title() for word in words[1:])


def closest_name(key: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``key`` after normalisation, or None if nothing is close."""
    by_normal = {normalize_key(candidate): candidate for candidate in candidates}
    found = difflib.get_close_matches(normalize_key(key), list(by_normal), n=1, cutoff=0.6)
    return by_normal[found[0]] if found else None


def join_path(prefix: str, name: str) -> str:
    """Path of a field below ``prefix`` (``''`` is the root)."""
    return f'{prefix}.{name}' if prefix else name


def show(value: Any, limit: int = 80) -> str:
    """Short ``repr`` of a user value for an error message."""
    if isinstance(value, Path):
        value = str(value)
    try:
        text = repr(value)
    except Exception as error:  # a user object with a broken __repr__ must not hide the real error
        text = f'<{type(value).__name__} object, repr failed: {error!r}>'
    return text if len(text) <= limit else text[: limit - 3] + '...'


# ---------------------------------------------------------------------------------------------
# Problems


class Problems:
    """Collects ``(path, message)`` pairs so that every problem of a config is reported at once."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        """Record one problem; an identical one (same path, same text) is recorded once only."""
        if (path, message) not in self.items:
            self.items.append((path, message))

    def has(self, path: str) -> bool:
        """Whether a problem was recorded at ``path`` or anywhere below it."""
        return any(
            recorded == path or recorded.startswith(path + '.') or recorded.startswith(path + '[')
            for recorded, _ in self.items
        )

    def blocks(self, path: str) -> bool:
        """Whether a problem was recorded at ``path`` or at a key directly below it.

        Such an object is not validated further: its own fields would only repeat the problem
        (``hots: unknown field`` would be followed by ``host: not set``).
        """
        for recorded, _ in self.items:
            if recorded == path:
                return True
            if recorded.startswith(path + '.'):
                rest = recorded[len(path) + 1 :]
                if '.' not in rest and '[' not in rest:
                    return True
        return False

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self, error_class: type[ConfigError] = ConfigError) -> None:
        """Raise ``error_class`` listing every recorded problem, if there is any."""
        if self.items:
            raise error_class(self.items)


# ---------------------------------------------------------------------------------------------
# Field rules


class Check:
    """The validation rule of one field.

    ``expect`` completes the sentence "must be ..." in messages; ``test`` says whether a set
    (non-None) value is acceptable. ``optional`` says whether None (unset) is acceptable.
    """

    def __init__(self, expect: str, test: Callable[[Any], bool], optional: bool = True) -> None:
        self.expect = expect
        self.test = test
        self.optional = optional

    def run(self, value: Any, path: str, problems: Problems) -> None:
        """Record a problem at ``path`` if the (non-None) ``value`` breaks the rule."""
        try:
            ok = bool(self.test(value))
        except Exception:  # a test that cannot even look at the value means the value is wrong
            ok = False
        if not ok:
            problems.add(path, f'must be {self.expect}, got {show(value)}')


class GpuIndicesCheck(Check):
    """Rule of GPU index lists; reports each bad item at its own index (``gpuIndices[1]``)."""

    def __init__(self) -> None:
        super().__init__(
            'a list of GPU indices, an integer or a comma-separated string such as "0,1"',
            lambda value: isinstance(value, list),
        )

    def run(self, value: Any, path: str, problems: Problems) -> None:
        if not isinstance(value, list):
            problems.add(path, f'must be {self.expect}, got {show(value)}')
            return
        seen: set[int] = set()
        for index, item in enumerate(value):
            item_path = f'{path}[{index}]'
            if not is_int(item) or item < 0:
                problems.add(item_path, f'must be a non-negative integer (a GPU index), got {show(item)}')
            elif item in seen:
                problems.add(item_path, f'duplicate GPU index {item}, each GPU may be listed once; got {show(value)}')
            else:
                seen.add(item)


class ConfigListCheck(Check):
    """Rule of a non-empty list of config objects; each bad item is reported at its own index."""

    def __init__(self, expect: str, item_expect: str, item_test: Callable[[Any], bool]) -> None:
        super().__init__(expect, lambda value: isinstance(value, list) and bool(value), optional=False)
        self.item_expect = item_expect
        self.item_test = item_test

    def run(self, value: Any, path: str, problems: Problems) -> None:
        if not isinstance(value, list) or not value:
            problems.add(path, f'must be {self.expect}, got {show(value)}')
            return
        for index, item in enumerate(value):
            if not self.item_test(item):
                problems.add(f'{path}[{index}]', f'must be {self.item_expect}, got {show(item)}')


def checked(
    expect: str,
    test: Callable[[Any], bool],
    *,
    default: Any = MISSING,
    optional: bool | None = None,
) -> Any:
    """A dataclass field carrying a :class:`Check`.

    Without ``default`` the field is required. ``optional`` (whether None is accepted) defaults
    to "the default is None".
    """
    if optional is None:
        optional = default is None
    return dataclasses.field(default=default, metadata={'check': Check(expect, test, optional)})


def is_int(value: Any) -> bool:
    """An ``int`` that is not a ``bool`` (YAML ``true`` is never a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_positive_int(value: Any) -> bool:
    return is_int(value) and value > 0


def is_non_negative_int(value: Any) -> bool:
    return is_int(value) and value >= 0


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def is_non_empty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ''


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_path(value: Any) -> bool:
    """A ``str`` or ``Path`` that the OS could accept (no NUL character)."""
    return isinstance(value, (str, Path)) and '\0' not in str(value)


def is_str_key_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(key, str) for key in value)


#: Completes "must be ..." for memory sizes (kept verbatim; the manager converts them).
MEMORY_SIZE = "a memory size: megabytes as an integer, or a number with unit tb, gb, mb, kb or b such as '8gb'"


def is_memory_size(value: Any) -> bool:
    """A positive int (megabytes) or a string :func:`~.public.parse_memory_size` reads as positive."""
    if is_int(value):
        return value > 0
    if isinstance(value, str):
        try:
            return parse_memory_size(value) > 0
        except ValueError:
            return False
    return False


_SHORT_SIZE_UNIT = re.compile(r'\s*[0-9.]+\s*[tgmk]\s*', re.IGNORECASE)


def canonical_memory_size(value: Any) -> Any:
    """``'4g'`` -> ``'4gb'``: the one-letter units of NNI's Kubernetes guides, in the spelling
    :func:`~.public.parse_memory_size` (and the manager) reads; anything else unchanged."""
    if isinstance(value, str) and _SHORT_SIZE_UNIT.fullmatch(value):
        return value.strip() + 'b'
    return value


def is_port(value: Any) -> bool:
    """A TCP port number a server can listen on (1 to 65535)."""
    return is_int(value) and 0 < value < 65536


# ---------------------------------------------------------------------------------------------
# Type hints (for fields without a Check, and to find nested config classes)


def _union_args(hint: Any) -> tuple[Any, ...] | None:
    if get_origin(hint) in (Union, types.UnionType):
        return get_args(hint)
    return None


def matches_hint(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the type hint (the subset of typing used by config classes)."""
    if hint is Any:
        return True
    if hint is None or hint is _NoneType:
        return value is None
    union = _union_args(hint)
    if union is not None:
        return any(matches_hint(value, arg) for arg in union)
    origin = get_origin(hint)
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in get_args(hint))
    if origin is list:
        args = get_args(hint)
        return isinstance(value, list) and all(matches_hint(item, args[0]) for item in value if args)
    if origin is dict:
        args = get_args(hint)
        if not isinstance(value, dict):
            return False
        return not args or all(matches_hint(k, args[0]) and matches_hint(v, args[1]) for k, v in value.items())
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return is_int(value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a construct this checker does not know: do not reject on its account


_SIMPLE_NAMES = {str: 'a string', int: 'an integer', float: 'a number', bool: 'true or false', Path: 'a path'}


def _join_alternatives(parts: list[str]) -> str:
    if len(parts) <= 1:
        return ''.join(parts)
    return ', '.join(parts[:-1]) + ' or ' + parts[-1]


def describe_hint(hint: Any) -> str:
    """Plain-words description of a type hint, to complete "must be ..."."""
    if hint is Any:
        return 'any value'
    if hint is None or hint is _NoneType:
        return 'null'
    union = _union_args(hint)
    if union is not None:
        members = [arg for arg in union if arg is not _NoneType]
        if Path in members and str in members:  # PathLike
            members = [arg for arg in members if arg is not str]
        parts = [describe_hint(arg) for arg in members]
        if _NoneType in union:
            parts.append('null')
        return _join_alternatives(parts)
    origin = get_origin(hint)
    if origin is Literal:
        return 'one of ' + ', '.join(repr(arg) for arg in get_args(hint))
    if origin is list:
        args = get_args(hint)
        return f'a list whose items are {describe_hint(args[0])}' if args else 'a list'
    if origin is dict or hint is dict:
        return 'a mapping'
    if hint in _SIMPLE_NAMES:
        return _SIMPLE_NAMES[hint]
    expect = getattr(hint, '_expect', None)
    if isinstance(expect, str):
        return expect
    return f'a {getattr(hint, "__name__", str(hint))}'


def is_path_hint(hint: Any) -> bool:
    """Whether a field of this hint holds a path (accepts ``Path``), like ``PathLike | None``."""
    if hint is Path:
        return True
    union = _union_args(hint)
    return union is not None and Path in union


# ---------------------------------------------------------------------------------------------
# Paths and GPU indices


_base_path: ContextVar[Path | None] = ContextVar('nni_experiment_config_base_path', default=None)


@contextmanager
def config_base_path(path: str | os.PathLike[str]) -> Iterator[None]:
    """Make configs constructed inside the block resolve relative paths against ``path``.

    ``load()`` uses it for the file's folder; so will the v1 converter. A context variable (and
    not a global left set on error, as NNI had) so a failing construction cannot leak it.
    """
    token = _base_path.set(Path(path))
    try:
        yield
    finally:
        _base_path.reset(token)


def current_base_path() -> Path | None:
    """The base path set by :func:`config_base_path`, or None (then the cwd is used)."""
    return _base_path.get()


def resolve_path(value: str | os.PathLike[str], base: Path | None) -> str:
    """Absolute real path of ``value``: ``~`` expanded, relative paths joined to ``base``.

    ``base`` None means the current directory at the time of the call (NNI resolves relative
    paths of Python-built configs when the config is canonicalised, not when it is built).
    """
    text = os.path.expanduser(os.fspath(value))
    if not os.path.isabs(text):
        text = os.path.join(os.fspath(base) if base is not None else os.getcwd(), text)
    return os.path.realpath(text)


def canonical_gpu_indices(value: Any) -> Any:
    """``'0,1'`` -> ``[0, 1]``, ``3`` -> ``[3]``; lists and None unchanged.

    Raises ValueError for a string with a piece that is not an integer.
    """
    if isinstance(value, str):
        return [int(piece) for piece in value.split(',')]
    if is_int(value):
        return [value]
    return value
