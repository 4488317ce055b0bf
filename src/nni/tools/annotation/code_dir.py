"""Copy a trial code directory with its annotated modules rewritten; collect the search space."""

from __future__ import annotations

import os
import shutil
import tokenize
from pathlib import Path
from typing import Any

from .rewriter import ModuleResult, has_annotations, rewrite_module
from .specs import AnnotationError

__all__ = ['expand_annotations', 'generate_search_space']

# Folders never copied nor scanned: version control, caches, virtual environments.
_SKIPPED_DIRS = {'__pycache__', 'node_modules', 'venv', '.venv'}


def _skip_dir(name: str) -> bool:
    return name.startswith('.') or name in _SKIPPED_DIRS


def _read_source(path: Path) -> str | None:
    try:
        with tokenize.open(path) as handle:  # honours PEP 263 coding cookies
            return handle.read()
    except (SyntaxError, UnicodeDecodeError, OSError):
        return None


class _SearchSpace:
    def __init__(self) -> None:
        self.space: dict[str, dict[str, Any]] = {}
        self.origin: dict[str, str] = {}

    def merge(self, relative: str, result: ModuleResult) -> None:
        for name, (spec, lineno) in result.parameters.items():
            where = f'{relative}:{lineno}'
            if name in self.space and self.space[name] != spec:
                raise AnnotationError(f'parameter {name!r} is annotated with different values here and at '
                                      f'{self.origin[name]}', relative, lineno)
            self.space.setdefault(name, spec)
            self.origin.setdefault(name, where)


def _walk(code_dir: Path, exclude: Path | None) -> Any:
    for folder, dirnames, filenames in os.walk(code_dir):
        current = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(d)
                             and not (exclude is not None and _inside(current / d, exclude)))
        yield current, dirnames, sorted(filenames)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def generate_search_space(code_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """
    The search space defined by the annotations of every ``.py`` file under ``code_dir``.

    Parameters
    ----------
    code_dir
        Trial code directory (hidden folders and ``__pycache__`` are skipped).

    Returns
    -------
    dict
        Parameter name -> ``{"_type": ..., "_value": [...]}``, in file then line order; empty if the code has
        no annotation.

    Raises
    ------
    AnnotationError
        A bad annotation (the message names the file and line).
    """
    root = Path(code_dir)
    if not root.is_dir():
        raise AnnotationError(f'code directory {root} does not exist')
    space = _SearchSpace()
    for folder, _, filenames in _walk(root, None):
        for filename in filenames:
            if filename.endswith('.py'):
                _scan(folder / filename, root, space)
    return space.space


def _scan(path: Path, root: Path, space: _SearchSpace) -> ModuleResult | None:
    source = _read_source(path)
    if source is None or not has_annotations(source):
        return None
    relative = path.relative_to(root).as_posix()
    result = rewrite_module(source, relative)
    if result is not None:
        space.merge(relative, result)
    return result


def expand_annotations(code_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """
    Copy ``code_dir`` to ``output_dir`` with every annotated module rewritten, and return the search space.

    Parameters
    ----------
    code_dir
        Trial code directory.
    output_dir
        Destination; created (it may exist and be empty). When it lies inside ``code_dir`` it is not copied
        into itself.

    Returns
    -------
    dict
        The search space, as :func:`generate_search_space`.

    Raises
    ------
    AnnotationError
        A bad annotation; nothing useful is left in ``output_dir`` then.
    OSError
        Copy failures.
    """
    root = Path(code_dir)
    if not root.is_dir():
        raise AnnotationError(f'code directory {root} does not exist')
    destination = Path(output_dir)
    destination.mkdir(parents=True, exist_ok=True)
    space = _SearchSpace()
    for folder, dirnames, filenames in _walk(root, destination):
        target_folder = destination / folder.relative_to(root)
        target_folder.mkdir(parents=True, exist_ok=True)
        for dirname in dirnames:
            if (folder / dirname).is_symlink():
                # os.walk does not descend into linked folders: keep the link itself
                os.symlink(os.readlink(folder / dirname), target_folder / dirname)
        for filename in filenames:
            source_path = folder / filename
            target_path = target_folder / filename
            result = _scan(source_path, root, space) if filename.endswith('.py') else None
            if result is None:
                shutil.copy2(source_path, target_path)
            else:
                target_path.write_text(result.source, encoding='utf-8')
                shutil.copymode(source_path, target_path)
    return space.space
