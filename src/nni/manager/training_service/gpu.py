"""GPU inventory and assignment for trials on one machine.

The assignment ends in ``CUDA_VISIBLE_DEVICES``. The inventory comes from ``nvidia-smi``; tests
inject one through ``NNI_FAKE_GPU_INVENTORY`` (a JSON list of GPU indices, or of objects
``{"index": 0, "busy": false}``), a stand-in for hardware CI does not have.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections import Counter

_logger = logging.getLogger('nni.manager.gpu')

FAKE_INVENTORY_ENV = 'NNI_FAKE_GPU_INVENTORY'


def _query_nvidia_smi() -> list[tuple[int, bool]]:
    """(index, busy-with-someone-else's-process) for every GPU nvidia-smi sees."""
    if shutil.which('nvidia-smi') is None:
        return []
    try:
        listing = subprocess.run(
            ['nvidia-smi', '--query-gpu=index,uuid', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=20, check=True).stdout
        apps = subprocess.run(
            ['nvidia-smi', '--query-compute-apps=gpu_uuid', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError) as error:
        _logger.warning('nvidia-smi failed, assuming no GPU: %s', error)
        return []
    busy_uuids = {line.strip() for line in apps.splitlines() if line.strip()}
    gpus = []
    for line in listing.splitlines():
        parts = [part.strip() for part in line.split(',')]
        if len(parts) >= 2 and parts[0].isdigit():
            gpus.append((int(parts[0]), parts[1] in busy_uuids))
    return gpus


def _fake_inventory(text: str) -> list[tuple[int, bool]]:
    entries = json.loads(text)
    gpus = []
    for entry in entries:
        if isinstance(entry, dict):
            gpus.append((int(entry['index']), bool(entry.get('busy', False))))
        else:
            gpus.append((int(entry), False))
    return gpus


class GpuAllocator:
    """Hands out GPU indices to trials, honouring the local config's GPU fields."""

    def __init__(self, gpu_indices: list[int] | None, max_trials_per_gpu: int, use_active_gpu: bool) -> None:
        self._allowed = None if gpu_indices is None else list(gpu_indices)
        self._max_per_gpu = max(1, max_trials_per_gpu)
        self._use_active = use_active_gpu
        self._available: list[int] = []
        self._in_use: Counter[int] = Counter()

    def detect(self) -> None:
        """Read the inventory once (at experiment start)."""
        fake = os.environ.get(FAKE_INVENTORY_ENV)
        gpus = _fake_inventory(fake) if fake else _query_nvidia_smi()
        usable = [index for index, busy in gpus if self._use_active or not busy]
        if self._allowed is not None:
            usable = [index for index in usable if index in self._allowed]
        self._available = sorted(usable)
        _logger.info('GPUs available to trials: %s', self._available)

    @property
    def available(self) -> list[int]:
        return list(self._available)

    def check_request(self, gpu_number: int) -> str | None:
        """Why a trial needing ``gpu_number`` GPUs can never run here, or ``None``."""
        if gpu_number > len(self._available):
            return (f'trialGpuNumber is {gpu_number} but only {len(self._available)} GPU(s) are usable '
                    f'on this machine ({self._available}); lower trialGpuNumber or check gpuIndices/useActiveGpu')
        return None

    def _free(self) -> list[int]:
        return [index for index in self._available if self._in_use[index] < self._max_per_gpu]

    def can_allocate(self, gpu_number: int) -> bool:
        return len(self._free()) >= gpu_number

    def allocate(self, gpu_number: int) -> list[int]:
        # least-loaded GPUs first so trials spread out
        free = sorted(self._free(), key=lambda index: (self._in_use[index], index))
        if len(free) < gpu_number:
            raise RuntimeError(f'{gpu_number} GPU(s) requested but only {len(free)} free')
        chosen = sorted(free[:gpu_number])
        for index in chosen:
            self._in_use[index] += 1
        return chosen

    def release(self, gpus: list[int]) -> None:
        for index in gpus:
            if self._in_use[index] > 0:
                self._in_use[index] -= 1
