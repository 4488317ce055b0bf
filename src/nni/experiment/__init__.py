"""
Launch and control NNI experiments from Python.

Exports :class:`Experiment`, :class:`RunMode`, the config classes of :mod:`nni.experiment.config`
(``ExperimentConfig``, ``AlgorithmConfig``, ``LocalConfig``, ...) and the result classes
:class:`TrialJob`, :class:`TrialMetricData`, :class:`TrialResult`, :class:`TrialHyperParameters`.

Names are resolved on first use: the manager process imports :mod:`nni.experiment.manifest` on every start,
and loading the client and the config package (YAML included) for that would cost start-up time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import *  # noqa: F403
    from .config import ExperimentConfig as ExperimentConfig
    from .data import TrialHyperParameters as TrialHyperParameters
    from .data import TrialJob as TrialJob
    from .data import TrialMetricData as TrialMetricData
    from .data import TrialResult as TrialResult
    from .experiment import Experiment as Experiment
    from .experiment import RunMode as RunMode

_OWN = {
    'Experiment': 'experiment',
    'RunMode': 'experiment',
    'TrialJob': 'data',
    'TrialMetricData': 'data',
    'TrialResult': 'data',
    'TrialHyperParameters': 'data',
}

_SUBMODULES = {'config', 'data', 'experiment', 'launcher', 'management', 'manifest', 'rest'}


def _config_names() -> list[str]:
    config = importlib.import_module('.config', __name__)
    names = getattr(config, '__all__', None)
    if names is None:
        names = [n for n in vars(config) if not n.startswith('_')]
    return list(names)


def __getattr__(name: str) -> Any:
    if name in _OWN:
        value = getattr(importlib.import_module('.' + _OWN[name], __name__), name)
    elif name in _SUBMODULES:
        return importlib.import_module('.' + name, __name__)
    elif name == '__all__':
        value = sorted(set(_OWN) | {'ExperimentConfig'} | set(_config_names()))
    elif not name.startswith('_'):
        config = importlib.import_module('.config', __name__)
        try:
            value = getattr(config, name)
        except AttributeError:
            raise AttributeError(f'module {__name__!r} has no attribute {name!r}') from None
    else:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    names = set(globals()) | set(_OWN) | _SUBMODULES | {'ExperimentConfig'}
    try:
        names |= set(_config_names())
    except ImportError:
        pass
    return sorted(names)
