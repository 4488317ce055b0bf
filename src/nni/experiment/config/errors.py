"""Exceptions of the experiment config package.

Hierarchy::

    ValueError
     '-- ConfigError               one or more problems in a config, one line per problem
          '-- UnknownFieldError    a config names a field (or platform) that does not exist;
                                   also an AttributeError, as NNI raised one for unknown keys

Every line of a message starts with the camelCase path of the field it is about
(``trainingService.gpuIndices[1]: ...``), so YAML and Python users alike can find it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ['ConfigError', 'UnknownFieldError']


class ConfigError(ValueError):
    """All problems found in a config, reported at once.

    Parameters
    ----------
    problems
        Either ``(path, message)`` pairs, one per problem, or a single ready-made message.

    Attributes
    ----------
    problems : list[tuple[str, str]]
        The ``(path, message)`` pairs; ``path`` is camelCase (``tuner.name``) and may be empty.
    errors : list[str]
        One formatted line per problem, ``"<path>: <message>"``.

    Examples
    --------
    >>> err = ConfigError([('maxTrialNumber', 'must be a positive integer, got -3')])
    >>> str(err)
    'maxTrialNumber: must be a positive integer, got -3'
    """

    def __init__(self, problems: Iterable[tuple[str, str]] | str) -> None:
        if isinstance(problems, str):
            pairs = [('', problems)]
        else:
            pairs = list(problems)
        self.problems: list[tuple[str, str]] = pairs
        self.errors: list[str] = [f'{path}: {message}' if path else message for path, message in pairs]
        super().__init__('\n'.join(self.errors))


class UnknownFieldError(ConfigError, AttributeError):
    """Raised while constructing a config that names fields or platforms that do not exist.

    It is a :class:`ConfigError` (so one ``except ConfigError`` catches every config problem) and an
    :class:`AttributeError` (what NNI raised for unknown keys, so existing handlers keep working).
    """
