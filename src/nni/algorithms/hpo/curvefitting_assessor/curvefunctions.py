"""The twelve parametric learning-curve families of Domhan et al. (2015), as numpy functions.

Each family is ``f(x, *params)`` with ``x`` the 1-based step. ``CURVE_FAMILIES`` maps a name to its
function, parameter names and starting parameters (the same starting points as NNI's table, which
its tests rely on). Values outside a family's domain come out as ``nan``/``inf``; the caller drops
such fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["CURVE_FAMILIES", "CurveFamily", "MODEL_NAMES"]


class CurveFamily(NamedTuple):
    """One parametric learning-curve model."""

    function: Callable[..., np.ndarray]
    parameter_names: tuple[str, ...]
    initial: tuple[float, ...]


def vap(x, a, b, c):
    """Vapor pressure: ``exp(a + b / x + c ln x)``."""
    return np.exp(a + b / x + c * np.log(x))


def pow3(x, c, a, alpha):
    """``c - a x^-alpha``."""
    return c - a * x ** (-alpha)


def linear(x, a, b):
    """``a x + b``."""
    return a * x + b


def logx_linear(x, a, b):
    """``a ln x + b``."""
    return a * np.log(x) + b


def dr_hill_zero_background(x, theta, eta, kappa):
    """Hill equation without background: ``theta x^eta / (kappa^eta + x^eta)``."""
    return theta * x ** eta / (kappa ** eta + x ** eta)


def log_power(x, a, b, c):
    """``a / (1 + (x / e^b)^c)``."""
    return a / (1.0 + (x / np.exp(b)) ** c)


def pow4(x, alpha, a, b, c):
    """``c - (a x + b)^-alpha``."""
    return c - (a * x + b) ** (-alpha)


def mmf(x, alpha, beta, kappa, delta):
    """Morgan-Mercer-Flodin: ``alpha - (alpha - beta) / (1 + (kappa x)^delta)``."""
    return alpha - (alpha - beta) / (1.0 + (kappa * x) ** delta)


def exp4(x, c, a, b, alpha):
    """``c - exp(-a x^alpha + b)``."""
    return c - np.exp(-a * x ** alpha + b)


def ilog2(x, c, a):
    """``c - a / ln x`` (undefined at x = 1)."""
    return c - a / np.log(x)


def weibull(x, alpha, beta, kappa, delta):
    """``alpha - (alpha - beta) exp(-(kappa x)^delta)``."""
    return alpha - (alpha - beta) * np.exp(-(kappa * x) ** delta)


def janoschek(x, a, beta, k, delta):
    """``a - (a - beta) exp(-k x^delta)``."""
    return a - (a - beta) * np.exp(-k * x ** delta)


CURVE_FAMILIES: dict[str, CurveFamily] = {
    "vap": CurveFamily(vap, ("a", "b", "c"), (-0.622028, -0.470050, 0.042322)),
    "pow3": CurveFamily(pow3, ("c", "a", "alpha"), (0.84, 0.52, 0.01)),
    "linear": CurveFamily(linear, ("a", "b"), (1.0, 0.0)),
    "logx_linear": CurveFamily(logx_linear, ("a", "b"), (0.378106, 0.046506)),
    "dr_hill_zero_background": CurveFamily(dr_hill_zero_background, ("theta", "eta", "kappa"),
                                           (0.772320, 0.586449, 2.460843)),
    "log_power": CurveFamily(log_power, ("a", "b", "c"), (0.77, 2.98, -0.51)),
    "pow4": CurveFamily(pow4, ("alpha", "a", "b", "c"), (0.1, 200.0, 0.0, 0.8)),
    "mmf": CurveFamily(mmf, ("alpha", "beta", "kappa", "delta"), (0.7, 0.1, 0.01, 5.0)),
    "exp4": CurveFamily(exp4, ("c", "a", "b", "alpha"), (0.7, 0.8, -0.8, 0.3)),
    "ilog2": CurveFamily(ilog2, ("c", "a"), (0.78, 0.43)),
    "weibull": CurveFamily(weibull, ("alpha", "beta", "kappa", "delta"), (0.7, 0.1, 0.01, 1.0)),
    "janoschek": CurveFamily(janoschek, ("a", "beta", "k", "delta"), (0.73, 0.07, 0.355, 0.46)),
}

#: Family names in NNI's order.
MODEL_NAMES: tuple[str, ...] = tuple(CURVE_FAMILIES)
