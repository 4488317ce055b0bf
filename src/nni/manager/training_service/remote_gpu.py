"""GPU inventory of remote machines: ``nvidia-smi`` over SSH, or a fake inventory in tests.

``NNI_FAKE_REMOTE_GPU_INVENTORY`` (a stand-in for GPUs CI does not have) is a JSON object from
``"host:port"`` (or ``"host"``, or ``"*"`` for every machine) to a list of GPU indices or of
objects ``{"index": 0, "busy": false}``, as ``NNI_FAKE_GPU_INVENTORY`` of the local service.
"""

from __future__ import annotations

import json
import os

from .gpu import GpuAllocator, _fake_inventory
from .remote_scripts import GPU_SEPARATOR

__all__ = ['FAKE_REMOTE_INVENTORY_ENV', 'RemoteGpuAllocator', 'fake_remote_inventory', 'parse_gpu_query']

FAKE_REMOTE_INVENTORY_ENV = 'NNI_FAKE_REMOTE_GPU_INVENTORY'


def fake_remote_inventory(host: str, port: int) -> list[tuple[int, bool]] | None:
    """The fake inventory of ``host:port`` from the environment; ``None`` when none is set."""
    text = os.environ.get(FAKE_REMOTE_INVENTORY_ENV)
    if not text:
        return None
    table = json.loads(text)
    for key in (f'{host}:{port}', host, '*'):
        if key in table:
            return _fake_inventory(json.dumps(table[key]))
    return []


def parse_gpu_query(output: str) -> list[tuple[int, bool]]:
    """(index, busy) pairs from the output of :data:`remote_scripts.GPU_QUERY`."""
    listing, _, busy_part = output.partition(GPU_SEPARATOR)
    busy = {line.strip() for line in busy_part.splitlines() if line.strip()}
    gpus = []
    for line in listing.splitlines():
        parts = [part.strip() for part in line.split(',')]
        if len(parts) >= 2 and parts[0].isdigit():
            gpus.append((int(parts[0]), parts[1] in busy))
    return gpus


class RemoteGpuAllocator(GpuAllocator):
    """:class:`GpuAllocator` of one remote machine, fed an inventory read over SSH."""

    def apply_inventory(self, gpus: list[tuple[int, bool]]) -> None:
        usable = [index for index, busy in gpus if self._use_active or not busy]
        if self._allowed is not None:
            usable = [index for index in usable if index in self._allowed]
        self._available = sorted(usable)

    def take(self, gpus: list[int]) -> None:
        """Count ``gpus`` as used (a reattached trial keeps the GPUs it had)."""
        for index in gpus:
            self._in_use[index] += 1
