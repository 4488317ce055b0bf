"""NNI: hyper-parameter optimization.

``import nni`` in trial code loads only this module and :mod:`nni.trial`; everything else (the
channel to the manager, JSON, HTTP, logging, ``nni.Experiment``, ...) is imported when first used.
"""

from __future__ import annotations

import os as _os

__version__ = '3.0.0'

# The tuner/assessor process (SDK_PROCESS=dispatcher) gets no trial API, as in NNI, so that
# algorithm code cannot mistake itself for a trial.
if _os.environ.get('SDK_PROCESS') != 'dispatcher':
    from nni.trial import (
        get_current_parameter,
        get_experiment_id,
        get_next_parameter,
        get_next_parameters,
        get_parameters,
        get_sequence_id,
        get_trial_id,
        report_final_result,
        report_intermediate_result,
    )

    __all__ = [
        'get_next_parameter',
        'get_next_parameters',
        'get_parameters',
        'get_current_parameter',
        'report_intermediate_result',
        'report_final_result',
        'get_experiment_id',
        'get_trial_id',
        'get_sequence_id',
        'NoMoreTrialError',
    ]
else:
    __all__ = ['NoMoreTrialError']

# Public names resolved on first access: name -> (module, attribute).
_LAZY_ATTRIBUTES = {
    'NoMoreTrialError': ('nni._errors', 'NoMoreTrialError'),
    'dump': ('nni.runtime.serialization', 'dump'),
    'load': ('nni.runtime.serialization', 'load'),
    'trace': ('nni.runtime.serialization', 'trace'),
    'Experiment': ('nni.experiment', 'Experiment'),
    'ClassArgsValidator': ('nni.utils', 'ClassArgsValidator'),
}


def __getattr__(name: str) -> object:
    import importlib

    target = _LAZY_ATTRIBUTES.get(name)
    if target is not None:
        module_name, attribute = target
        try:
            value = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise AttributeError(f"module 'nni' has no attribute {name!r} ({module_name}: {exc})") from exc
        globals()[name] = value  # later accesses skip this function
        return value
    if not name.startswith('_'):
        # ``nni.experiment`` etc. work without an explicit ``import nni.experiment``, as they do in NNI
        # (whose __init__ imports them eagerly).
        try:
            return importlib.import_module(f'{__name__}.{name}')
        except ModuleNotFoundError as exc:
            if exc.name != f'{__name__}.{name}':
                raise
    raise AttributeError(f"module 'nni' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_ATTRIBUTES))
