"""The unit cube the model-based tuners (GP, Metis, SMAC, DNGO) search in.

Each parameter of a flat formatted search space becomes one coordinate in [0, 1]:

* ``uniform`` / ``loguniform`` and their q forms: the position between the bounds in internal
  space, so log types are modelled on a log scale (NNI's GP models them on a linear one);
* ``randint``: the middle of the option's cell, ``(index + 0.5) / size``;
* a ``choice`` of numbers: the option's position between the smallest and largest option, so the
  model sees real distances (NNI's GP uses the raw number, unscaled);
* any other ``choice`` (SMAC only): the middle of the option's cell, flagged as unordered, so local
  search jumps between options instead of stepping.

:meth:`UnitSpace.snap` maps any point to the nearest legal configuration (q-rounding, clipping,
nearest option), so models only ever see points a trial could have run.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from nni.common.hpo_utils import FormattedParameters, FormattedSearchSpace, ParameterSpec, deformat_value

__all__ = ["UnitSpace"]

_CONTINUOUS, _QUANTIZED, _CELL, _ORDERED_CHOICE, _CATEGORY = range(5)


class UnitSpace:
    """Encode formatted parameters of a flat space as points of [0, 1]^d, and back.

    Parameters
    ----------
    space
        A formatted search space without nested choices and without the normal family.
    """

    def __init__(self, space: FormattedSearchSpace) -> None:
        self.specs: list[ParameterSpec] = list(space.values())
        self.keys = list(space)
        self.dim = len(self.specs)
        self._kinds: list[int] = []
        self._positions: list[np.ndarray | None] = []  # ordered choice: position of each option
        for spec in self.specs:
            positions = None
            if spec.type == "choice":
                if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec.values):
                    kind = _ORDERED_CHOICE
                    values = np.asarray([float(v) for v in spec.values])
                    span = values.max() - values.min()
                    positions = (values - values.min()) / span if span > 0 else np.full(len(values), 0.5)
                else:
                    kind = _CATEGORY
            elif spec.type == "randint":
                kind = _CELL
            elif spec.normal_distributed:
                raise ValueError(f"{spec.name}: {spec.type} cannot be mapped to a bounded interval")
            else:
                kind = _QUANTIZED if spec.q is not None else _CONTINUOUS
            self._kinds.append(kind)
            self._positions.append(positions)
        #: coordinates whose order means nothing (non-numeric choices)
        self.unordered = np.asarray([kind == _CATEGORY for kind in self._kinds], dtype=bool)

    # -- encoding ---------------------------------------------------------------------------------

    def encode(self, params: FormattedParameters) -> np.ndarray:
        """Return the point of formatted parameters."""
        return np.asarray([self._encode_one(i, params[key]) for i, key in enumerate(self.keys)], dtype=float)

    def _encode_one(self, i: int, value: Any) -> float:
        spec, kind = self.specs[i], self._kinds[i]
        if kind in (_CELL, _CATEGORY):
            return (int(value) + 0.5) / max(int(spec.size or 1), 1)
        if kind == _ORDERED_CHOICE:
            positions = self._positions[i]
            assert positions is not None
            return float(positions[int(value)])
        low, high = float(spec.low), float(spec.high)  # type: ignore[arg-type]
        if high <= low:
            return 0.5
        return float(min(max((float(value) - low) / (high - low), 0.0), 1.0))

    def decode(self, point: np.ndarray) -> FormattedParameters:
        """Return the legal formatted parameters nearest to ``point`` (coordinates clipped to [0, 1])."""
        point = np.clip(np.asarray(point, dtype=float), 0.0, 1.0)
        return {key: self._decode_one(i, float(point[i])) for i, key in enumerate(self.keys)}

    def _decode_one(self, i: int, u: float) -> Any:
        spec, kind = self.specs[i], self._kinds[i]
        if kind in (_CELL, _CATEGORY):
            size = max(int(spec.size or 1), 1)
            return min(int(u * size), size - 1)
        if kind == _ORDERED_CHOICE:
            positions = self._positions[i]
            assert positions is not None
            return int(np.argmin(np.abs(positions - u)))  # first of equal options
        low, high = float(spec.low), float(spec.high)  # type: ignore[arg-type]
        x = low + u * (high - low)
        if kind == _QUANTIZED:
            # round in the user's units, then back to internal space, so format/deformat agree
            user = deformat_value(spec, x)
            x = math.log(user) if spec.log_distributed else user
            x = min(max(x, low), high)
        return x

    def snap(self, points: np.ndarray) -> np.ndarray:
        """Map each row of ``points`` to its nearest legal point."""
        points = np.atleast_2d(points)
        return np.asarray([self.encode(self.decode(row)) for row in points])

    # -- sampling and moves -----------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Draw ``count`` uniform points (not snapped)."""
        return rng.random((count, self.dim))

    def perturb(self, points: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
        """Move each row a little: a normal step of ``scale`` on ordered coordinates, and a jump to a
        random option with probability ``scale`` on unordered ones. Results stay in [0, 1]."""
        points = np.atleast_2d(points)
        moved = points + rng.normal(0.0, scale, points.shape)
        if self.unordered.any():
            jump = (rng.random(points.shape) < scale) & self.unordered
            moved = np.where(jump, rng.random(points.shape), np.where(self.unordered, points, moved))
        # reflect at the bounds so points do not pile up on them
        moved = np.abs(moved)
        moved = 1.0 - np.abs(1.0 - moved)
        return np.clip(moved, 0.0, 1.0)
