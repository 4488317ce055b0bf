"""``.nniignore``: files of the trial code directory that are not uploaded to remote machines.

The file sits at the top of the code directory and takes a gitignore-like subset: one glob
pattern per line, ``#`` comments, a trailing ``/`` matches folders only, a leading ``/`` (or any
``/`` inside the pattern) anchors it at the code directory, other patterns match a name at any
depth, ``!pattern`` takes a file back.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path

__all__ = ['load_nniignore']


def _compile(line: str) -> tuple[bool, bool, bool, str] | None:
    pattern = line.strip()
    if not pattern or pattern.startswith('#'):
        return None
    negate = pattern.startswith('!')
    if negate:
        pattern = pattern[1:]
    dir_only = pattern.endswith('/')
    pattern = pattern.rstrip('/')
    anchored = '/' in pattern
    pattern = pattern.lstrip('/')
    if not pattern:
        return None
    return negate, dir_only, anchored, pattern


def load_nniignore(code_dir: str | Path) -> Callable[[str], bool]:
    """A predicate over relative posix paths (folders end with ``/``): True = leave it out.

    ``.nniignore`` itself is never uploaded; without the file nothing else is left out.
    """
    rules = []
    try:
        text = (Path(code_dir) / '.nniignore').read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError):
        text = ''
    for line in text.splitlines():
        rule = _compile(line)
        if rule is not None:
            rules.append(rule)

    def ignored(relative: str) -> bool:
        is_dir = relative.endswith('/')
        path = relative.rstrip('/')
        if path == '.nniignore':
            return True
        name = path.rsplit('/', 1)[-1]
        verdict = False
        for negate, dir_only, anchored, pattern in rules:
            if dir_only and not is_dir:
                continue
            subject = path if anchored else name
            if fnmatch.fnmatchcase(subject, pattern):
                verdict = not negate
        return verdict

    return ignored
