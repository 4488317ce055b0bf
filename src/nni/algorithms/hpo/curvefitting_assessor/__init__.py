"""Curvefitting assessor (``nni.algorithms.hpo.curvefitting_assessor.CurvefittingAssessor``).

A package, as in NNI: ``model_factory.CurveModel`` and ``curvefunctions`` are importable too.
Needs scipy (``pip install nni[bo]``).
"""

from .curvefitting_assessor import CurvefittingAssessor, CurvefittingClassArgsValidator

__all__ = ["CurvefittingAssessor", "CurvefittingClassArgsValidator"]
