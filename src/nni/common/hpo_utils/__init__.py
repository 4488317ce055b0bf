"""Search-space utilities shared by the builtin tuners and by config validation.

* :func:`validate_search_space`: checks a user's search space, naming the bad parameter's path.
* :func:`format_search_space` / :func:`deformat_parameters` / :func:`format_parameters`: the flat,
  ordered internal representation with nested choices (see :mod:`.formatting`).
* :class:`Deduplicator`: never give out the same parameter set twice.
* :func:`sample_parameters` / :func:`sample_spec`: random draws from a ``numpy.random.Generator``
  the caller passes in (nothing here imports numpy).
"""

from __future__ import annotations

from .dedup import Deduplicator
from .formatting import (
    FormattedParameters,
    FormattedSearchSpace,
    ParameterKey,
    ParameterSpec,
    deformat_parameters,
    deformat_value,
    format_parameters,
    format_search_space,
    is_nested_choice,
)
from .sampling import sample_parameters, sample_spec
from .validation import ALL_TYPES, NAS_TYPES, SearchSpaceError, search_space_errors, validate_search_space

__all__ = [
    "ALL_TYPES",
    "NAS_TYPES",
    "Deduplicator",
    "FormattedParameters",
    "FormattedSearchSpace",
    "ParameterKey",
    "ParameterSpec",
    "SearchSpaceError",
    "deformat_parameters",
    "deformat_value",
    "format_parameters",
    "format_search_space",
    "is_nested_choice",
    "sample_parameters",
    "sample_spec",
    "search_space_errors",
    "validate_search_space",
]
