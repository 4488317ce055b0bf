"""``ExperimentConfig``: the top level of an experiment's configuration (the v2 YAML)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

from .algorithm import PLACEHOLDER_NAME, _AlgorithmConfig
from .base import ConfigBase
from .errors import ConfigError, UnknownFieldError
from .shared_storage import SharedStorageConfig
from .training_service import (
    TrainingServiceConfig,
    known_platforms,
    training_service_config_class,
    unknown_platform_message,
)
from .utils.internal import (
    Check,
    GpuIndicesCheck,
    Problems,
    camel_case,
    canonical_gpu_indices,
    checked,
    config_base_path,
    current_base_path,
    is_bool,
    is_int,
    is_missing,
    is_non_empty_str,
    is_non_negative_int,
    is_path,
    is_positive_int,
    is_str,
    join_path,
    normalize_key,
    show,
)
from .utils.public import PathLike, parse_time

__all__ = ['ExperimentConfig']

_logger = logging.getLogger(__name__)

_Experiment = TypeVar('_Experiment', bound='ExperimentConfig')

_V1_MESSAGE = (
    'is a key of the legacy v1 config format; load the file with ExperimentConfig.load(path) (it converts v1 '
    'files) or convert the mapping with nni.experiment.config.convert.to_v2(config)'
)

LOG_LEVELS = ('fatal', 'error', 'warning', 'info', 'debug', 'trace')

_DURATION = "a positive duration: seconds as an integer, or a number with unit s, m, h or d such as '30m' or '1.5h'"
_TRIAL_COMMAND = 'the shell command that runs one trial, such as "python3 trial.py"'
_SEARCH_SPACE = 'a mapping of parameter names to {_type, _value} specs'

# Keys of the legacy v1 YAML, to tell v1 users what replaced them (None: dropped in v2).
_V1_FIELDS: dict[str, str | None] = {
    'trainingserviceplatform': 'trainingService (a mapping with a platform key)',
    'maxexecduration': 'maxExperimentDuration',
    'maxtrialnum': 'maxTrialNumber',
    'searchspacepath': 'searchSpaceFile',
    'logdir': 'experimentWorkingDirectory',
    'trial': 'trialCommand, trialCodeDirectory and trialGpuNumber',
    'localconfig': 'trainingService',
    'remoteconfig': 'trainingService',
    'machinelist': 'trainingService.machineList',
    'authorname': None,
    'description': None,
    'multiphase': None,
    'multithread': None,
    'versioncheck': None,
    'logcollection': None,
}


def _is_positive_duration(value: Any) -> bool:
    if is_int(value):
        return value > 0
    if isinstance(value, str):
        try:
            return parse_time(value) > 0
        except ValueError:
            return False
    return False


def _is_algorithm(value: Any) -> bool:
    return isinstance(value, _AlgorithmConfig)


class _TrainingServiceCheck(Check):
    """A training service, or a non-empty list of them (hybrid); bad list items reported one by one."""

    def __init__(self) -> None:
        super().__init__(
            'a training service config such as {platform: local}, or a non-empty list of them',
            lambda value: isinstance(value, (TrainingServiceConfig, list)),
            optional=False,
        )

    def run(self, value: Any, path: str, problems: Problems) -> None:
        if isinstance(value, TrainingServiceConfig):
            return
        if not isinstance(value, list) or not value:
            problems.add(path, f'must be {self.expect}, got {show(value)}')
            return
        for index, item in enumerate(value):
            if not isinstance(item, TrainingServiceConfig):
                problems.add(f'{path}[{index}]', f'must be {TrainingServiceConfig._expect}, got {show(item)}')


def _one_line(text: str) -> str:
    return ' '.join(text.split())


def _read_search_space(path: str) -> Any:
    with open(path, encoding='utf-8') as file:
        text = file.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        import yaml  # only for YAML search-space files; keeps the import off config checks

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(str(error)) from error


def _search_space_validator(tuner: Any = None) -> Callable[..., Any] | None:
    try:
        from nni.common.hpo_utils import validate_search_space
    except ImportError:
        return None  # search space module not there (yet): the experiment checks it when it starts
    try:
        # builtins that accept only some types (GP, SMAC, RegularizedEvolution...) check their own
        from nni.algorithms.hpo.registry import search_space_validator
    except ImportError:
        return validate_search_space
    return search_space_validator(tuner)


def _algorithm_validator() -> Callable[[dict[str, Any], str], list[str]] | None:
    try:
        from nni.algorithms.hpo.registry import validate_algorithm_config
    except ImportError:
        return None  # algorithm registry not there (yet): the dispatcher reports bad names then
    return validate_algorithm_config


# Registry messages start with the section they are about ("tuner.classArgs: ...", "tuner: ...")
# or, from other validators, with a bare key ("name: ..."); both are re-rooted at our path.
_KIND_PREFIX = re.compile(r'(?:tuner|assessor|advisor)(?=[.:\[])')
_ALGORITHM_KEY = re.compile(r'(\.?(?:name|className|codeDirectory|classArgs)(?:[.\[][^:\s]*)?|):\s*(.*)', re.DOTALL)


def _algorithm_problem(path: str, message: str) -> tuple[str, str]:
    """Place a validator message under the algorithm's path (``tuner.name: ...`` -> ``advisor.name``)."""
    text = _KIND_PREFIX.sub('', message.strip(), count=1) if _KIND_PREFIX.match(message.strip()) else message.strip()
    match = _ALGORITHM_KEY.fullmatch(text)
    if match:
        key = match[1]
        if key and not key.startswith('.'):
            key = '.' + key
        return f'{path}{key}', _one_line(match[2])
    return path, _one_line(text)


def _with_v1_origin(path: str, message: str, origins: dict[str, str]) -> str:
    """``message`` followed by the v1 key that ``path`` (or the closest parent of it) came from."""
    best = ''
    for v2_path in origins:
        matches = path == v2_path or path.startswith(v2_path + '.') or path.startswith(v2_path + '[')
        if matches and len(v2_path) > len(best):
            best = v2_path
    if not best:
        return message
    return f'{message} (v1: {origins[best]}{path[len(best):]})'


class ExperimentConfig(ConfigBase):
    """Configuration of an HPO experiment.

    Parameters
    ----------
    training_service_platform
        Template mode: a platform name (``'local'``) or a list of names (hybrid). A blank
        training service config is created for each, and placeholder ``tuner``, ``assessor``
        and ``advisor`` configs, so that ``config.tuner.name = 'TPE'`` and
        ``config.tuner.class_args['optimize_mode'] = 'maximize'`` work. Placeholders left
        unnamed count as not set.
    **kwargs
        Field values in snake_case or camelCase (see :class:`~.base.ConfigBase`); the
        fields are the attributes below.

    Attributes
    ----------
    experiment_name : str | None
        Name shown in the web portal and by ``nnictl``.
    experiment_type : str
        Always ``'hpo'`` (NAS experiments are not supported).
    search_space_file : PathLike | None
        JSON or YAML file holding the search space, relative to the config file. Its content
        becomes ``search_space`` in the canonical form (both are kept; the file wins).
    search_space : Any
        The search space itself: parameter name -> ``{_type, _value}``. ``{}`` is a valid empty
        space; None means not set. Required unless ``search_space_file`` is set or
        ``use_annotation`` is true.
    trial_command : str | None
        Shell command that runs one trial, such as ``python3 trial.py`` (copied into the
        training service). Required except on Kubeflow and FrameworkController.
    trial_code_directory : PathLike
        Directory the trials run in (their code is copied from there on remote platforms);
        must exist.
    trial_concurrency : int
        How many trials run at once.
    trial_gpu_number : int | None
        GPUs each trial needs; 0 hides every GPU from the trials, None leaves GPUs unscheduled.
    max_experiment_duration : str | int | None
        Stop starting trials after this long: seconds, or a number with unit ``s``, ``m``,
        ``h`` or ``d`` such as ``'1.5h'``. Kept as written (see :func:`~.utils.parse_time`).
    max_trial_number : int | None
        Stop starting trials after this many.
    max_trial_duration : str | int | None
        Kill a trial that runs longer than this (same format as ``max_experiment_duration``).
    max_consecutive_failed_trials : int | None
        End the experiment (status ``ERROR``, with the first failure's reason) once this many trials fail
        in a row with no success between; not set: never (as NNI). Beyond NNI.
    nni_manager_ip : str | None
        Address the trials use to reach the manager (copied into the training service).
    use_annotation : bool
        The search space is defined by annotations in the trial code.
    debug : bool
        Debug mode (more logging; copied into the training service).
    log_level : str | None
        One of ``fatal``, ``error``, ``warning``, ``info``, ``debug``, ``trace``; default
        ``'debug'`` in debug mode, else ``'info'``.
    experiment_working_directory : PathLike
        Where experiments keep their files (``<directory>/<experiment id>/``).
    tuner_gpu_indices : list[int] | int | str | None
        GPUs the tuner may use: a list of ints, an int, or a string like ``'0,1'``; canonical
        form is a list of ints.
    tuner : AlgorithmConfig | CustomAlgorithmConfig | None
        The tuner (required): ``{name: TPE, classArgs: {...}}`` for a built-in one, or
        ``{className: module.Class, codeDirectory: ...}`` for a custom class.
    assessor : AlgorithmConfig | CustomAlgorithmConfig | None
        The assessor, which may stop unpromising trials early (same form as ``tuner``).
    advisor : AlgorithmConfig | CustomAlgorithmConfig | None
        Deprecated: an advisor is a tuner now. Moved into ``tuner`` in the canonical form; it
        cannot be set together with ``tuner``.
    training_service : TrainingServiceConfig | list[TrainingServiceConfig]
        Where trials run (required): a mapping with a ``platform`` key, or a list of them
        (hybrid mode).
    shared_storage : SharedStorageConfig | None
        Storage mounted both here and on the training machines.

    Examples
    --------
    >>> config = ExperimentConfig('local')
    >>> config.trial_command = 'python3 trial.py'
    >>> config.trial_concurrency = 2
    >>> config.search_space = {'x': {'_type': 'uniform', '_value': [0, 1]}}
    >>> config.tuner.name = 'TPE'
    >>> config.tuner.class_args['optimize_mode'] = 'maximize'
    >>> config.json()['tuner']
    {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}}
    """

    experiment_name: str | None = checked('a string', is_str, default=None)
    experiment_type: str = checked("'hpo' (the only experiment type supported)", lambda v: v == 'hpo', default='hpo')
    search_space_file: PathLike | None = checked('a path to a JSON or YAML file', is_path, default=None)
    search_space: Any = None
    trial_command: str | None = checked(_TRIAL_COMMAND, is_non_empty_str, default=None)
    trial_code_directory: PathLike = checked('a path to the directory trials run in', is_path, default='.')
    trial_concurrency: int = checked('a positive integer', is_positive_int)
    trial_gpu_number: int | None = checked('a non-negative integer', is_non_negative_int, default=None)
    max_experiment_duration: str | int | None = checked(_DURATION, _is_positive_duration, default=None)
    max_trial_number: int | None = checked('a positive integer', is_positive_int, default=None)
    max_trial_duration: str | int | None = checked(_DURATION, _is_positive_duration, default=None)
    max_consecutive_failed_trials: int | None = checked('a positive integer', is_positive_int, default=None)
    nni_manager_ip: str | None = checked('an IP address or host name', is_non_empty_str, default=None)
    use_annotation: bool = checked('true or false', is_bool, default=False)
    debug: bool = checked('true or false', is_bool, default=False)
    log_level: str | None = checked('one of ' + ', '.join(LOG_LEVELS), lambda v: v in LOG_LEVELS, default=None)
    experiment_working_directory: PathLike = checked('a path to a directory', is_path, default='~/nni-experiments')
    tuner_gpu_indices: list[int] | int | str | None = dataclasses.field(default=None, metadata={'check': GpuIndicesCheck()})
    tuner: _AlgorithmConfig | None = checked(_AlgorithmConfig._expect, _is_algorithm, default=None)
    assessor: _AlgorithmConfig | None = checked(_AlgorithmConfig._expect, _is_algorithm, default=None)
    advisor: _AlgorithmConfig | None = checked(_AlgorithmConfig._expect, _is_algorithm, default=None)
    training_service: TrainingServiceConfig | list[TrainingServiceConfig] = dataclasses.field(
        metadata={'check': _TrainingServiceCheck()}
    )
    shared_storage: SharedStorageConfig | None = checked(
        SharedStorageConfig._expect, lambda v: isinstance(v, SharedStorageConfig), default=None
    )

    _legacy_fields = _V1_FIELDS

    def __init__(self, training_service_platform: str | list[str] | None = None, **kwargs: Any) -> None:
        for key in kwargs:
            if isinstance(key, str) and normalize_key(key) == 'trainingserviceplatform':
                # a whole v1 config: one clear line instead of one per v1 key
                raise UnknownFieldError([(key, _V1_MESSAGE)])
        problems = Problems()
        self._init_fields(kwargs, current_base_path(), '', problems)
        if training_service_platform is not None:
            self._init_template(training_service_platform, problems)
        problems.raise_if_any(UnknownFieldError)

    def _init_template(self, platforms: str | list[str], problems: Problems) -> None:
        if isinstance(platforms, str):
            names, single = [platforms], True
        elif isinstance(platforms, (list, tuple)) and all(isinstance(name, str) for name in platforms):
            names, single = list(platforms), False
        else:
            raise TypeError(f'training_service_platform must be a platform name or a list of names, got {show(platforms)}')
        if not is_missing(self.training_service) and self.training_service is not None:
            problems.add(
                'trainingService',
                f'given twice, as the platform argument {show(platforms)} and as a training_service value; keep one',
            )
            return
        if not names:
            problems.add('trainingService', 'must not be an empty list of platforms')
            return
        services: list[TrainingServiceConfig] = []
        for index, name in enumerate(names):
            service_path = 'trainingService' if single else f'trainingService[{index}]'
            service_class = training_service_config_class(name)
            if service_class is None:
                problems.add(join_path(service_path, 'platform'), unknown_platform_message(name))
            else:
                services.append(service_class())
        if len(services) == len(names):
            self.training_service = services[0] if single else services
        for name in ('tuner', 'assessor', 'advisor'):
            if getattr(self, name) is None:
                setattr(self, name, _AlgorithmConfig(name=PLACEHOLDER_NAME, class_args={}))


    @classmethod
    def _no_field_message(cls, name: str) -> str:
        message = super()._no_field_message(name)
        # NNI's Kubeflow guide sets config.operator: point at where platform fields live
        for platform in known_platforms():
            service_class = training_service_config_class(platform)
            if service_class is not None and name in service_class._field_names():
                return f'{message} ({name} is a field of {service_class.__name__}: set config.training_service.{name})'
        return message

    # -----------------------------------------------------------------------------------------
    # files

    @classmethod
    def load(cls: type[_Experiment], path: str | os.PathLike[str]) -> _Experiment:
        """Load a config from a YAML or JSON file, v2 or legacy v1.

        A file with a ``trainingServicePlatform`` key is a v1 config: it is converted (see
        :mod:`~nni.experiment.config.convert`) and a warning logs the v2 form. Relative paths in
        the file are relative to the file's folder, in both formats. Missing or invalid values
        are not checked here; call :meth:`validate` for that.

        Parameters
        ----------
        path
            The file; read as UTF-8 with a safe YAML loader, so JSON works as well.

        Returns
        -------
        ExperimentConfig
            The config, not yet validated.

        Raises
        ------
        UnknownFieldError
            If a v2 file names unknown fields or platforms (the message also lists every other
            problem of the file).
        ConfigError
            If the file is not valid YAML, or a v1 file cannot be converted.
        TypeError
            If the file does not hold a mapping.
        """
        file_path, data = cls._read_file(path)
        from .convert import convert_with_origins, is_v1_config  # convert imports this module

        if not is_v1_config(data):
            return cls._from_file_data(data, file_path.parent)
        v2, origins = convert_with_origins(data)
        import yaml

        _logger.warning(
            'Config file %s uses the legacy v1 format; it was converted to this v2 config:\n%s',
            file_path,
            yaml.safe_dump(v2, sort_keys=False).rstrip(),
        )
        with config_base_path(file_path.parent):
            config = cls(**v2)
        object.__setattr__(config, '_v1_origins', origins)
        return config

    def canonical_copy(self: _Experiment) -> _Experiment:
        try:
            return super().canonical_copy()
        except ConfigError as error:
            origins: dict[str, str] | None = getattr(self, '_v1_origins', None)
            if not origins:
                raise
            # a converted v1 config: say which v1 key each problem came from
            annotated = [(path, _with_v1_origin(path, message, origins)) for path, message in error.problems]
            raise type(error)(annotated) from None

    canonical_copy.__doc__ = ConfigBase.canonical_copy.__doc__

    # -----------------------------------------------------------------------------------------
    # canonical form

    def _field_path(self, name: str, path: str) -> str:
        if name == 'tuner' and getattr(self, '_tuner_from_advisor', False):
            return join_path(path, 'advisor')  # the user wrote it as advisor
        return join_path(path, camel_case(name))

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        if self.log_level is None:
            self.log_level = 'debug' if self.debug is True else 'info'
        try:
            self.tuner_gpu_indices = canonical_gpu_indices(self.tuner_gpu_indices)
        except ValueError:
            pass  # the string stays; validation says what is allowed
        for name in ('tuner', 'assessor', 'advisor'):
            algorithm = getattr(self, name)
            if isinstance(algorithm, _AlgorithmConfig) and algorithm.name == PLACEHOLDER_NAME:
                if algorithm.class_name is not None:
                    algorithm.name = None  # template user went for a custom class
                elif not algorithm.class_args and algorithm.code_directory is None:
                    setattr(self, name, None)  # untouched placeholder: not set
                # else: class args without a name; validation asks for the name
        object.__setattr__(self, '_tuner_from_advisor', False)
        if self.advisor is not None and self.tuner is None:
            # advisors are tuners since NNI 2.x; the manager only knows "tuner"
            self.tuner, self.advisor = self.advisor, None
            object.__setattr__(self, '_tuner_from_advisor', True)

    def _finish(self, parents: list[ConfigBase], problems: Problems) -> None:
        object.__setattr__(self, '_search_space_error', None)
        file_path = self.search_space_file
        if not isinstance(file_path, str) or not is_path(file_path):
            return
        reason: str | None = None
        try:
            content = _read_search_space(file_path)
        except OSError as error:
            reason = error.strerror or str(error)
        except ValueError as error:  # yaml.YAMLError is raised as ValueError below
            reason = f'not valid JSON or YAML: {_one_line(str(error))}'
        else:
            if content is None:
                reason = 'the file is empty'
            else:
                # the file wins over an inline searchSpace, as in NNI (json() keeps both keys)
                self.search_space = content
        if reason is not None:
            object.__setattr__(self, '_search_space_error', f'must be a readable JSON or YAML file, got {show(file_path)} ({reason})')

    # -----------------------------------------------------------------------------------------
    # validation

    def _validate_extra(self, path: str, problems: Problems) -> None:
        tuner_path = self._field_path('tuner', path)
        if self.advisor is not None and self.tuner is not None and not problems.has('advisor'):
            problems.add('advisor', 'is deprecated and cannot be set together with tuner; set only tuner (advisors go there)')
        if self.tuner is None and not problems.has(tuner_path):
            problems.add(tuner_path, f'not set, must be {_AlgorithmConfig._expect}')
        directory = self.experiment_working_directory
        directory_path = join_path(path, 'experimentWorkingDirectory')
        if is_path(directory) and os.path.exists(directory) and not os.path.isdir(directory) and not problems.has(directory_path):
            problems.add(directory_path, f'must be a directory, got {show(directory)}, which is a file')
        self._validate_search_space(path, problems)
        if getattr(self, '_launch_checks', True):
            # NNI checks algorithm names and class args at launch only; json() does not
            self._validate_algorithms(path, problems)

    def _validate_search_space(self, path: str, problems: Problems) -> None:
        space_path = join_path(path, 'searchSpace')
        file_path = join_path(path, 'searchSpaceFile')
        if problems.has(space_path) or problems.has(file_path):
            return
        error = getattr(self, '_search_space_error', None)
        if error is not None:
            problems.add(file_path, error)
            return
        if self.use_annotation is True:
            if self.search_space_file is not None or self.search_space is not None:
                where = file_path if self.search_space_file is not None else space_path
                problems.add(where, 'must not be set when useAnnotation is true (annotations in the trial code define the search space)')
            return
        if self.search_space is None:
            problems.add(space_path, f'not set, must be {_SEARCH_SPACE} (or set searchSpaceFile to a JSON or YAML file)')
            return
        where = file_path if self.search_space_file is not None else space_path
        origin = f' (in {self.search_space_file})' if self.search_space_file is not None else ''
        if not isinstance(self.search_space, dict):
            problems.add(where, f'must be {_SEARCH_SPACE}, got {show(self.search_space)}{origin}')
            return
        if not getattr(self, '_launch_checks', True):
            return  # the contents are checked at launch (NNI: by the tuner), not by json()
        tuner = self.tuner._to_json() if isinstance(self.tuner, _AlgorithmConfig) else None
        validate_search_space = _search_space_validator(tuner)
        if validate_search_space is None:
            return
        try:
            valid = validate_search_space(self.search_space)
        except ValueError as error:
            located = getattr(error, 'errors', None)
            if isinstance(located, list) and located:
                # every problem of the space at once, each at its key path (searchSpace.lr._value)
                for key_path, message in located:
                    problems.add(join_path(space_path, key_path) if key_path else space_path,
                                 _one_line(str(message)) + origin)
            else:
                problems.add(where, _one_line(str(error)) + origin)
        except Exception as error:  # a validator bug must still end as a config message, not a crash
            problems.add(where, f'cannot be validated ({type(error).__name__}: {_one_line(str(error))}){origin}')
        else:
            if valid is False:
                problems.add(where, f'is not a valid search space{origin}')

    def _validate_algorithms(self, path: str, problems: Problems) -> None:
        for name, kind in (('tuner', 'tuner'), ('assessor', 'assessor')):
            algorithm = getattr(self, name)
            algorithm_path = self._field_path(name, path)
            if not isinstance(algorithm, _AlgorithmConfig) or problems.has(algorithm_path):
                continue
            validate_algorithm_config = _algorithm_validator()
            if validate_algorithm_config is None:
                return
            try:
                messages = list(validate_algorithm_config(algorithm._to_json(), kind))
            except Exception as error:  # a registry bug must still end as a config message
                messages = [f'cannot be validated ({type(error).__name__}: {_one_line(str(error))})']
            for message in messages:
                problems.add(*_algorithm_problem(algorithm_path, str(message)))
