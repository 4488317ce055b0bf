"""NNI's ``nni.tools.nnictl.updater.load_imported_data``: the JSON text ``nnictl experiment import`` posts."""

from __future__ import annotations

import json

from .common_utils import get_json_content

__all__ = ['load_imported_data']


def load_imported_data(path: str) -> str:
    """Read a file of ``[{"parameter": {...}, "value": ...}, ...]`` records and return it as JSON text.

    Raises
    ------
    ValueError
        The file holds no data.
    """
    content = get_json_content(path)
    if not content:
        raise ValueError(f'Imported data should not be empty (file {path})')
    return json.dumps(content)
