"""``LocalConfig``: trials run as processes on this machine (``platform: local``)."""

from __future__ import annotations

import dataclasses

from ..base import ConfigBase
from ..training_service import TrainingServiceConfig
from ..utils.internal import (
    GpuIndicesCheck,
    Problems,
    canonical_gpu_indices,
    checked,
    is_bool,
    is_int,
    is_non_negative_int,
    is_positive_int,
    show,
)

__all__ = ['LocalConfig']


class LocalConfig(TrainingServiceConfig):
    """Run trials on the local machine.

    Parameters
    ----------
    platform
        ``'local'``.
    use_active_gpu
        Whether GPUs already busy with other processes may be used. Must be set explicitly when
        ``trial_gpu_number`` > 0: true on a desktop (the GUI keeps a GPU busy), false when
        several experiments share the machine.
    max_trial_number_per_gpu
        How many trials may share one GPU (only with ``trial_gpu_number`` > 0).
    gpu_indices
        GPUs trials may use: a list of ints, an int, or a string like ``'0,1'``; canonical form
        is a list of ints. None means every GPU.
    reuse_mode
        Run trials in long-lived environments (NNI's "reuse" mode).

    Examples
    --------
    >>> LocalConfig(gpu_indices='0,1', use_active_gpu=False).gpu_indices
    '0,1'
    """

    platform: str = 'local'
    use_active_gpu: bool | None = checked('true or false', is_bool, default=None)
    max_trial_number_per_gpu: int = checked('a positive integer', is_positive_int, default=1)
    gpu_indices: list[int] | int | str | None = dataclasses.field(default=None, metadata={'check': GpuIndicesCheck()})
    reuse_mode: bool = checked('true or false', is_bool, default=False)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        super()._prepare(parents, problems)
        try:
            self.gpu_indices = canonical_gpu_indices(self.gpu_indices)
        except ValueError:
            pass  # the string stays; validation says what is allowed
        # trials of a local experiment reach the manager on loopback; NNI drops the address too
        self.nni_manager_ip = None

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        gpu_number_path = self._field_path('trial_gpu_number', path)
        gpu_number_given = self.trial_gpu_number
        if problems.has(gpu_number_path) or (gpu_number_given is not None and not is_non_negative_int(gpu_number_given)):
            return  # the rules below depend on a valid trialGpuNumber (None counts as 0)
        gpu_number = gpu_number_given or 0
        active_path = self._field_path('use_active_gpu', path)
        per_gpu_path = self._field_path('max_trial_number_per_gpu', path)
        indices_path = self._field_path('gpu_indices', path)
        if gpu_number and self.use_active_gpu is None and not problems.has(active_path):
            problems.add(
                active_path,
                f'not set, must be true or false when trialGpuNumber is {gpu_number}: true if this machine '
                'has a GUI (it keeps a GPU busy), false if several experiments share the machine',
            )
        per_gpu = self.max_trial_number_per_gpu
        if not gpu_number and is_int(per_gpu) and per_gpu != 1 and not problems.has(per_gpu_path):
            problems.add(per_gpu_path, f'must be 1 unless trialGpuNumber > 0 (trials without GPUs share none), got {show(per_gpu)}')
        indices = self.gpu_indices
        if gpu_number and isinstance(indices, list) and not problems.has(indices_path) and len(indices) < gpu_number:
            problems.add(
                indices_path,
                f'must list at least trialGpuNumber ({gpu_number}) GPUs or no trial can start, got {show(indices)}',
            )
