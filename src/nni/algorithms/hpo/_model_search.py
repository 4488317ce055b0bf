"""Search of the unit cube for the best point of an acquisition function, and the acquisitions.

Shared by GP, Metis, SMAC and DNGO. :func:`maximize` evaluates ``n_random`` uniform points (plus
seed points such as the best observations), then refines the best ``n_starts`` of them by rounds
of local moves with a shrinking step, all in batches (a model predicts thousands of points at
once far faster than one at a time, which is what an optimizer from scipy would ask for), and
finally ranks the snapped (legal) versions of what it found.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._unit_space import UnitSpace

__all__ = ["expected_improvement", "maximize", "probability_of_improvement", "upper_confidence_bound"]

Score = Callable[[np.ndarray], np.ndarray]

_CHUNK = 8192
_ROUNDS = 6
_MOVES_PER_ROUND = 8
_FIRST_STEP = 0.15


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement over ``best`` when maximizing; ``xi`` asks for at least that much more."""
    std = np.maximum(std, 1e-12)
    gain = mean - best - xi
    z = gain / std
    return gain * _normal_cdf(z) + std * _normal_pdf(z)


def probability_of_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """Probability that a point beats ``best`` by ``xi`` when maximizing."""
    return _normal_cdf((mean - best - xi) / np.maximum(std, 1e-12))


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, kappa: float) -> np.ndarray:
    """``mean + kappa * std``."""
    return mean + kappa * std


def _evaluate(score: Score, points: np.ndarray) -> np.ndarray:
    if len(points) <= _CHUNK:
        return np.asarray(score(points), dtype=float)
    return np.concatenate([np.asarray(score(points[i:i + _CHUNK]), dtype=float)
                           for i in range(0, len(points), _CHUNK)])


def maximize(
    score: Score,
    space: UnitSpace,
    rng: np.random.Generator,
    *,
    n_random: int,
    n_starts: int,
    seeds: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Find high-scoring legal points.

    Parameters
    ----------
    score
        Maps an ``(m, d)`` array of points to ``m`` scores (higher is better); called in batches.
    space
        The unit space (for moves and snapping).
    rng
        Source of randomness.
    n_random
        Uniform points evaluated first.
    n_starts
        How many of the best points found are refined by local moves.
    seeds
        Extra points to consider and refine from (for instance the best observations).

    Returns
    -------
    points, scores
        Distinct snapped points, best first, with their scores.
    """
    pool = [space.sample(rng, max(n_random, 1))]
    if seeds is not None and len(seeds):
        pool.append(np.atleast_2d(seeds))
    points = np.vstack(pool)
    values = _evaluate(score, points)
    order = np.argsort(-values, kind="stable")
    starts = points[order[:max(n_starts, 1)]]
    start_values = values[order[:max(n_starts, 1)]]
    if seeds is not None and len(seeds) and n_starts > 0:
        # always refine around the seeds too, even when random points scored higher
        seed_values = _evaluate(score, np.atleast_2d(seeds))
        starts = np.vstack([starts, np.atleast_2d(seeds)])
        start_values = np.concatenate([start_values, seed_values])
    step = _FIRST_STEP
    for _ in range(_ROUNDS if n_starts > 0 else 0):
        moves = np.repeat(starts, _MOVES_PER_ROUND, axis=0)
        moves = space.perturb(moves, step, rng)
        move_values = _evaluate(score, moves).reshape(len(starts), _MOVES_PER_ROUND)
        best_move = move_values.argmax(axis=1)
        best_value = move_values[np.arange(len(starts)), best_move]
        better = best_value > start_values
        chosen = moves.reshape(len(starts), _MOVES_PER_ROUND, -1)[np.arange(len(starts)), best_move]
        starts = np.where(better[:, None], chosen, starts)
        start_values = np.where(better, best_value, start_values)
        step *= 0.5
    finalists = np.vstack([starts, points[order[:max(n_starts, 1)]]])
    snapped = space.snap(finalists)
    snapped = np.unique(np.round(snapped, 12), axis=0)
    snapped_values = _evaluate(score, snapped)
    rank = np.argsort(-snapped_values, kind="stable")
    return snapped[rank], snapped_values[rank]
