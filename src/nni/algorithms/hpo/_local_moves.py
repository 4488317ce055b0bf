"""Local moves in a formatted search space, shared by the Anneal and Evolution tuners.

Both search near configurations that did well: they copy a parent's formatted values and move some
of them a little. "A little" is a ``scale`` in (0, 1], a fraction of each parameter's range.
:func:`move` steps:

* numbers: a normal step of ``scale`` times the range (the prior's standard deviation for the
  normal family), reflected back into the bounds, in internal space (so log types move by a factor);
  for q types the step is at least about one quantum, otherwise rounding would undo it;
* ``randint``: the same on the option index, since the values are ordered integers;
* ``choice`` (nested or not): a different option, drawn uniformly; its order means nothing.

:func:`window_draw` instead draws a bounded continuous number uniformly from a window of that
share of the range around the value (Anneal).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nni.common.hpo_utils import FormattedParameters, FormattedSearchSpace, ParameterSpec, sample_spec

__all__ = ["build_child", "has_window", "move", "window_draw"]


def move(spec: ParameterSpec, value: Any, scale: float, rng: np.random.Generator, force: bool = True) -> Any:
    """Return a value of ``spec`` near ``value`` (a formatted value), ``scale`` in (0, 1].

    With ``force``, a ``randint`` moves by at least one step (a choice always changes).
    """
    if spec.categorical:
        size = int(spec.size or 0)
        if size <= 1:
            return value
        if spec.type == "randint":
            raw = rng.normal(0.0, max(scale * size, 0.5))
            step = round(raw)
            if force and step == 0:
                step = 1 if raw >= 0 else -1  # a move that rounds back to the same integer is wasted
            return int(_reflect(int(value) + step, 0, size - 1))
        other = int(rng.integers(size - 1))
        return other + 1 if other >= int(value) else other
    if spec.normal_distributed:
        width = float(spec.sigma or 0.0)
        step = rng.normal(0.0, max(scale * width, _quantum(spec, value)))
        return float(value) + step
    low, high = float(spec.low or 0.0), float(spec.high or 0.0)
    if not high > low:
        return low
    sigma = max(scale * (high - low), _quantum(spec, value))
    return float(_reflect(float(value) + rng.normal(0.0, sigma), low, high))


def has_window(spec: ParameterSpec) -> bool:
    """Whether :func:`window_draw` applies: a bounded, continuous number (no q, not normal)."""
    return (
        not spec.categorical
        and not spec.normal_distributed
        and spec.q is None
        and spec.low is not None
        and spec.high is not None
        and float(spec.high) > float(spec.low)
    )


def window_draw(spec: ParameterSpec, value: Any, scale: float, rng: np.random.Generator) -> float:
    """A uniform draw from a window of ``scale`` times the range around ``value``.

    The window is shifted to lie inside the bounds rather than cut by them, so a value near a bound
    is not pulled back towards it more often than elsewhere. For :func:`has_window` specs only.
    """
    low, high = float(spec.low), float(spec.high)  # type: ignore[arg-type]
    half = 0.5 * min(scale, 1.0) * (high - low)
    middle = min(max(float(value), low + half), high - half)
    return float(rng.uniform(middle - half, middle + half))


def _quantum(spec: ParameterSpec, value: Any) -> float:
    # Size of one q step in internal space near value (half of it: enough to change the rounding
    # about half of the time, without jumping over neighbours).
    if spec.q is None:
        return 0.0
    if spec.log_distributed:
        magnitude = math.exp(min(float(value), 700.0))
        return 0.5 * spec.q / max(magnitude, 1e-300)
    return 0.5 * spec.q


def _reflect(x: float, low: float, high: float) -> float:
    # Bounce off the bounds rather than clip: clipping would pile mass on the edges.
    width = high - low
    if width <= 0:
        return low
    offset = (x - low) % (2 * width)
    return low + (offset if offset <= width else 2 * width - offset)


def build_child(
    space: FormattedSearchSpace,
    parent: FormattedParameters,
    rng: np.random.Generator,
    change: Callable[[ParameterSpec, Any], Any | None],
    donor: Callable[[ParameterSpec], Any | None] | None = None,
) -> FormattedParameters:
    """Make a configuration from ``parent``, parameter by parameter, parents before children.

    Parameters
    ----------
    space
        The formatted search space.
    parent
        Formatted values to start from (may miss keys, e.g. of another nested branch).
    rng
        Source of randomness for parameters nobody provides.
    change
        ``change(spec, parent_value)`` returns a new value, or ``None`` to keep the parent's.
    donor
        For a parameter the parent lacks: ``donor(spec)`` returns a value to use (from another
        configuration), or ``None`` to draw one from the prior.

    Returns
    -------
    dict
        Formatted values of exactly the active parameters.
    """
    child: FormattedParameters = {}
    for key, spec in space.items():
        if not spec.is_activated_in(child):
            continue
        if key in parent:
            value = change(spec, parent[key])
            child[key] = parent[key] if value is None else value
            continue
        borrowed = donor(spec) if donor is not None else None
        child[key] = sample_spec(spec, rng) if borrowed is None else borrowed
    return child
