"""Tuner, assessor and advisor configs.

YAML and dicts produce the common base ``_AlgorithmConfig`` (either kind fits there);
``AlgorithmConfig`` and ``CustomAlgorithmConfig`` are the Python-side spellings of a built-in
and a custom algorithm. All three compare equal when their fields are equal.
"""

from __future__ import annotations

import os
from typing import Any

from .base import ConfigBase
from .utils.internal import Problems, checked, is_non_empty_str, is_path, is_str_key_dict, join_path, show
from .utils.public import PathLike

__all__ = ['AlgorithmConfig', 'CustomAlgorithmConfig']

#: Name of the placeholder algorithm created by template mode (``ExperimentConfig('local')``).
PLACEHOLDER_NAME = '_none_'

# Keys of the legacy v1 algorithm sections and what replaced them.
_V1_FIELDS: dict[str, str | None] = {
    'builtintunername': 'name',
    'builtinassessorname': 'name',
    'builtinadvisorname': 'name',
    'codedir': 'codeDirectory',
    'classfilename': 'className (module.Class)',
}

_NAME = 'a built-in algorithm name such as TPE'
_CLASS_NAME = 'a class name such as my_module.MyTuner'
_CODE_DIRECTORY = 'a path to the directory holding the algorithm module'
_CLASS_ARGS = 'a mapping of constructor argument names to values'


class _AlgorithmConfig(ConfigBase):
    """Common base of algorithm configs: either ``name`` (built-in) or ``class_name`` (custom).

    Parameters
    ----------
    name
        Name of a built-in algorithm (``'TPE'``, ``'Random'``, ...), looked up case-insensitively.
    class_name
        Qualified name ``module.Class`` of a custom algorithm class.
    code_directory
        Directory added to the import path for ``class_name``; defaults to the config's folder
        for custom algorithms. Resolved to an absolute path.
    class_args
        Keyword arguments of the algorithm's constructor; keys are never renamed.
    """

    _expect = 'an algorithm config such as {name: TPE} or {className: my_module.MyTuner}'

    name: str | None = checked(_NAME, is_non_empty_str, default=None)
    class_name: str | None = checked(_CLASS_NAME, is_non_empty_str, default=None)
    code_directory: PathLike | None = checked(_CODE_DIRECTORY, is_path, default=None)
    class_args: dict[str, Any] | None = checked(_CLASS_ARGS, is_str_key_dict, default=None)

    _legacy_fields = _V1_FIELDS

    @classmethod
    def _equality_class(cls) -> type:
        return _AlgorithmConfig

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        # A custom class without codeDirectory is looked up from the config's folder (NNI
        # required the key and failed on a bare assert without it).
        if self.class_name is not None and self.code_directory is None:
            self.code_directory = '.'

    def _validate_extra(self, path: str, problems: Problems) -> None:
        name_path = join_path(path, 'name')
        class_path = join_path(path, 'className')
        directory_path = join_path(path, 'codeDirectory')
        if problems.has(name_path) or problems.has(class_path) or problems.has(directory_path):
            return
        if self.name == PLACEHOLDER_NAME:
            problems.add(name_path, f'not set, must be {_NAME} (or set className for a custom algorithm); got only classArgs')
        elif self.name is None and self.class_name is None:
            problems.add(name_path, f'not set, must be {_NAME} (or set className for a custom algorithm)')
        elif self.name is not None and self.class_name is not None:
            problems.add(
                class_path,
                f'cannot be set together with name (a built-in algorithm), got name={show(self.name)} '
                f'and className={show(self.class_name)}; keep only one',
            )
        elif self.name is not None and self.code_directory is not None:
            problems.add(
                directory_path,
                f'is only used with className (a custom algorithm), got {show(self.code_directory)} '
                f'with name={show(self.name)}; remove it',
            )
        elif isinstance(self.code_directory, str) and not os.path.isdir(self.code_directory):
            problems.add(directory_path, f'must be an existing directory, got {show(self.code_directory)}')


class AlgorithmConfig(_AlgorithmConfig):
    """A built-in tuner, assessor or advisor.

    Parameters
    ----------
    name
        Name of the built-in algorithm, e.g. ``'TPE'`` (required).
    class_args
        Keyword arguments of its constructor, e.g. ``{'optimize_mode': 'maximize'}``.

    Examples
    --------
    >>> AlgorithmConfig(name='TPE', class_args={'optimize_mode': 'maximize'}).json()
    {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}}
    """

    name: str = checked(_NAME, is_non_empty_str)
    class_args: dict[str, Any] | None = checked(_CLASS_ARGS, is_str_key_dict, default=None)


class CustomAlgorithmConfig(_AlgorithmConfig):
    """A tuner, assessor or advisor class written by the user.

    Parameters
    ----------
    class_name
        Qualified class name ``module.Class`` (required).
    code_directory
        Directory holding ``module``, added to the import path; default ``'.'`` (relative to
        the config file, or to the current directory for configs built in Python).
    class_args
        Keyword arguments of its constructor.
    """

    class_name: str = checked(_CLASS_NAME, is_non_empty_str)
    code_directory: PathLike | None = checked(_CODE_DIRECTORY, is_path, default='.')
    class_args: dict[str, Any] | None = checked(_CLASS_ARGS, is_str_key_dict, default=None)
