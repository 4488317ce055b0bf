"""
NNI annotation: a search space written as string comments in trial code.

.. code-block:: python

    \"\"\"@nni.variable(nni.choice(50, 250, 500), name=batch_size)\"\"\"
    batch_size = 128
    ...
    \"\"\"@nni.report_final_result(test_acc)\"\"\"

The strings are no-ops for Python, so the file still runs on its own. For an experiment with
``useAnnotation: true``, ``nnictl create`` copies the trial code directory, rewrites the annotated modules
(:func:`expand_annotations`) and uses the search space they define; ``nnictl ss_gen`` prints that space
(:func:`generate_search_space`).

Parameter names are the ``name=`` of each annotation. The same name in several places must describe the
same distribution (then they share one value).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .code_dir import expand_annotations as expand_annotations
    from .code_dir import generate_search_space as generate_search_space
    from .specs import AnnotationError as AnnotationError

__all__ = ['AnnotationError', 'expand_annotations', 'generate_search_space']

# Trials import nni.tools.annotation.runtime, which must stay cheap: the rewriting machinery (ast, shutil,
# tokenize) loads only when one of these names is used.
_LAZY = {'AnnotationError': 'specs', 'expand_annotations': 'code_dir', 'generate_search_space': 'code_dir'}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{module}', __name__), name)
    globals()[name] = value
    return value
