"""Legacy v1 YAML (``trainingServicePlatform: ...``) to :class:`ExperimentConfig`.

The conversion is driven by the tables below (v1 key -> v2 key, per section), which also
produce the v1-to-v2 table of ``docs/config.md``. Keys of the v1 schema that mean nothing in
v2 are dropped with a warning; keys that are not in the v1 schema at all (typos) are errors,
reported all at once with the closest valid key. Values are moved as they are: checking them
is the v2 validation's job, whose messages then also name the v1 key
(``trialGpuNumber: must be a non-negative integer, got -1 (v1: trial.gpuNum)``).

Relative paths keep meaning "relative to the config file": :meth:`ExperimentConfig.load`
converts v1 files itself and passes the file's folder as ``base_path``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .experiment_config import ExperimentConfig
from .utils.internal import Problems, closest_name, config_base_path, join_path, show

__all__ = ['convert_algo', 'convert_with_origins', 'is_v1_config', 'mapping_rows', 'to_v2']

_logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# The tables: v1 key -> v2 key, section by section.

#: Top-level keys that keep their value.
TOP_LEVEL_KEYS: dict[str, str] = {
    'experimentName': 'experimentName',
    'trialConcurrency': 'trialConcurrency',
    'maxExecDuration': 'maxExperimentDuration',
    'maxTrialNum': 'maxTrialNumber',
    'maxTrialDuration': 'maxTrialDuration',
    'searchSpacePath': 'searchSpaceFile',
    'nniManagerIp': 'nniManagerIp',
    'logDir': 'experimentWorkingDirectory',
    'debug': 'debug',
    'logLevel': 'logLevel',
    'useAnnotation': 'useAnnotation',
}

#: ``trial`` keys of every platform; they become top-level (shortcut) fields.
TRIAL_KEYS: dict[str, str] = {'command': 'trialCommand', 'codeDir': 'trialCodeDirectory', 'gpuNum': 'trialGpuNumber'}

#: Keys of ``tuner``, ``assessor`` and ``advisor`` other than the custom-class trio.
ALGORITHM_KEYS: dict[str, str] = {
    'builtinTunerName': 'name',
    'builtinAssessorName': 'name',
    'builtinAdvisorName': 'name',
    'classArgs': 'classArgs',
}

#: ``localConfig`` -> the local training service.
LOCAL_KEYS: dict[str, str] = {
    'gpuIndices': 'gpuIndices',
    'maxTrialNumPerGpu': 'maxTrialNumberPerGpu',
    'useActiveGpu': 'useActiveGpu',
}

#: ``remoteConfig`` -> the remote training service.
REMOTE_KEYS: dict[str, str] = {'reuse': 'reuseMode'}

#: Items of ``machineList`` -> items of ``trainingService.machineList``.
MACHINE_KEYS: dict[str, str] = {
    'ip': 'host',
    'port': 'port',
    'username': 'user',
    'passwd': 'password',
    'sshKeyPath': 'sshKeyFile',
    'passphrase': 'sshPassphrase',
    'gpuIndices': 'gpuIndices',
    'maxTrialNumPerGpu': 'maxTrialNumberPerGpu',
    'useActiveGpu': 'useActiveGpu',
    'pythonPath': 'pythonPath',
}

#: OpenPAI keys of ``trial`` -> the openpai training service.
PAI_TRIAL_KEYS: dict[str, str] = {
    'nniManagerNFSMountPath': 'localStorageMountPoint',
    'containerNFSMountPath': 'containerStorageMountPoint',
    'cpuNum': 'trialCpuNumber',
    'memoryMB': 'trialMemorySize',
    'image': 'dockerImage',
    'virtualCluster': 'virtualCluster',
    'paiStorageConfigName': 'storageConfigName',
    'paiConfigPath': 'openpaiConfigFile',
}

#: ``paiConfig`` -> the openpai training service (these win over the ``trial`` ones).
PAI_KEYS: dict[str, str] = {
    'userName': 'username',
    'token': 'token',
    'host': 'host',
    'reuse': 'reuseMode',
    'gpuNum': 'trialGpuNumber',
    'cpuNum': 'trialCpuNumber',
    'memoryMB': 'trialMemorySize',
}

#: AML keys of ``trial`` -> the aml training service.
AML_TRIAL_KEYS: dict[str, str] = {'image': 'dockerImage'}

#: ``amlConfig`` -> the aml training service.
AML_KEYS: dict[str, str] = {
    'subscriptionId': 'subscriptionId',
    'resourceGroup': 'resourceGroup',
    'workspaceName': 'workspaceName',
    'computeTarget': 'computeTarget',
    'maxTrialNumPerGpu': 'maxTrialNumberPerGpu',
    'useActiveGpu': 'useActiveGpu',
}

#: ``kubeflowConfig`` -> the kubeflow training service (storage keys handled apart).
KUBEFLOW_KEYS: dict[str, str] = {
    'operator': 'operator',
    'apiVersion': 'apiVersion',
    'reuse': 'reuseMode',
    'namespace': 'namespace',
}

#: Kubeflow roles of ``trial`` (``worker``, ``ps``, ``master``) -> the roles of the service.
KUBEFLOW_ROLE_KEYS: dict[str, str] = {
    'replicas': 'replicas',
    'command': 'command',
    'gpuNum': 'gpuNumber',
    'cpuNum': 'cpuNumber',
    'memoryMB': 'memorySize',
    'image': 'dockerImage',
}

KUBEFLOW_ROLES = ('worker', 'ps', 'master')

#: ``frameworkcontrollerConfig`` -> the frameworkcontroller training service (storage apart).
FRAMEWORKCONTROLLER_KEYS: dict[str, str] = {
    'serviceAccountName': 'serviceAccountName',
    'reuse': 'reuseMode',
    'namespace': 'namespace',
}

#: Items of ``trial.taskRoles`` -> items of ``trainingService.taskRoles``.
TASK_ROLE_KEYS: dict[str, str] = {
    'name': 'name',
    'taskNum': 'taskNumber',
    'command': 'command',
    'gpuNum': 'gpuNumber',
    'cpuNum': 'cpuNumber',
    'memoryMB': 'memorySize',
    'image': 'dockerImage',
}

#: ``frameworkAttemptCompletionPolicy`` of a task role.
POLICY_KEYS: dict[str, str] = {
    'minFailedTaskCount': 'minFailedTaskCount',
    'minSucceededTaskCount': 'minSucceedTaskCount',
}

#: ``nfs`` of ``kubeflowConfig`` / ``frameworkcontrollerConfig`` -> ``storage`` (storageType nfs).
NFS_KEYS: dict[str, str] = {'server': 'server', 'path': 'path'}

#: ``azureStorage`` of those sections -> ``storage`` (storageType azureStorage).
AZURE_STORAGE_KEYS: dict[str, str] = {'accountName': 'azureAccount', 'azureShare': 'azureShare'}

#: ``keyVault`` of those sections -> ``storage`` (storageType azureStorage).
KEY_VAULT_KEYS: dict[str, str] = {'vaultName': 'keyVaultName', 'name': 'keyVaultKey'}

#: ``sharedStorage`` keeps its keys.
SHARED_STORAGE_KEYS: dict[str, str] = {
    key: key
    for key in (
        'storageType',
        'localMountPoint',
        'remoteMountPoint',
        'localMounted',
        'nfsServer',
        'exportedDirectory',
        'storageAccountName',
        'storageAccountKey',
        'containerName',
    )
}

#: Keys of the v1 schema that mean nothing in v2, by section: dropped with a warning.
DROPPED_KEYS: dict[str, tuple[str, ...]] = {
    '': ('authorName', 'description', 'multiThread', 'versionCheck', 'logCollection'),
    'trial': ('nasMode', 'authFile'),
    'algorithm': ('includeIntermediateResults',),
    'paiConfig': ('passWord', 'maxTrialNumPerGpu', 'useActiveGpu'),
    'role': ('privateRegistryAuthPath',),
    'k8s': ('uploadRetryCount', 'configPath'),
}

#: v1 ``trainingServicePlatform`` -> v2 ``platform``.
PLATFORMS: dict[str, str] = {
    'local': 'local',
    'remote': 'remote',
    'pai': 'openpai',
    'aml': 'aml',
    'kubeflow': 'kubeflow',
    'frameworkcontroller': 'frameworkcontroller',
}

# platforms of the v1 schema that have no v2 form, and platforms a v1 hybrid config may list
_UNSUPPORTED_PLATFORMS = {
    'adl': 'AdaptDL (adl) experiments are not supported by this version',
    'dlts': 'DLTS experiments are not supported by this version',
}
_HYBRID_PLATFORMS = ('local', 'remote', 'pai', 'aml')

# the section of the v1 YAML that configures each platform
_PLATFORM_SECTIONS = {
    'local': ('localConfig',),
    'remote': ('remoteConfig', 'machineList'),
    'pai': ('paiConfig',),
    'aml': ('amlConfig',),
    'kubeflow': ('kubeflowConfig',),
    'frameworkcontroller': ('frameworkcontrollerConfig',),
}

_STORAGE_KEYS = ('storage', 'nfs', 'keyVault', 'azureStorage', 'pvc')

# ---------------------------------------------------------------------------------------------
# Public functions


def is_v1_config(data: Any) -> bool:
    """Whether a loaded YAML mapping is a legacy v1 config (it has a ``trainingServicePlatform``).

    Parameters
    ----------
    data
        What the YAML file holds.

    Returns
    -------
    bool
        True when ``data`` is a mapping whose ``trainingServicePlatform`` is set, as nnictl tells
        the formats apart.
    """
    if not isinstance(data, Mapping):
        return False
    return any(isinstance(key, str) and key.lower() == 'trainingserviceplatform' and value for key, value in data.items())


def to_v2(
    v1: Mapping[str, Any], *, base_path: str | os.PathLike[str] | None = None, strict: bool = True
) -> ExperimentConfig:
    """Convert a legacy v1 config (the mapping of its YAML) to an :class:`ExperimentConfig`.

    Parameters
    ----------
    v1
        The v1 config; it is not modified.
    base_path
        Folder that relative paths of the config are relative to (the config file's folder);
        None means the current directory when the config is validated, like a config built in
        Python.
    strict
        With False, keys that are not in the v1 schema are dropped with a warning (as NNI did)
        instead of being errors.

    Returns
    -------
    ExperimentConfig
        The converted config, not yet validated (call ``validate()`` or ``json()``). Problems
        found by validation also name the v1 key they came from.

    Raises
    ------
    ConfigError
        If the mapping cannot be converted: unknown keys, a platform without a v2 form,
        sections that are not mappings, a custom algorithm given both ways. Every such problem
        is listed, each under its v1 path.

    Examples
    --------
    >>> config = to_v2({'trainingServicePlatform': 'local', 'maxTrialNum': 10, 'trialConcurrency': 1,
    ...                 'trial': {'command': 'python3 trial.py', 'codeDir': '.'}, 'tuner': {'builtinTunerName': 'TPE'}})
    >>> config.max_trial_number, config.trial_command, config.training_service.platform
    (10, 'python3 trial.py', 'local')
    """
    v2, origins = convert_with_origins(v1, strict=strict)
    if base_path is not None:
        with config_base_path(Path(os.path.abspath(os.fspath(base_path)))):
            config = ExperimentConfig(**v2)
    else:
        config = ExperimentConfig(**v2)
    object.__setattr__(config, '_v1_origins', origins)
    return config


def convert_with_origins(v1: Mapping[str, Any], *, strict: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """The v2 mapping of a v1 config (camelCase, as a v2 YAML file holds it), and where its values came from.

    Parameters
    ----------
    v1
        The v1 config; it is not modified.
    strict
        As in :func:`to_v2`.

    Returns
    -------
    tuple[dict, dict[str, str]]
        The v2 mapping, and the v1 path of each value in it keyed by its v2 path
        (``{'trainingService.machineList[0].host': 'machineList[0].ip', ...}``).

    Raises
    ------
    ConfigError
        As :func:`to_v2`.
    """
    return _Converter(v1, strict).convert()


def convert_algo(algo_type: str, v1_algo: Mapping[str, Any]) -> dict[str, Any]:
    """Convert one v1 algorithm section to its v2 form (``tuner``, ``assessor`` or ``advisor``).

    Parameters
    ----------
    algo_type
        ``'tuner'``, ``'assessor'`` or ``'advisor'``, used in messages.
    v1_algo
        The v1 section, such as ``{'builtinTunerName': 'TPE', 'classArgs': {...}}``.

    Returns
    -------
    dict
        The v2 section, such as ``{'name': 'TPE', 'classArgs': {...}}``; a v1 ``gpuIndices`` is
        not part of it (it is the experiment's ``tunerGpuIndices``).

    Raises
    ------
    ConfigError
        If the section cannot be converted.

    Examples
    --------
    >>> convert_algo('assessor', {'codeDir': '.', 'classFileName': 'my_assessor.py', 'className': 'MyAssessor'})
    {'className': 'my_assessor.MyAssessor', 'codeDirectory': '.'}
    """
    converter = _Converter({}, strict=True)
    result = converter.algorithm(v1_algo, algo_type)
    converter.problems.raise_if_any()
    return result or {}


def mapping_rows() -> list[tuple[str, str]]:
    """Rows ``(v1 key, v2 key or what happens)`` of the v1-to-v2 table in ``docs/config.md``."""
    rows: list[tuple[str, str]] = [('trainingServicePlatform', 'trainingService.platform (pai becomes openpai)')]
    rows += [(key, value) for key, value in TOP_LEVEL_KEYS.items()]
    rows += [(f'trial.{key}', value) for key, value in TRIAL_KEYS.items()]
    rows += [(f'tuner/assessor/advisor.{key}', f'<section>.{value}') for key, value in ALGORITHM_KEYS.items()]
    rows += [
        ('tuner/assessor/advisor.codeDir', '<section>.codeDirectory'),
        ('tuner/assessor/advisor.classFileName + className', '<section>.className = <file name without .py>.<className>'),
        ('tuner/assessor/advisor.gpuIndices', 'tunerGpuIndices'),
        ('multiPhase', 'false: dropped; true: error (multi-phase trials are not supported)'),
        ('hybridConfig.trainingServicePlatforms', 'trainingService as a list of training services'),
    ]
    sections: list[tuple[str, str, dict[str, str]]] = [
        ('localConfig', 'trainingService', LOCAL_KEYS),
        ('remoteConfig', 'trainingService', REMOTE_KEYS),
        ('machineList[]', 'trainingService.machineList[]', MACHINE_KEYS),
        ('trial (pai)', 'trainingService', PAI_TRIAL_KEYS),
        ('paiConfig', 'trainingService', PAI_KEYS),
        ('trial (aml)', 'trainingService', AML_TRIAL_KEYS),
        ('amlConfig', 'trainingService', AML_KEYS),
        ('kubeflowConfig', 'trainingService', KUBEFLOW_KEYS),
        ('trial.worker/ps/master', 'trainingService.worker/ps/master', KUBEFLOW_ROLE_KEYS),
        ('frameworkcontrollerConfig', 'trainingService', FRAMEWORKCONTROLLER_KEYS),
        ('trial.taskRoles[]', 'trainingService.taskRoles[]', TASK_ROLE_KEYS),
        (
            'trial.taskRoles[].frameworkAttemptCompletionPolicy',
            'trainingService.taskRoles[].frameworkAttemptCompletionPolicy',
            POLICY_KEYS,
        ),
        ('sharedStorage', 'sharedStorage', SHARED_STORAGE_KEYS),
    ]
    for v1_section, v2_section, table in sections:
        rows += [(f'{v1_section}.{key}', f'{v2_section}.{value}') for key, value in table.items()]
    k8s = 'kubeflowConfig/frameworkcontrollerConfig'
    rows += [
        ('trial.codeDir (kubeflow)', 'also trainingService.<role>.codeDirectory of every role'),
        (f'{k8s}.storage', "trainingService.storage.storageType: 'nfs' or 'azureStorage' (default: nfs if an nfs section exists)"),
    ]
    for v1_section, table in (('nfs', NFS_KEYS), ('azureStorage', AZURE_STORAGE_KEYS), ('keyVault', KEY_VAULT_KEYS)):
        rows += [(f'{k8s}.{v1_section}.{key}', f'trainingService.storage.{value}') for key, value in table.items()]
    for section, keys in DROPPED_KEYS.items():
        where = {
            '': '',
            'algorithm': 'tuner/assessor/advisor.',
            'role': 'trial.<role>.',
            'k8s': 'kubeflowConfig/frameworkcontrollerConfig.',
        }.get(section, f'{section}.')
        rows += [(f'{where}{key}', 'dropped with a warning') for key in keys]
    return rows


# ---------------------------------------------------------------------------------------------
# The converter


class _Converter:
    """One conversion: the v2 mapping being built, the problems found, and where values came from."""

    def __init__(self, v1: Mapping[str, Any], strict: bool) -> None:
        self.v1 = v1
        self.strict = strict
        self.problems = Problems()
        #: v2 path -> v1 path of every moved value (for the messages of v2 validation)
        self.origins: dict[str, str] = {}

    # --- helpers ---------------------------------------------------------------------------

    def mapping(self, value: Any, path: str, what: str) -> Mapping[str, Any] | None:
        """``value`` if it is a mapping (None if unset); else a problem and None."""
        if value is None:
            return None
        if isinstance(value, Mapping):
            return value
        self.problems.add(path, f'must be a mapping ({what}), got {show(value)}')
        return None

    def move(
        self,
        section: Mapping[str, Any],
        section_path: str,
        table: Mapping[str, str],
        target: dict[str, Any],
        target_path: str,
        *,
        dropped: Iterable[str] = (),
        handled: Iterable[str] = (),
        consumed: set[str] | None = None,
        report_unknown: bool = True,
    ) -> None:
        """Move the keys of ``table`` from ``section`` into ``target``; report or drop the rest.

        ``handled`` keys are left to the caller; moved and dropped keys are added to ``consumed``
        (the ``trial`` section is shared by several steps, which report its leftovers at the end).
        """
        dropped, handled = set(dropped), set(handled)
        for key, value in section.items():
            key_path = join_path(section_path, str(key))
            if key in table:
                if consumed is not None:
                    consumed.add(key)
                if value is not None:  # None is "not set" in both formats
                    new_key = table[key]
                    target[new_key] = value
                    self.origins[join_path(target_path, new_key)] = key_path
            elif key in handled:
                continue
            elif key in dropped:
                if consumed is not None:
                    consumed.add(key)
                _logger.warning('%s: no longer used in v2 configs, ignored', key_path)
            elif report_unknown:
                self.unknown(key, key_path, [*table, *handled, *dropped])

    def unknown(self, key: Any, path: str, valid: Iterable[str]) -> None:
        if not self.strict:
            _logger.warning('%s: not a key of the v1 config format, ignored', path)
            return
        valid = sorted(set(valid))
        suggestion = closest_name(key, valid) if isinstance(key, str) else None
        if suggestion is not None:
            self.problems.add(path, f'unknown v1 key, did you mean {suggestion}?')
        else:
            self.problems.add(path, f'unknown v1 key; valid keys here are: {", ".join(valid)}')

    # --- the whole config --------------------------------------------------------------------

    def convert(self) -> tuple[dict[str, Any], dict[str, str]]:
        v1 = self.v1
        if not isinstance(v1, Mapping):
            raise ConfigError([('', f'a v1 config must be a mapping of v1 keys, got {show(v1)}')])
        v2: dict[str, Any] = {}
        platform_names = self.platforms()
        used_sections = {section for name in platform_names for section in _PLATFORM_SECTIONS.get(name, ())}
        all_sections = {section for sections in _PLATFORM_SECTIONS.values() for section in sections}
        special = {'trainingServicePlatform', 'trial', 'tuner', 'assessor', 'advisor', 'multiPhase', 'hybridConfig', 'sharedStorage'}
        self.move(v1, '', TOP_LEVEL_KEYS, v2, '', dropped=DROPPED_KEYS[''], handled=special | all_sections)
        for section in sorted(all_sections - used_sections):
            if section in v1:
                _logger.warning('%s: ignored, trainingServicePlatform is %s', section, v1.get('trainingServicePlatform'))
        if v1.get('hybridConfig') is not None and v1.get('trainingServicePlatform') != 'hybrid':
            _logger.warning('hybridConfig: ignored, trainingServicePlatform is %s', v1.get('trainingServicePlatform'))
        multi_phase = v1.get('multiPhase')
        if multi_phase:
            self.problems.add('multiPhase', f'multi-phase trials are not supported by v2 configs, got {show(multi_phase)}')

        trial = self.mapping(v1.get('trial'), 'trial', 'the v1 trial section') or {}
        consumed: set[str] = set()
        self.move(trial, 'trial', TRIAL_KEYS, v2, '', consumed=consumed, report_unknown=False)

        gpu_indices: Any = None
        for kind in ('tuner', 'assessor', 'advisor'):
            section = self.mapping(v1.get(kind), kind, f'the v1 {kind} section')
            if section is None:
                continue
            converted = self.algorithm(section, kind)
            if converted is not None:
                v2[kind] = converted
            if section.get('gpuIndices') is not None:
                gpu_indices = section['gpuIndices']  # as in NNI, a later section overwrites
                self.origins['tunerGpuIndices'] = f'{kind}.gpuIndices'
        if gpu_indices is not None:
            v2['tunerGpuIndices'] = gpu_indices

        services = []
        hybrid = len(platform_names) > 1 or v1.get('trainingServicePlatform') == 'hybrid'
        for index, name in enumerate(platform_names):
            service_path = f'trainingService[{index}]' if hybrid else 'trainingService'
            services.append(self.service(name, trial, consumed, v2, service_path))
        if platform_names:
            v2['trainingService'] = services if hybrid else services[0]
        # trial keys that no platform of this config knows
        known = set(TRIAL_KEYS) | set(DROPPED_KEYS['trial'])
        for name in platform_names:
            known |= set(self.trial_keys(name))
        for key in trial:
            if key not in consumed:
                if key in DROPPED_KEYS['trial']:
                    _logger.warning('%s: no longer used in v2 configs, ignored', join_path('trial', str(key)))
                else:
                    self.unknown(key, join_path('trial', str(key)), known)

        storage = self.mapping(v1.get('sharedStorage'), 'sharedStorage', 'the v1 sharedStorage section')
        if storage is not None:
            v2['sharedStorage'] = {}
            self.move(storage, 'sharedStorage', SHARED_STORAGE_KEYS, v2['sharedStorage'], 'sharedStorage')
        self.problems.raise_if_any()
        return v2, self.origins

    def platforms(self) -> list[str]:
        """The v1 platform names of the config (several for hybrid); problems for bad ones."""
        platform = self.v1.get('trainingServicePlatform')
        if platform == 'hybrid':
            hybrid = self.mapping(self.v1.get('hybridConfig'), 'hybridConfig', 'the v1 hybridConfig section') or {}
            for key in hybrid:
                if key != 'trainingServicePlatforms':
                    self.unknown(key, join_path('hybridConfig', str(key)), ['trainingServicePlatforms'])
            names = hybrid.get('trainingServicePlatforms')
            path = 'hybridConfig.trainingServicePlatforms'
            if not isinstance(names, list) or not names:
                self.problems.add(path, f'must be a non-empty list of platforms ({", ".join(_HYBRID_PLATFORMS)}), got {show(names)}')
                return []
            good = []
            for index, name in enumerate(names):
                if name in _HYBRID_PLATFORMS:
                    good.append(name)
                else:
                    self.problems.add(f'{path}[{index}]', f'must be one of {", ".join(_HYBRID_PLATFORMS)}, got {show(name)}')
            return good
        if isinstance(platform, str) and platform in PLATFORMS:
            return [platform]
        if isinstance(platform, str) and platform in _UNSUPPORTED_PLATFORMS:
            self.problems.add('trainingServicePlatform', f'{_UNSUPPORTED_PLATFORMS[platform]}, got {show(platform)}')
        else:
            known = ', '.join([*PLATFORMS, 'hybrid'])
            self.problems.add('trainingServicePlatform', f'must be one of {known}, got {show(platform)}')
        return []

    # --- algorithms --------------------------------------------------------------------------

    def algorithm(self, section: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
        result: dict[str, Any] = {}
        custom = ('codeDir', 'classFileName', 'className')
        self.move(section, kind, ALGORITHM_KEYS, result, kind, dropped=DROPPED_KEYS['algorithm'], handled={*custom, 'gpuIndices'})
        builtin = [key for key in ALGORITHM_KEYS if key != 'classArgs' and section.get(key) is not None]
        class_name, file_name = section.get('className'), section.get('classFileName')
        if len(builtin) > 1:
            self.problems.add(f'{kind}.{builtin[1]}', f'cannot be set together with {builtin[0]}; keep one')
        if builtin and (class_name is not None or file_name is not None):
            other = 'className' if class_name is not None else 'classFileName'
            self.problems.add(
                f'{kind}.{other}',
                f'cannot be set together with {builtin[0]} (a built-in algorithm), got {show(section.get(other))}; keep one',
            )
            return result
        if file_name is not None:
            if not isinstance(file_name, str) or not file_name.endswith('.py'):
                self.problems.add(f'{kind}.classFileName', f'must be the name of a Python file (ending in .py), got {show(file_name)}')
            elif class_name is None:
                self.problems.add(f'{kind}.className', f'not set, must be the name of the class in {file_name}')
            elif not isinstance(class_name, str):
                self.problems.add(f'{kind}.className', f'must be a class name, got {show(class_name)}')
            else:
                module = file_name[: -len('.py')].replace('/', '.').replace(os.sep, '.')
                result['className'] = f'{module}.{class_name}'
                self.origins[f'{kind}.className'] = f'{kind}.className'
        elif class_name is not None:
            result['className'] = class_name  # already qualified (module.Class), or v2 validation says so
            self.origins[f'{kind}.className'] = f'{kind}.className'
        if section.get('codeDir') is not None:
            result['codeDirectory'] = section['codeDir']
            self.origins[f'{kind}.codeDirectory'] = f'{kind}.codeDir'
        # classArgs first in NNI's output is irrelevant; keep name/className first for readability
        ordered = {key: result[key] for key in ('name', 'className', 'codeDirectory', 'classArgs') if key in result}
        return ordered

    # --- training services --------------------------------------------------------------------

    @staticmethod
    def trial_keys(platform: str) -> tuple[str, ...]:
        """The platform-specific keys of the v1 ``trial`` section."""
        return {
            'pai': tuple(PAI_TRIAL_KEYS),
            'aml': tuple(AML_TRIAL_KEYS),
            'kubeflow': KUBEFLOW_ROLES,
            'frameworkcontroller': ('taskRoles',),
        }.get(platform, ())

    def service(self, platform: str, trial: Mapping[str, Any], consumed: set[str], v2: dict[str, Any], path: str) -> dict[str, Any]:
        service: dict[str, Any] = {'platform': PLATFORMS[platform]}
        v1 = self.v1
        if platform == 'local':
            section = self.mapping(v1.get('localConfig'), 'localConfig', 'the v1 localConfig section')
            if section is not None:
                self.move(section, 'localConfig', LOCAL_KEYS, service, path)
        elif platform == 'remote':
            section = self.mapping(v1.get('remoteConfig'), 'remoteConfig', 'the v1 remoteConfig section')
            if section is not None:
                self.move(section, 'remoteConfig', REMOTE_KEYS, service, path)
            self.machines(service, path)
        elif platform == 'pai':
            self.move(trial, 'trial', PAI_TRIAL_KEYS, service, path, consumed=consumed, report_unknown=False)
            section = self.mapping(v1.get('paiConfig'), 'paiConfig', 'the v1 paiConfig section')
            if section is not None:
                self.move(section, 'paiConfig', PAI_KEYS, service, path, dropped=DROPPED_KEYS['paiConfig'])
        elif platform == 'aml':
            self.move(trial, 'trial', AML_TRIAL_KEYS, service, path, consumed=consumed, report_unknown=False)
            section = self.mapping(v1.get('amlConfig'), 'amlConfig', 'the v1 amlConfig section')
            if section is not None:
                self.move(section, 'amlConfig', AML_KEYS, service, path)
        elif platform == 'kubeflow':
            self.kubernetes('kubeflowConfig', KUBEFLOW_KEYS, service, path)
            for role in KUBEFLOW_ROLES:
                if role in trial:
                    consumed.add(role)
                    converted = self.role(trial[role], f'trial.{role}', KUBEFLOW_ROLE_KEYS, join_path(path, role))
                    if converted is not None:
                        if trial.get('codeDir') is not None:
                            converted['codeDirectory'] = trial['codeDir']
                            self.origins[join_path(path, f'{role}.codeDirectory')] = 'trial.codeDir'
                        service[role] = converted
        elif platform == 'frameworkcontroller':
            self.kubernetes('frameworkcontrollerConfig', FRAMEWORKCONTROLLER_KEYS, service, path)
            if 'taskRoles' in trial:
                consumed.add('taskRoles')
                service['taskRoles'] = self.task_roles(trial['taskRoles'], join_path(path, 'taskRoles'), v2)
        return service

    def machines(self, service: dict[str, Any], path: str) -> None:
        machines = self.v1.get('machineList')
        if machines is None:
            return  # v2 validation reports the missing machines
        if not isinstance(machines, list):
            self.problems.add('machineList', f'must be a list of machines, got {show(machines)}')
            return
        converted = []
        for index, machine in enumerate(machines):
            item_path = f'machineList[{index}]'
            section = self.mapping(machine, item_path, 'a v1 machine')
            if section is None:
                continue
            target: dict[str, Any] = {}
            self.move(section, item_path, MACHINE_KEYS, target, f'{join_path(path, "machineList")}[{len(converted)}]')
            converted.append(target)
        service['machineList'] = converted
        self.origins[join_path(path, 'machineList')] = 'machineList'

    def kubernetes(self, section_name: str, table: Mapping[str, str], service: dict[str, Any], path: str) -> None:
        section = self.mapping(self.v1.get(section_name), section_name, f'the v1 {section_name} section')
        if section is None:
            return
        self.move(section, section_name, table, service, path, dropped=DROPPED_KEYS['k8s'], handled=_STORAGE_KEYS)
        storage = self.storage(section, section_name, join_path(path, 'storage'))
        if storage is not None:
            service['storage'] = storage
            self.origins.setdefault(join_path(path, 'storage'), section_name)

    def storage(self, section: Mapping[str, Any], section_path: str, target_path: str) -> dict[str, Any] | None:
        kind = section.get('storage')
        if kind is None:
            if 'nfs' in section:
                kind = 'nfs'
            elif 'azureStorage' in section or 'keyVault' in section:
                kind = 'azureStorage'
            else:
                return None  # v2 validation reports the missing storage
        if kind == 'nfs':
            nfs = self.mapping(section.get('nfs'), f'{section_path}.nfs', 'the v1 nfs section') or {}
            result: dict[str, Any] = {'storageType': 'nfs'}
            self.move(nfs, f'{section_path}.nfs', NFS_KEYS, result, target_path)
            return result
        if kind == 'azureStorage':
            result = {'storageType': 'azureStorage'}
            account = self.mapping(section.get('azureStorage'), f'{section_path}.azureStorage', 'the v1 azureStorage section') or {}
            vault = self.mapping(section.get('keyVault'), f'{section_path}.keyVault', 'the v1 keyVault section') or {}
            self.move(account, f'{section_path}.azureStorage', AZURE_STORAGE_KEYS, result, target_path)
            self.move(vault, f'{section_path}.keyVault', KEY_VAULT_KEYS, result, target_path)
            return result
        if kind == 'pvc':
            self.problems.add(f'{section_path}.storage', "pvc storage has no v2 form; use 'nfs' or 'azureStorage'")
        else:
            self.problems.add(f'{section_path}.storage', f"must be 'nfs' or 'azureStorage', got {show(kind)}")
        return None

    def role(self, value: Any, role_path: str, table: Mapping[str, str], target_path: str) -> dict[str, Any] | None:
        section = self.mapping(value, role_path, 'a v1 role section')
        if section is None:
            return None
        result: dict[str, Any] = {}
        self.move(section, role_path, table, result, target_path, dropped=DROPPED_KEYS['role'])
        return result

    def task_roles(self, value: Any, path: str, v2: dict[str, Any]) -> Any:
        if not isinstance(value, list):
            self.problems.add('trial.taskRoles', f'must be a list of task roles, got {show(value)}')
            return value
        roles = []
        for index, item in enumerate(value):
            role_path = f'trial.taskRoles[{index}]'
            section = self.mapping(item, role_path, 'a v1 task role')
            if section is None:
                continue
            target_path = f'{path}[{len(roles)}]'
            result: dict[str, Any] = {}
            self.move(section, role_path, TASK_ROLE_KEYS, result, target_path, dropped=DROPPED_KEYS['role'], handled={'frameworkAttemptCompletionPolicy'})
            policy = self.mapping(
                section.get('frameworkAttemptCompletionPolicy'),
                f'{role_path}.frameworkAttemptCompletionPolicy',
                'a v1 completion policy',
            )
            if policy is not None:
                converted: dict[str, Any] = {}
                policy_path = join_path(target_path, 'frameworkAttemptCompletionPolicy')
                self.move(policy, f'{role_path}.frameworkAttemptCompletionPolicy', POLICY_KEYS, converted, policy_path)
                result['frameworkAttemptCompletionPolicy'] = converted
            if 'trialCommand' not in v2 and isinstance(result.get('command'), str):
                v2['trialCommand'] = result['command']  # as NNI: the experiment shows the first role's command
                self.origins['trialCommand'] = f'{role_path}.command'
            roles.append(result)
        return roles
