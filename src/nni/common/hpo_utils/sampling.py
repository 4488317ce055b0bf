"""Random sampling of formatted search spaces (uniform prior over every parameter).

Values are drawn in internal space: option indices for categorical parameters, log space for log
types, before q-rounding. Needs numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formatting import FormattedParameters, FormattedSearchSpace, ParameterSpec

if TYPE_CHECKING:
    import numpy as np

__all__ = ["sample_parameters", "sample_spec"]


def sample_spec(spec: ParameterSpec, rng: np.random.Generator) -> Any:
    """Draw one formatted value of ``spec`` from its prior.

    Parameters
    ----------
    spec
        A parameter of a formatted search space.
    rng
        Source of randomness.

    Returns
    -------
    int or float
        A Python ``int`` index for categorical parameters (``randint`` included), else a ``float``.
    """
    if spec.categorical:
        if not spec.size:
            raise ValueError(f"{spec.name}: {spec.type} has no values to choose from: {spec.values!r}")
        return int(rng.integers(spec.size))
    if spec.normal_distributed:
        return float(rng.normal(spec.mu, spec.sigma))
    return float(rng.uniform(spec.low, spec.high))


def sample_parameters(space: FormattedSearchSpace, rng: np.random.Generator) -> FormattedParameters:
    """Draw one formatted parameter set: every active parameter, parents first.

    Parameters
    ----------
    space
        A formatted search space.
    rng
        Source of randomness.

    Returns
    -------
    dict
        ``key -> value`` for the parameters that are active given the choices drawn.
    """
    params: FormattedParameters = {}
    for key, spec in space.items():
        if spec.is_activated_in(params):
            params[key] = sample_spec(spec, rng)
    return params
