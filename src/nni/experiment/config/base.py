"""``ConfigBase``: the mechanism shared by every config class.

A config class is a dataclass (made one automatically by subclassing) whose fields are
type-hinted and may carry a :class:`~.utils.internal.Check`. The life of a config:

1. construction (``Cls(**kwargs)``, ``Cls.load(file)``): keys matched case-insensitively and
   ignoring underscores, nested mappings turned into config objects, unknown names reported;
2. ``canonical_copy()``: a deep copy is canonicalised (defaults filled, paths made absolute,
   shortcuts copied down, ...) and validated; every problem is collected and raised at once
   as one :class:`~.errors.ConfigError`;
3. ``json()``: the canonical copy as a camelCase dict without None fields, what the manager
   receives and stores.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import typing
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError, UnknownFieldError
from .utils.internal import (
    MISSING,
    Problems,
    camel_case,
    closest_name,
    config_base_path,
    current_base_path,
    describe_hint,
    is_missing,
    is_path,
    is_path_hint,
    join_path,
    matches_hint,
    normalize_key,
    resolve_path,
    show,
)

__all__ = ['ConfigBase']

_Config = TypeVar('_Config', bound='ConfigBase')

_hints_cache: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()


def _field_hints(cls: type) -> dict[str, Any]:
    hints = _hints_cache.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except NameError:
            # a class defined where its annotations cannot be evaluated (names local to a
            # function): its fields are then unchecked rather than unusable
            hints = {field.name: Any for field in dataclasses.fields(cls)}
        _hints_cache[cls] = hints
    return hints


def _config_class_in(hint: Any) -> tuple[type[ConfigBase] | None, bool]:
    """The config class a field of this hint holds, and whether a list of them is allowed."""
    found: type[ConfigBase] | None = None
    allows_list = False
    stack = [hint]
    while stack:
        current = stack.pop()
        origin = typing.get_origin(current)
        if origin is list:
            for arg in typing.get_args(current):
                if isinstance(arg, type) and issubclass(arg, ConfigBase):
                    found = found or arg
                    allows_list = True
        elif origin is not None:
            stack.extend(typing.get_args(current))
        elif isinstance(current, type) and issubclass(current, ConfigBase):
            found = found or current
    return found, allows_list


def _json_value(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return value._to_json()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        # free-form mappings (searchSpace, classArgs) keep their keys and their None values
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


class ConfigBase:
    """Base class of every config class.

    Subclasses are turned into dataclasses automatically; declare fields with type hints.
    A field without a default is required: until assigned it holds ``MISSING``.

    Parameters
    ----------
    **kwargs
        Field values. Keys are matched ignoring case and underscores, so ``trial_command``,
        ``trialCommand`` and ``TRIALCOMMAND`` all set the same field. Nested mappings become
        the config class of the field (``tuner={'name': 'TPE'}``).

    Raises
    ------
    UnknownFieldError
        If a key (here or in a nested mapping) is not a field, or names an unknown platform.
        Every such name is reported, each with the closest valid field.
    """

    #: Words completing "must be ..." in messages about a field holding this class.
    _expect: str | None = None

    #: Keys of the legacy v1 YAML that users may still write here, normalised (lower case, no
    #: underscores) -> what replaced them (None: dropped in v2). Reported instead of a guess.
    _legacy_fields: dict[str, str | None] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # init: we match keys ourselves; eq/repr: ours know about MISSING and class families
        dataclasses.dataclass(cls, init=False, repr=False, eq=False)

    def __init__(self, **kwargs: Any) -> None:
        problems = Problems()
        self._init_fields(kwargs, current_base_path(), '', problems)
        problems.raise_if_any(UnknownFieldError)

    # -----------------------------------------------------------------------------------------
    # construction

    @classmethod
    def _field_list(cls) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(cls)  # type: ignore[arg-type]

    @classmethod
    def _field_names(cls) -> list[str]:
        return [field.name for field in cls._field_list()]

    def _init_fields(self, data: Mapping[Any, Any], base_path: Path | None, path: str, problems: Problems) -> None:
        """Fill every field from ``data`` (or its default); unknown keys become problems."""
        object.__setattr__(self, '_base_path', base_path)
        by_key = {normalize_key(field.name): field for field in self._field_list()}
        given: dict[str, Any] = {}
        for key, value in data.items():
            field = by_key.get(normalize_key(key)) if isinstance(key, str) else None
            if field is None:
                problems.add(join_path(path, key if isinstance(key, str) else show(key)), self._unknown_field_message(key))
            else:
                given[field.name] = value  # of two spellings of one field the last one wins, as in NNI
        for field in self._field_list():
            if field.name in given:
                value = given[field.name]
            elif field.default is not MISSING:
                value = field.default
            elif field.default_factory is not MISSING:
                value = field.default_factory()
            else:
                value = MISSING
            object.__setattr__(self, field.name, value)
        self._convert_nested(path, problems)

    @classmethod
    def _unknown_field_message(cls, key: Any) -> str:
        names = cls._field_names()
        if isinstance(key, str) and normalize_key(key) in cls._legacy_fields:
            replacement = cls._legacy_fields[normalize_key(key)]
            if replacement is None:
                return 'is a legacy (v1) field that is no longer supported; remove it'
            return f'is a legacy (v1) field, use {replacement} instead'
        if isinstance(key, str):
            suggestion = closest_name(key, names)
            if suggestion is not None:
                # answer in the user's spelling style: snake_case in Python, camelCase in YAML
                spelled = suggestion if '_' in key.strip('_') else camel_case(suggestion)
                return f'unknown field, did you mean {spelled}?'
        valid = ', '.join(camel_case(name) for name in names)
        return f'unknown field; valid fields of {cls.__name__} are: {valid}'

    @classmethod
    def _class_for(cls, data: Mapping[Any, Any], path: str, problems: Problems) -> type[ConfigBase] | None:
        """The class to build from ``data`` for a field hinted ``cls`` (None: keep the mapping).

        Overridden by base classes whose concrete class depends on the data, like training
        services (``platform``).
        """
        return cls

    @classmethod
    def _from_mapping(cls, data: Mapping[Any, Any], base_path: Path | None, path: str, problems: Problems) -> Any:
        target = cls._class_for(data, path, problems)
        if target is None:
            return data
        obj = target.__new__(target)
        obj._init_fields(data, base_path, path, problems)
        return obj

    def _convert_nested(self, path: str, problems: Problems) -> None:
        """Turn mappings held by config-typed fields into config objects."""
        hints = _field_hints(type(self))
        base_path = getattr(self, '_base_path', None)
        for field in self._field_list():
            target, allows_list = _config_class_in(hints[field.name])
            if target is None:
                continue
            value = getattr(self, field.name, MISSING)
            field_path = self._field_path(field.name, path)
            if isinstance(value, Mapping):
                object.__setattr__(self, field.name, target._from_mapping(value, base_path, field_path, problems))
            elif allows_list and isinstance(value, list):
                converted = [
                    target._from_mapping(item, base_path, f'{field_path}[{index}]', problems)
                    if isinstance(item, Mapping)
                    else item
                    for index, item in enumerate(value)
                ]
                object.__setattr__(self, field.name, converted)

    # -----------------------------------------------------------------------------------------
    # attribute access

    def __setattr__(self, name: str, value: Any) -> None:
        # private attributes are ours; anything else must be a field, to catch typos such as
        # `config.trial_comand = ...` that would otherwise be silently ignored
        if name.startswith('_') or name in self._field_names():
            object.__setattr__(self, name, value)
            return
        raise AttributeError(self._no_field_message(name))

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup failed; private names (copy/pickle protocols) fail plainly
        if name.startswith('_'):
            raise AttributeError(name)
        raise AttributeError(self._no_field_message(name))

    @classmethod
    def _no_field_message(cls, name: str) -> str:
        names = cls._field_names()
        suggestion = closest_name(name, names)
        if suggestion is not None:
            return f'{cls.__name__} does not have field {name}, did you mean {suggestion}?'
        return f'{cls.__name__} does not have field {name}; its fields are: {", ".join(names)}'

    # -----------------------------------------------------------------------------------------
    # comparison and display

    @classmethod
    def _equality_class(cls) -> type:
        """Classes with the same equality class compare by field values (see algorithm configs)."""
        return cls

    def _field_values(self) -> dict[str, Any]:
        values = {name: getattr(self, name, MISSING) for name in self._field_names()}
        return {name: MISSING if is_missing(value) else value for name, value in values.items()}

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigBase:
        # MISSING must stay the one sentinel object (deepcopy would clone it)
        memo.setdefault(id(MISSING), MISSING)
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            object.__setattr__(clone, name, copy.deepcopy(value, memo))
        return clone

    def __setstate__(self, state: dict[str, Any]) -> None:
        # unpickling: same as above, the sentinel comes back as a new object otherwise
        for name, value in state.items():
            object.__setattr__(self, name, MISSING if is_missing(value) else value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigBase):
            return NotImplemented
        if self._equality_class() is not other._equality_class():
            return False
        return self._field_values() == other._field_values()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = [
            f'{name}={value!r}' for name, value in self._field_values().items() if value is not None and not is_missing(value)
        ]
        return f'{type(self).__name__}({", ".join(shown)})'

    # -----------------------------------------------------------------------------------------
    # canonical form

    def canonical_copy(self: _Config) -> _Config:
        """Return a canonicalised and validated deep copy; this object is left unchanged.

        In the canonical form defaults are filled in, paths are absolute real paths, GPU index
        lists are lists of ints, shortcut fields are copied into training services (and so on,
        per class). This is the check every launch path runs, so it includes the checks NNI
        makes only at launch (search-space contents, algorithm names and class arguments).

        Returns
        -------
        ConfigBase
            The canonical copy, of the same class.

        Raises
        ------
        ConfigError
            Listing every problem of the config, one line each.
        """
        problems = Problems()
        canonical = self._checked_copy(problems)
        problems.raise_if_any()
        return canonical

    def _checked_copy(self: _Config, problems: Problems, launch_checks: bool = True) -> _Config:
        canonical = copy.deepcopy(self)
        # NNI's hook signature is ``_canonicalize(self, parents)``, which user subclasses override
        # and call with ``super()._canonicalize(parents)``; where we are and where problems go
        # travel as attributes of the object instead of extra arguments.
        object.__setattr__(canonical, '_config_path', '')
        object.__setattr__(canonical, '_canonical_problems', problems)
        object.__setattr__(canonical, '_launch_checks', launch_checks)
        canonical._canonicalize([])
        canonical._validate('', problems)
        return canonical

    def validate(self) -> None:
        """Check the config; raise :class:`ConfigError` listing every problem if it is not valid."""
        self.canonical_copy()

    def json(self) -> dict[str, Any]:
        """The canonical form as a JSON-compatible dict.

        Keys are camelCase, fields holding None are omitted (so None means "not set"), paths are
        strings, free-form mappings (``searchSpace``, ``classArgs``) are copied as they are.
        As in NNI, serialising does not check what only a launch checks (the contents of the
        search space, algorithm names and class arguments): :meth:`validate` does.

        Raises
        ------
        ConfigError
            If the config is not valid.
        """
        problems = Problems()
        canonical = self._checked_copy(problems, launch_checks=False)
        problems.raise_if_any()
        return canonical._to_json()

    def _to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in self._field_values().items():
            if value is None or is_missing(value):
                continue
            result[camel_case(name)] = _json_value(value)
        return result

    def _field_path(self, name: str, path: str) -> str:
        """Path of field ``name`` in messages (overridden where a value comes from elsewhere)."""
        return join_path(path, camel_case(name))

    def _canonicalize(self, parents: list[ConfigBase]) -> None:
        """Bring this object (in place) and its children into canonical form.

        NNI's signature: subclasses may override it and call ``super()._canonicalize(parents)``.
        ``parents`` lists the enclosing config objects, innermost first. Problems found here are
        recorded only when validation could not find them later; most values that cannot be
        canonicalised are left as they are for validation to report.
        """
        path: str = getattr(self, '_config_path', '')
        problems: Problems | None = getattr(self, '_canonical_problems', None)
        if problems is None:  # called directly, outside canonical_copy()
            problems = Problems()
        launch_checks: bool = getattr(self, '_launch_checks', True)
        self._convert_nested(path, problems)
        self._fill_defaults()
        self._prepare(parents, problems)
        self._resolve_paths()
        children_parents = [self, *parents]

        def visit(child: ConfigBase, child_path: str) -> None:
            object.__setattr__(child, '_config_path', child_path)
            object.__setattr__(child, '_canonical_problems', problems)
            object.__setattr__(child, '_launch_checks', launch_checks)
            child._canonicalize(children_parents)

        for name, value in self._field_values().items():
            field_path = self._field_path(name, path)
            if isinstance(value, ConfigBase):
                visit(value, field_path)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ConfigBase):
                        visit(item, f'{field_path}[{index}]')
        self._finish(parents, problems)

    def _fill_defaults(self) -> None:
        # None means "not set" (it is what json() omits), so a field with a real default gets it
        for field in self._field_list():
            if getattr(self, field.name, MISSING) is not None:
                continue
            if field.default is not MISSING and field.default is not None:
                object.__setattr__(self, field.name, field.default)
            elif field.default_factory is not MISSING:
                object.__setattr__(self, field.name, field.default_factory())

    def _resolve_paths(self) -> None:
        hints = _field_hints(type(self))
        base_path = getattr(self, '_base_path', None)
        for field in self._field_list():
            value = getattr(self, field.name, MISSING)
            if is_path_hint(hints[field.name]) and is_path(value):
                try:
                    object.__setattr__(self, field.name, resolve_path(value, base_path))
                except (OSError, ValueError):
                    pass  # left relative; the existence checks of validation report it

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        """Hook: class-specific canonicalisation before paths are resolved and children visited."""

    def _finish(self, parents: list[ConfigBase], problems: Problems) -> None:
        """Hook: class-specific canonicalisation after the children are canonical."""

    # -----------------------------------------------------------------------------------------
    # validation

    def _validate(self, path: str, problems: Problems) -> None:
        """Record every problem of this canonical object and its children."""
        hints = _field_hints(type(self))
        for field in self._field_list():
            field_path = self._field_path(field.name, path)
            value = getattr(self, field.name, MISSING)
            if not problems.has(field_path):  # else already reported (unknown key inside, bad platform, ...)
                self._validate_field(field, hints[field.name], value, field_path, problems)
            # A problem deeper down (an unknown key in a machine, a bad item of a list) must not
            # hide the problems of the rest; an object with a problem of its own is left alone.
            if isinstance(value, ConfigBase):
                if not problems.blocks(field_path):
                    value._validate(field_path, problems)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    item_path = f'{field_path}[{index}]'
                    if isinstance(item, ConfigBase) and not problems.blocks(item_path):
                        item._validate(item_path, problems)
        self._validate_extra(path, problems)
        if not problems.blocks(path):
            try:
                self._validate_canonical()
            except (ValueError, TypeError, AssertionError) as error:
                # NNI's hook raises on the first problem; it joins the others here
                problems.add(path or type(self).__name__, str(error) or type(error).__name__)

    def _validate_canonical(self) -> None:
        """Hook of NNI's signature: raise ``ValueError`` if this canonical object is not valid.

        Subclasses written for NNI override it (calling ``super()._validate_canonical()``); the
        message becomes one line of the :class:`ConfigError`, next to every other problem.
        """

    @staticmethod
    def _validate_field(field: dataclasses.Field[Any], hint: Any, value: Any, path: str, problems: Problems) -> None:
        check = field.metadata.get('check')
        if check is not None:
            optional, expect = check.optional, check.expect
        else:
            optional, expect = matches_hint(None, hint), describe_hint(hint)
        if is_missing(value) or (value is None and not optional):
            problems.add(path, f'not set, must be {expect}')
        elif value is None:
            return
        elif check is not None:
            check.run(value, path, problems)
        elif not matches_hint(value, hint):
            problems.add(path, f'must be {expect}, got {show(value)}')

    def _validate_extra(self, path: str, problems: Problems) -> None:
        """Hook: checks involving several fields, run after the per-field checks."""

    # -----------------------------------------------------------------------------------------
    # files

    @classmethod
    def load(cls: type[_Config], path: str | os.PathLike[str]) -> _Config:
        """Load a config from a YAML or JSON file.

        Relative paths in the file are relative to the file's folder. Missing or invalid
        values are not checked here (a loaded config may be completed in Python first); call
        :meth:`validate` for that.

        Parameters
        ----------
        path
            The file; read as UTF-8 with a safe YAML loader, so JSON works as well.

        Returns
        -------
        ConfigBase
            An instance of the class this was called on.

        Raises
        ------
        UnknownFieldError
            If the file names unknown fields or platforms. The message then also lists every
            other problem found by validating the rest of the file, to fix them in one go.
        ConfigError
            If the file is not valid YAML.
        TypeError
            If the file does not hold a mapping.
        """
        file_path, data = cls._read_file(path)
        return cls._from_file_data(data, file_path.parent)

    @staticmethod
    def _read_file(path: str | os.PathLike[str]) -> tuple[Path, dict[Any, Any]]:
        """The absolute path of a config file and the mapping it holds."""
        import yaml  # here, not at the top: the manager checks configs without reading files

        file_path = Path(os.path.abspath(os.fspath(path)))
        text = file_path.read_text(encoding='utf-8')
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError([(str(file_path), f'is not valid YAML or JSON: {error}')]) from None
        if not isinstance(data, dict):
            raise TypeError(f'Content of config file {file_path} is not a dict/object')
        return file_path, data

    @classmethod
    def _from_file_data(cls: type[_Config], data: Mapping[Any, Any], folder: Path) -> _Config:
        """Build from a file's mapping; unknown names raise, with every other problem listed too."""
        problems = Problems()
        with config_base_path(folder):
            config = cls.__new__(cls)
            config._init_fields(data, folder, '', problems)
        if problems:
            config._checked_copy(problems)
            problems.raise_if_any(UnknownFieldError)
        return config
