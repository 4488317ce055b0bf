"""Run NNI's own tests (vendored under ``vendor/``) against an installed ``nni``, the way NNI runs them.

Usable as a script (standard library only) and from ``test_nni_suite.py``::

    python tests/nni_upstream/runner.py                      # our package, as CI runs it
    python tests/nni_upstream/runner.py --python .benchmarks-venvs/nni30/bin/python \\
        --write-anchor tests/nni_upstream/nni30_passing.txt  # regenerate the NNI 3.0 list

What "as NNI runs them" means here:

* the vendored ``test`` tree (with ``examples`` beside it) is copied to a temporary folder and
  pytest runs from its ``test`` folder: ``python -m pytest ut/...``, with ``PYTHONPATH`` unset, so
  ``nni`` is whatever the interpreter has installed and the repository is not on the path;
* the interpreter's ``bin`` folder comes first on ``PATH`` (an activated venv), so ``nnictl`` and the
  trials' ``python3`` are that installation's;
* ``HOME`` is a fresh folder, so ``~/nni-experiments`` holds only these runs;
* ``pytest.ini``'s ``addopts`` (coverage and junit options of NNI's CI) are replaced by our own junit
  report (``-o addopts=``); nothing else of the test files or their configuration changes;
* where the Linux kernel allows it, each group runs in its own network namespace (``unshare -rn``):
  NNI's tests and driver hard-code port 8080, and the groups run side by side to save time
  (``ut/experiment/test_experiment.py`` alone sleeps 200 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / 'vendor'
ANCHOR_FILE = HERE / 'nni30_passing.txt'
EXCLUSIONS_FILE = HERE / 'exclusions.txt'
INTEGRATION_CONFIG = HERE / 'integration_local.yml'

# NNI's HPO unit tests (paths relative to NNI's ``test`` folder). test_experiment.py is run one test
# per process (its three tests sleep 200 s in all); the rest run in one pytest process.
UNIT_FILES = [
    'ut/experiment/test_config_base.py',
    'ut/experiment/test_exp_config.py',
    'ut/experiment/test_search_space.py',
    'ut/experiment/test_ts_remote.py',
    'ut/sdk/test_assessor.py',
    'ut/sdk/test_builtin_tuners.py',
    'ut/sdk/test_curvefitting_assessor.py',
    'ut/sdk/test_evolution_tuner.py',
    'ut/sdk/test_hpo_dedup.py',
    'ut/sdk/test_hpo_formatting.py',
    'ut/sdk/test_hpo_validation.py',
    'ut/sdk/test_hyperopt_tuner.py',
    'ut/sdk/test_msg_dispatcher.py',
    'ut/sdk/test_trial.py',
    'ut/sdk/test_trial_command_channel.py',
    'ut/sdk/test_utils.py',
    'ut/sdk/test_version.py',
    'ut/sdk/test_ws_channel.py',
    'ut/tools/nnictl/test_common_utils.py',
    'ut/tools/nnictl/test_config_utils.py',
    'ut/tools/nnictl/test_config_validation.py',
    'ut/tools/nnictl/test_kill_command.py',
    'ut/tools/nnictl/test_nnictl_utils.py',
    'ut/tools/trial_tool/test_file_channel.py',
]
EXPERIMENT_TESTS = [
    'ut/experiment/test_experiment.py::test_experiment_run',
    'ut/experiment/test_experiment.py::test_experiment_resume_view',
    'ut/experiment/test_experiment.py::test_experiment_resume_with_id',
]
INTEGRATION_FILE = 'training_service/nnitest/run_tests.py'
INTEGRATION_PREFIX = 'integration::'

# Brings the loopback interface of a fresh network namespace up, then runs the command.
_LOOPBACK_UP = (
    'import fcntl, os, socket, struct, sys\n'
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
    'flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0))[:18])[1]\n'
    'fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))\n'
    # NNI 3.0's manager finds its address by routing a UDP socket to 192.0.2.0 and dies without a
    # route; a default route over loopback (when iproute2 is there) gives it one
    'import shutil, subprocess\n'
    'ip = shutil.which("ip")\n'
    'if ip: subprocess.run([ip, "route", "add", "default", "dev", "lo"], stderr=subprocess.DEVNULL)\n'
    'os.execvp(sys.argv[1], sys.argv[1:])\n'
)


@dataclass
class GroupResult:
    """What one pytest process or driver run produced."""

    name: str
    returncode: int
    seconds: float
    log: str
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed/failed/error/skipped


def prepare_tree(workdir: Path) -> Path:
    """Copy the vendored tree into ``workdir``; return its ``test`` folder."""
    shutil.copytree(VENDOR, workdir, dirs_exist_ok=True)
    shutil.copy(INTEGRATION_CONFIG, workdir / 'test' / 'training_service' / 'config' / INTEGRATION_CONFIG.name)
    return workdir / 'test'


def netns_available() -> bool:
    """Whether ``unshare -rn`` can give a process a network namespace of its own here."""
    if shutil.which('unshare') is None:
        return False
    probe = subprocess.run(['unshare', '-rn', sys.executable, '-c', _LOOPBACK_UP, 'true'],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def _environment(python: str, home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key != 'PYTHONPATH' and not key.startswith('NNI_') and key not in ('VIRTUAL_ENV', 'PYTEST_ADDOPTS')}
    bin_dir = str(Path(python).parent)
    env['PATH'] = bin_dir + os.pathsep + env.get('PATH', '')
    env['VIRTUAL_ENV'] = str(Path(bin_dir).parent)
    env['HOME'] = str(home)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def _run(name: str, command: list[str], cwd: Path, env: dict[str, str], isolate: bool, timeout: float,
         log_path: Path) -> tuple[int, float]:
    if isolate:
        command = ['unshare', '-rn', sys.executable, '-c', _LOOPBACK_UP, *command]
    started = time.monotonic()
    with open(log_path, 'wb') as log:
        try:
            returncode = subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            log.write(f'\n[runner] {name} stopped after {timeout} s\n'.encode())
            returncode = -1
    return returncode, time.monotonic() - started


def parse_junit(path: Path) -> dict[str, str]:
    """``{test id: outcome}`` from a pytest junit file (``xunit1``, which names each test's file)."""
    outcomes: dict[str, str] = {}
    if not path.exists():
        return outcomes
    for case in ET.parse(path).getroot().iter('testcase'):
        file = case.get('file') or ''
        classname = case.get('classname') or ''
        name = case.get('name') or ''
        if not file:  # a collection error: the "test" is the module itself
            file = classname.replace('.', '/') + '.py' if classname else name.replace('.', '/') + '.py'
            test_id = f'{file}::<collect>'
        else:
            module = file[:-3].replace('/', '.')
            cls = classname[len(module) + 1:] if classname.startswith(module + '.') else ''
            test_id = '::'.join(part for part in (file, cls, name) if part)
        outcome = 'passed'
        for child in case:
            if child.tag in ('failure', 'error'):
                outcome = 'failed' if child.tag == 'failure' else 'error'
            elif child.tag == 'skipped':
                outcome = 'skipped'
        outcomes[test_id] = outcome
    return outcomes


def parse_driver_log(text: str) -> dict[str, str]:
    """``{integration::<case>: passed/failed}`` from the integration driver's output.

    The driver prints ``Testing: <case>`` for every case, also those it then leaves out; a case
    counts as run once its ``launch command:`` line follows, and as passed on ``TEST PASS``.
    """
    outcomes: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        line = line.replace('\x1b[32m', '').replace('\x1b[0m', '')
        if 'Testing: ' in line and line.lstrip().startswith('## '):
            current = INTEGRATION_PREFIX + line.split('Testing: ', 1)[1].split(' ##')[0].strip()
        elif current and line.startswith('launch command:'):
            outcomes[current] = 'failed'
        elif current and 'TEST PASS IN' in line:
            outcomes[current] = 'passed'
    return outcomes


def run_suite(python: str, workdir: Path, integration: bool = True, timeout: float = 600,
              serial: bool = False, only: set[str] | None = None, cases: str | None = None) -> list[GroupResult]:
    """Run every group against ``python``'s installed ``nni``; groups run side by side when isolated
    (``serial``: one after another, as for NNI 3.0, whose manager gives up if it starts slowly)."""
    python = os.path.abspath(python)  # not resolved: a venv's python is a link that must stay one
    test_dir = prepare_tree(workdir)
    isolate = netns_available()
    pytest = [python, '-m', 'pytest', '-o', 'addopts=', '-o', 'junit_family=xunit1', '-p', 'no:cacheprovider', '-q']
    groups: list[tuple[str, list[str], Path | None]] = []
    groups.append(('unit', [*pytest, f'--junitxml={workdir}/unit.xml', *UNIT_FILES], workdir / 'unit.xml'))
    # test_experiment.py's tests wait fixed times (30 s windows) and only count trials, so their
    # trials get the CPU last: the groups that wait for their trials to finish go first
    nice = ['nice', '-n', '15'] if shutil.which('nice') else []
    for index, test in enumerate(EXPERIMENT_TESTS):
        groups.append((f'experiment{index}', [*nice, *pytest, f'--junitxml={workdir}/experiment{index}.xml', test],
                       workdir / f'experiment{index}.xml'))
    if integration:
        driver = [python, INTEGRATION_FILE, '--config', f'training_service/config/{INTEGRATION_CONFIG.name}', '--ts', 'local']
        groups.append(('integration', [*driver, '--cases', cases] if cases else driver, None))

    if only:
        groups = [group for group in groups if group[0].rstrip('0123456789') in only]

    def run_group(group: tuple[str, list[str], Path | None]) -> GroupResult:
        name, command, junit = group
        home = workdir / f'home-{name}'
        home.mkdir()
        log_path = workdir / f'{name}.log'
        returncode, seconds = _run(name, command, test_dir, _environment(python, home), isolate, timeout, log_path)
        log = log_path.read_text(errors='replace')
        outcomes = parse_junit(junit) if junit is not None else parse_driver_log(log)
        return GroupResult(name, returncode, seconds, log, outcomes)

    if isolate and not serial:
        with ThreadPoolExecutor(len(groups)) as pool:
            return list(pool.map(run_group, groups))
    return [run_group(group) for group in groups]


def read_list(path: Path) -> dict[str, str]:
    """``{test id: comment}`` from a list file (``#`` starts a comment; a comment after an id is its reason)."""
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for line in path.read_text().splitlines():
        test_id, _, comment = line.partition('#')
        if test_id.strip():
            entries[test_id.strip()] = comment.strip()
    return entries


def file_of(test_id: str) -> str:
    return test_id.split('::', 1)[0] if not test_id.startswith(INTEGRATION_PREFIX) else INTEGRATION_FILE


def table(outcomes: dict[str, str], anchor: dict[str, str], exclusions: dict[str, str]) -> str:
    """Per-file counts: tests NNI 3.0 passes, how many of those pass here, and other passes here."""
    files = sorted({file_of(test_id) for test_id in [*outcomes, *anchor]})
    rows = [('file', 'NNI 3.0 pass', 'ours pass (of those)', 'excluded', 'ours pass (all)', 'ours fail/error')]
    for file in files:
        anchored = [t for t in anchor if file_of(t) == file]
        ours = {t: o for t, o in outcomes.items() if file_of(t) == file}
        rows.append((
            file,
            str(len(anchored)),
            str(sum(1 for t in anchored if ours.get(t) == 'passed')),
            str(sum(1 for t in anchored if t in exclusions)),
            str(sum(1 for o in ours.values() if o == 'passed')),
            str(sum(1 for o in ours.values() if o in ('failed', 'error'))),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def regressions(outcomes: dict[str, str], anchor: dict[str, str], exclusions: dict[str, str]) -> list[str]:
    """Tests that pass on NNI 3.0, are not excluded, and do not pass here."""
    return sorted(t for t in anchor if t not in exclusions and outcomes.get(t) != 'passed')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--python', default=sys.executable, help='interpreter whose installed nni is tested')
    parser.add_argument('--no-integration', action='store_true', help='unit tests only')
    parser.add_argument('--write-anchor', type=Path, help='write the list of passing tests to this file')
    parser.add_argument('--keep', action='store_true', help='keep the work folder (logs, junit files)')
    parser.add_argument('--serial', action='store_true', help='run the groups one after another')
    parser.add_argument('--cases', help="integration cases to run (the driver's --cases, comma-separated)")
    parser.add_argument('--only', action='append', choices=['unit', 'experiment', 'integration'],
                        help='run only these groups (repeatable)')
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix='nni-upstream-'))
    try:
        results = run_suite(args.python, workdir, integration=not args.no_integration, serial=args.serial,
                            only=set(args.only or ()), cases=args.cases)
        outcomes: dict[str, str] = {}
        for result in results:
            outcomes.update(result.outcomes)
            print(f'[{result.name}] exit {result.returncode} in {result.seconds:.0f} s, '
                  f'{sum(1 for o in result.outcomes.values() if o == "passed")} passed')
        if args.write_anchor:
            passed = sorted(t for t, o in outcomes.items() if o == 'passed')
            header = ('# Tests of NNI\'s own suite that pass on NNI 3.0 (PyPI), generated by\n'
                      '#   python tests/nni_upstream/runner.py --python <NNI 3.0 venv>/bin/python --write-anchor ...\n')
            if (args.only or args.cases) and args.write_anchor.exists():  # a partial run updates the list
                kept = [t for t in read_list(args.write_anchor) if t not in outcomes]
                passed = sorted({*kept, *passed})
            args.write_anchor.write_text(header + '\n'.join(passed) + '\n')
            print(f'wrote {len(passed)} test ids to {args.write_anchor}')
            return 0
        anchor, exclusions = read_list(ANCHOR_FILE), read_list(EXCLUSIONS_FILE)
        print(table(outcomes, anchor, exclusions))
        missing = regressions(outcomes, anchor, exclusions)
        for test_id in missing:
            print(f'REGRESSION: {test_id} passes on NNI 3.0, here: {outcomes.get(test_id, "not run")}')
        if missing:
            for result in results:
                if any(file_of(t) in {file_of(m) for m in missing} for t in result.outcomes) or result.returncode:
                    print(f'----- {result.name} log (tail) -----\n{result.log[-6000:]}')
        return 1 if missing else 0
    finally:
        if args.keep:
            print(f'work folder kept: {workdir}')
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
