"""
``nnictl ss_gen``: print (and save) the search space defined by the annotations of trial code.

NNI 3.0 dropped annotation, so its ``ss_gen`` (which ran the trial command hoping it would write the file)
could never succeed. Here the search space is read from the code itself, without running anything;
``--trial_command`` is accepted for compatibility and not needed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .errors import CliError
from .output import info, warning

__all__ = ['add_parsers', 'cmd_ss_gen']


def add_parsers(commands: Any) -> None:
    """Register ``ss_gen``."""
    ss_gen = commands.add_parser('ss_gen', help='automatically generate search space file from trial code')
    ss_gen.add_argument('--trial_command', '-t', required=False, dest='trial_command',
                        help='the command for running trial code (not needed: the code is read, not run)')
    ss_gen.add_argument('--trial_dir', '-d', default='./', dest='trial_dir', help='the directory for running the command')
    ss_gen.add_argument('--file', '-f', default='nni_auto_gen_search_space.json', dest='file',
                        help='the path of search space file')
    ss_gen.set_defaults(func=cmd_ss_gen)


def cmd_ss_gen(args: argparse.Namespace) -> int:
    """``nnictl ss_gen``."""
    from nni.tools.annotation import AnnotationError, generate_search_space

    trial_dir = Path(args.trial_dir).expanduser()
    if not trial_dir.is_dir():
        raise CliError(f'{args.trial_dir} is not a directory.')
    path = Path(args.file).expanduser().resolve()
    try:
        space = generate_search_space(trial_dir)
    except AnnotationError as exc:
        raise CliError(f'Annotation error in {trial_dir}: {exc}') from None
    if not space:
        raise CliError(f'No @nni.variable or @nni.function_choice annotation found in {trial_dir}.')
    if path.exists():
        warning(f'{path} already exists, will be overwritten.')
    text = json.dumps(space, indent=4)
    path.write_text(text + '\n', encoding='utf-8')
    info(f"Generate search space done: '{path}'.")
    print(text)
    return 0
