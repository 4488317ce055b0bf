"""Overhead of our ``nni`` next to NNI 3.0's, measured side by side in one run and printed as ratios.

What it measures (DESIGN.md section 6 gives the budgets):

1. ``import nni`` in a fresh interpreter: wall time and max RSS over a bare interpreter
   (``python -c pass``), median of ``--repeat`` runs. Budget: <= 30 ms and <= 5 MB.
2. ``Experiment.start()`` until it returns (the REST API answers), median of ``--repeat`` runs, each with
   a fresh port and temporary ``HOME``, ``NNI_HOME_DIR`` and experiment working directory, each stopped
   afterwards. Budget: <= 0.3 s.
3. Trials per second for ``--trials`` trivial trials (benchmarks/trivial_trial.py) with the Random tuner
   at concurrency 2 and 4, from the call to ``start()`` until the status is ``DONE``, next to a bare loop
   that spawns the same trial processes (standalone mode) at the same concurrency with ``subprocess``.
   Budget: >= 80% of the bare loop at concurrency 4.
   At concurrency 4 the experiment is also set against a loop spawning ``python -c pass`` with the same
   interpreter, 4 at a time: the physical limit of a process per trial. Budget: >= 0.6x (DESIGN.md).
   The trials are forked by the supervisor's warm interpreter (docs/internals.md); the same experiment
   with every trial in a fresh interpreter (``NNI_TRIAL_WARM_START=0``) is printed next to it.

Each experiment runs in a child process (benchmarks/experiment_driver.py) under the interpreter of its
side: this script's interpreter for ours, the NNI 3.0 venv's for the anchor. That venv is set up under
``.benchmarks-venvs/nni30`` as shared/recipes/nni30.md says; when that fails the NNI columns are
skipped with a message. NNI 3.0 runs about one trial per second, so its trial runs are capped at
``--nni-trials`` (20 by default).

Run: ``.venv/bin/python benchmarks/overhead.py [--skip-nni] [--trials N] [--repeat N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TRIAL = HERE / 'trivial_trial.py'
DRIVER = HERE / 'experiment_driver.py'
NNI_VENV = REPO / '.benchmarks-venvs' / 'nni30'
#: Written into the NNI venv once it installed and imports; its absence means "install again".
READY_MARKER = '.benchmark-ready'
#: shared/recipes/nni30.md: NNI 3.0 installs on Python 3.11 with these pins.
NNI_REQUIREMENTS = ['nni==3.0', 'scikit-learn', 'hyperopt==0.1.2', 'numpy<2', 'pandas<3', 'setuptools<81']
NNI_INSTALL_TIMEOUT = 1200.0
RESULT_MARKER = 'BENCH-RESULT '

BUDGET_IMPORT_MS = 30.0
BUDGET_IMPORT_MB = 5.0
BUDGET_START_S = 0.3
BUDGET_BARE_FRACTION = 0.8
BUDGET_CONCURRENCY = 4
#: the experiment's rate against a loop spawning ``python -c pass`` 4 at a time (start() included)
BUDGET_PASS_FRACTION = 0.6
PASS_ARGV = ('-c', 'pass')
#: every trial in a fresh interpreter instead of forked by the supervisor's warm one (docs/internals.md)
COLD_SWITCH = 'NNI_TRIAL_WARM_START=0'

#: Seconds between two status requests while waiting for DONE. NNI 3.0 runs about a trial a second,
#: so polling it fast buys no precision and only adds load.
POLL_OURS_S = 0.02
POLL_NNI_S = 0.25


# ---------------------------------------------------------------------------------------------------------
# Child processes


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would tie a child to an experiment or change
    which ``nni`` it imports, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith('NNI_') and key not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'SDK_PROCESS')
    }
    env.update(extra)
    return env


#: Appended to each measured program: prints the peak RSS of this interpreter in KiB. The peak of the new
#: program only: ``wait4``'s ``ru_maxrss`` would also count the spawning parent, since Linux carries the
#: pre-exec high-water mark over ``exec`` (and ``subprocess`` spawns with vfork, sharing the parent's memory).
REPORT_PEAK_RSS = """
try:
    with open('/proc/self/status') as _status:
        print(next(line.split()[1] for line in _status if line.startswith('VmHWM:')))
except OSError:
    import resource, sys
    _peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(_peak // 1024 if sys.platform == 'darwin' else _peak)
"""


def run_measured(program: str, python: str, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run ``python -c program`` (plus :data:`REPORT_PEAK_RSS`) to its end.

    Returns
    -------
    wall seconds, peak RSS of the interpreter in KiB.
    """
    argv = [python, '-c', program + '\n' + REPORT_PEAK_RSS]
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f'{python} -c {program!r} exited with {done.returncode}: {done.stderr.strip()[-2000:]}')
    return wall, float(done.stdout.split()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_driver(python: str, mode: str, *options: str, timeout: float, env_extra: dict[str, str] | None = None
               ) -> dict[str, Any]:
    """Run benchmarks/experiment_driver.py under ``python`` in a throwaway home and working directory.

    Returns
    -------
    The driver's JSON result; ``error`` is set when the run failed (with the tail of its output).
    """
    # A manager that outlives a failed run may still write there: cleaning up must not hide the result.
    with tempfile.TemporaryDirectory(prefix='nni-overhead-', ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        home, workdir, code = root / 'home', root / 'experiments', root / 'code'
        for folder in (home, workdir, code):
            folder.mkdir()
        shutil.copy(TRIAL, code / TRIAL.name)
        argv = [python, str(DRIVER), mode, '--port', str(free_port()), '--workdir', str(workdir),
                '--code-dir', str(code), '--timeout', str(timeout), *options]
        env = child_env(HOME=str(home), NNI_HOME_DIR=str(home / 'nni-home'), **(env_extra or {}))
        try:
            done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=timeout + 120)
        except subprocess.TimeoutExpired as exc:
            return {'error': f'driver did not finish in {exc.timeout:.0f} s'}
        result: dict[str, Any] | None = None
        for line in done.stdout.splitlines():
            if line.startswith(RESULT_MARKER):
                result = json.loads(line[len(RESULT_MARKER):])
        if result is None:
            result = {'error': f'driver exited with {done.returncode} and printed no result'}
        if 'error' in result:
            output = (done.stdout + done.stderr).strip().splitlines()
            result['output_tail'] = '\n'.join(output[-30:])
        return result


def median_of(samples: list[float]) -> float | None:
    return statistics.median(samples) if samples else None


# ---------------------------------------------------------------------------------------------------------
# 1. import nni


def measure_import(python: str, repeat: int) -> dict[str, Any]:
    """``import nni`` against ``pass`` in fresh interpreters, interleaved, after one warm-up of each.

    Returns
    -------
    Medians in ms and MB, and the overhead of the import over the bare interpreter.
    """
    env = child_env()
    runs: dict[str, list[tuple[float, float]]] = {'bare': [], 'import': []}
    programs = {'bare': 'pass', 'import': 'import nni'}  # each followed by REPORT_PEAK_RSS
    with tempfile.TemporaryDirectory(prefix='nni-overhead-') as tmp:
        for round_number in range(repeat + 1):
            for name, program in programs.items():
                wall, rss_kib = run_measured(program, python, Path(tmp), env)
                if round_number > 0:  # round 0 warms the file cache and the bytecode caches
                    runs[name].append((wall, rss_kib))
    result: dict[str, Any] = {'python': python, 'repeat': repeat}
    for name, samples in runs.items():
        result[f'{name}_ms'] = statistics.median(wall for wall, _ in samples) * 1000
        result[f'{name}_rss_mb'] = statistics.median(rss for _, rss in samples) / 1024
    result['over_ms'] = result['import_ms'] - result['bare_ms']
    result['over_mb'] = result['import_rss_mb'] - result['bare_rss_mb']
    return result


# ---------------------------------------------------------------------------------------------------------
# 2. Experiment.start()


def measure_start(python: str, repeat: int, timeout: float = 120.0) -> dict[str, Any]:
    """``Experiment.start()`` until it returns, median over ``repeat`` runs after one warm-up run."""
    runs = [run_driver(python, 'start', timeout=timeout) for _ in range(repeat + 1)]
    runs[0]['warm_up'] = True
    measured = runs[1:]
    good = [run for run in measured if 'error' not in run]
    return {
        'python': python,
        'repeat': repeat,
        'start_s': median_of([run['start_s'] for run in good]),
        'stop_s': median_of([run['stop_s'] for run in good if 'stop_s' in run]),
        'start_samples_s': [run['start_s'] for run in good],
        'failed_runs': len(measured) - len(good),
        'errors': [run for run in runs if 'error' in run],
    }


# ---------------------------------------------------------------------------------------------------------
# 3. Trials per second


def measure_experiment_trials(
    python: str, trials: int, concurrency: int, repeat: int = 1, poll: float = POLL_OURS_S, timeout: float | None = None,
    env_extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Trivial trials run by an experiment, start() to DONE; the run with the median rate is kept."""
    if timeout is None:
        timeout = 60.0 + 10.0 * trials
    runs = [
        run_driver(python, 'trials', '--trials', str(trials), '--concurrency', str(concurrency), '--poll', str(poll),
                   timeout=timeout, env_extra=env_extra)
        for _ in range(repeat)
    ]
    good = sorted((run for run in runs if 'error' not in run), key=lambda run: run['trials_per_s'])
    result: dict[str, Any] = {
        'python': python,
        'trials': trials,
        'concurrency': concurrency,
        'repeat': repeat,
        'failed_runs': len(runs) - len(good),
        'errors': [run for run in runs if 'error' in run],
        'rate_samples': [run['trials_per_s'] for run in good],
    }
    if good:
        middle = good[len(good) // 2]
        for key in ('trials_per_s', 'elapsed_s', 'start_s', 'stop_s', 'succeeded', 'trial_statuses', 'trial_mean_s'):
            result[key] = middle.get(key)
    return result


def bare_loop(python: str, trials: int, concurrency: int, cwd: Path,
              program: tuple[str, ...] | None = None) -> tuple[float, int, float]:
    """Spawn ``trials`` trial processes, at most ``concurrency`` at a time, and wait for all of them.

    ``program`` replaces the trivial trial (e.g. :data:`PASS_ARGV`, the physical limit).

    Returns
    -------
    elapsed seconds, number of processes that exited non-zero, mean seconds from spawn to exit.
    """
    env = child_env()
    argv = [python, *(program or (TRIAL.name,))]
    running: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
    started = failed = 0
    total_duration = 0.0
    began = time.perf_counter()
    while started < trials or running:
        while started < trials and len(running) < concurrency:
            spawned = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running[proc.pid] = (proc, spawned)
            started += 1
        pid, status = os.wait()  # whichever ends first
        if pid not in running:  # a child this loop did not start
            continue
        proc, spawned = running.pop(pid)
        total_duration += time.perf_counter() - spawned
        proc.returncode = os.waitstatus_to_exitcode(status)
        failed += proc.returncode != 0
    return time.perf_counter() - began, failed, total_duration / trials


def measure_bare_loop(python: str, trials: int, concurrency: int, repeat: int = 1,
                      program: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The bare loop's rate in trials per second (median of ``repeat``, after one short warm-up)."""
    samples = []
    durations = []
    failed = 0
    with tempfile.TemporaryDirectory(prefix='nni-overhead-') as tmp:
        shutil.copy(TRIAL, Path(tmp) / TRIAL.name)
        bare_loop(python, min(trials, concurrency), concurrency, Path(tmp), program)
        for _ in range(repeat):
            elapsed, run_failed, mean_duration = bare_loop(python, trials, concurrency, Path(tmp), program)
            samples.append(trials / elapsed)
            durations.append(mean_duration)
            failed += run_failed
    return {
        'python': python,
        'trials': trials,
        'concurrency': concurrency,
        'repeat': repeat,
        'trials_per_s': statistics.median(samples),
        'rate_samples': samples,
        'trial_mean_s': statistics.median(durations),
        'failed_processes': failed,
    }


# ---------------------------------------------------------------------------------------------------------
# The NNI 3.0 venv


def find_python311() -> str | None:
    found = shutil.which('python3.11')
    if found:
        return found
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return None


def nni_venv_python(venv: Path = NNI_VENV) -> Path:
    return venv / 'bin' / 'python'


def check_nni_venv(venv: Path = NNI_VENV) -> str | None:
    """The version NNI's venv imports, or ``None`` when it does not work."""
    python = nni_venv_python(venv)
    if not python.exists():
        return None
    with tempfile.TemporaryDirectory(prefix='nni-overhead-') as tmp:
        done = subprocess.run(
            [str(python), '-c', 'import nni, nni.experiment; print(nni.__version__)'],
            cwd=tmp, env=child_env(), capture_output=True, text=True, timeout=300,
        )
    version = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    return version[0] if version else None


def ensure_nni_venv(venv: Path = NNI_VENV, log=print) -> str | None:
    """Set up NNI 3.0 in its own venv (shared/recipes/nni30.md) unless it is there already.

    Returns
    -------
    The venv's interpreter, or ``None`` (with the reason logged) when NNI 3.0 cannot be had.
    """
    if (venv / READY_MARKER).exists() and check_nni_venv(venv) == '3.0':
        return str(nni_venv_python(venv))
    base = find_python311()
    if base is None:
        log('NNI 3.0 needs Python 3.11 (python3.11 not found): skipping the NNI 3.0 columns.')
        return None
    install_log = venv.parent / f'{venv.name}-install.log'
    log(f'Setting up NNI 3.0 in {venv} (1-2 minutes; log: {install_log})...')
    venv.parent.mkdir(parents=True, exist_ok=True)
    if venv.exists() and not nni_venv_python(venv).exists():
        shutil.rmtree(venv)
    with open(install_log, 'w') as out:
        try:
            steps = [
                [base, '-m', 'venv', str(venv)],
                [str(nni_venv_python(venv)), '-m', 'pip', 'install', *NNI_REQUIREMENTS],
            ]
            for step in steps:
                out.write(f'$ {" ".join(step)}\n')
                out.flush()
                subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=NNI_INSTALL_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            log(f'Could not install NNI 3.0 ({exc}; see {install_log}): skipping the NNI 3.0 columns.')
            return None
    version = check_nni_venv(venv)
    if version != '3.0':
        log(f'NNI 3.0 installed but its venv imports nni {version!r} (see {install_log}): '
            'skipping the NNI 3.0 columns.')
        return None
    (venv / READY_MARKER).write_text(f'nni {version}\n')
    return str(nni_venv_python(venv))


# ---------------------------------------------------------------------------------------------------------
# The whole benchmark


def describe_ours(python: str) -> str:
    spec = importlib.util.find_spec('nni') if python == sys.executable else None
    origin = spec.origin if spec is not None and spec.origin else '?'
    return f'{python} (nni from {origin})'


def compile_ours(python: str, log=print) -> None:
    """Byte-compile our package, as ``pip install`` of a wheel does (NNI's wheel comes compiled).

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines) would otherwise
    recompile every module of ours at each interpreter start and measure the compiler, not us.
    """
    spec_code = 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("nni").origin))'
    package = subprocess.run([python, '-c', spec_code], capture_output=True, text=True, check=True).stdout.strip()
    env = {key: value for key, value in os.environ.items() if key != 'PYTHONDONTWRITEBYTECODE'}
    subprocess.run([python, '-m', 'compileall', '-q', package], env=env, check=False,
                   stdout=subprocess.DEVNULL)
    log(f'[ours] byte-compiled {package}')


def run_all(
    trials: int = 50,
    nni_trials: int = 20,
    repeat: int = 5,
    trial_repeat: int = 3,
    concurrencies: tuple[int, ...] = (2, 4),
    skip_nni: bool = False,
    ours_python: str = sys.executable,
    log=print,
) -> dict[str, Any]:
    """Every measurement, ours and (unless skipped or unavailable) NNI 3.0's, as one JSON-able dict."""
    nni_python = None if skip_nni else ensure_nni_venv(log=log)
    compile_ours(ours_python, log)
    if skip_nni:
        log('NNI 3.0 columns skipped (--skip-nni).')
    results: dict[str, Any] = {
        'machine': {
            'python': platform.python_version(),
            'platform': platform.platform(),
            'cpus': os.cpu_count(),
            'load_average_before': list(os.getloadavg()),
        },
        'settings': {
            'trials': trials,
            'nni_trials': nni_trials,
            'repeat': repeat,
            'trial_repeat': trial_repeat,
            'concurrencies': list(concurrencies),
        },
        'ours_python': describe_ours(ours_python),
        'nni_python': nni_python,
        'import': {},
        'start': {},
        'trials': {},
    }
    sides = {'ours': ours_python}
    if nni_python is not None:
        sides['nni'] = nni_python

    for side, python in sides.items():
        log(f'[{side}] import nni, {repeat} runs...')
        results['import'][side] = guarded(measure_import, python, repeat)
    for side, python in sides.items():
        log(f'[{side}] Experiment.start(), {repeat} runs...')
        results['start'][side] = guarded(measure_start, python, repeat)
    for concurrency in concurrencies:
        row: dict[str, Any] = {}
        log(f'[ours] bare loop, {trials} trials at concurrency {concurrency}...')
        row['bare'] = guarded(measure_bare_loop, ours_python, trials, concurrency, trial_repeat)
        log(f'[ours] experiment, {trials} trials at concurrency {concurrency}...')
        row['ours'] = guarded(measure_experiment_trials, ours_python, trials, concurrency, trial_repeat, POLL_OURS_S)
        if concurrency == BUDGET_CONCURRENCY:
            log(f'[ours] python -c pass loop, {trials} processes at concurrency {concurrency}...')
            row['pass'] = guarded(measure_bare_loop, ours_python, trials, concurrency, trial_repeat, PASS_ARGV)
            log(f'[ours] experiment with cold trials ({COLD_SWITCH}), {trials} trials at concurrency {concurrency}...')
            row['ours_cold'] = guarded(measure_experiment_trials, ours_python, trials, concurrency, trial_repeat,
                                       POLL_OURS_S, None, dict([COLD_SWITCH.split('=')]))
        if nni_python is not None:
            log(f'[nni] bare loop, {nni_trials} trials at concurrency {concurrency}...')
            row['nni_bare'] = guarded(measure_bare_loop, nni_python, nni_trials, concurrency, 1)
            log(f'[nni] experiment, {nni_trials} trials at concurrency {concurrency} (about a trial a second)...')
            row['nni'] = guarded(measure_experiment_trials, nni_python, nni_trials, concurrency, 1, POLL_NNI_S)
        results['trials'][str(concurrency)] = row
    results['machine']['load_average_after'] = list(os.getloadavg())
    results['budgets'] = check_budgets(results)
    return results


def guarded(function, *args: Any) -> dict[str, Any]:
    """``function(*args)``, or ``{'error': ...}`` when it raises, so one failure leaves the rest of the table."""
    try:
        return function(*args)
    except Exception as exc:  # reported in the table and the JSON
        return {'error': f'{type(exc).__name__}: {exc}'}


def check_budgets(results: dict[str, Any]) -> dict[str, bool | None]:
    """DESIGN.md section 6's budgets for ours: True (met), False (missed), None (not measured)."""
    imported = results['import'].get('ours', {})
    start = results['start'].get('ours', {})
    row = results['trials'].get(str(BUDGET_CONCURRENCY), {})
    fraction = ratio(row.get('ours', {}).get('trials_per_s'), row.get('bare', {}).get('trials_per_s'))
    pass_fraction = ratio(row.get('ours', {}).get('trials_per_s'), row.get('pass', {}).get('trials_per_s'))
    return {
        f'trials_fraction_of_pass_c{BUDGET_CONCURRENCY}': None if pass_fraction is None
        else pass_fraction >= BUDGET_PASS_FRACTION,
        'import_ms': at_most(imported.get('over_ms'), BUDGET_IMPORT_MS),
        'import_mb': at_most(imported.get('over_mb'), BUDGET_IMPORT_MB),
        'start_s': at_most(start.get('start_s'), BUDGET_START_S),
        f'trials_fraction_of_bare_c{BUDGET_CONCURRENCY}': None if fraction is None else fraction >= BUDGET_BARE_FRACTION,
    }


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


# ---------------------------------------------------------------------------------------------------------
# The table


def format_table(results: dict[str, Any]) -> str:
    """The results as a plain-text table: ours, NNI 3.0, how many times better ours is, the budget."""
    has_nni = results.get('nni_python') is not None
    rows: list[tuple[str, str, str, str, str]] = []
    notes: list[str] = []

    def num(value: float | None, fmt: str) -> str:
        return '-' if value is None else format(value, fmt)

    def verdict(met: bool | None) -> str:
        return {True: 'ok', False: 'MISSED', None: '-'}[met]

    def times(ours: float | None, nni: float | None, higher_is_better: bool) -> str:
        if ours is None or nni is None or ours <= 0 or nni <= 0:  # an overhead lost in the noise has no ratio
            return '-'
        return f'{ours / nni if higher_is_better else nni / ours:.1f}x'

    def errors(section: str, side: str, value: dict[str, Any]) -> None:
        if 'error' in value:
            notes.append(f'{section} [{side}] failed: {value["error"]}')
        for failed in value.get('errors', []):
            tail = failed.get('output_tail', '').strip().splitlines()[-3:]
            which = 'warm-up run' if failed.get('warm_up') else 'run'
            notes.append(f'{section} [{side}] {which} failed: {failed["error"].strip().splitlines()[-1]}')
            notes.extend(f'    {line}' for line in tail)

    budgets = results.get('budgets', {})
    imported = results['import']
    ours_import, nni_import = imported.get('ours', {}), imported.get('nni', {})
    errors('import', 'ours', ours_import)
    errors('import', 'nni', nni_import)
    rows.append(('1. import nni: bare interpreter (ms)', num(ours_import.get('bare_ms'), '.1f'),
                 num(nni_import.get('bare_ms'), '.1f'), '', ''))
    rows.append(('   import nni over bare (ms)', num(ours_import.get('over_ms'), '+.1f'),
                 num(nni_import.get('over_ms'), '+.1f'),
                 times(ours_import.get('over_ms'), nni_import.get('over_ms'), False),
                 f'<= {BUDGET_IMPORT_MS:.0f} ms  {verdict(budgets.get("import_ms"))}'))
    rows.append(('   max RSS: bare interpreter (MB)', num(ours_import.get('bare_rss_mb'), '.1f'),
                 num(nni_import.get('bare_rss_mb'), '.1f'), '', ''))
    rows.append(('   max RSS over bare (MB)', num(ours_import.get('over_mb'), '+.1f'),
                 num(nni_import.get('over_mb'), '+.1f'),
                 times(ours_import.get('over_mb'), nni_import.get('over_mb'), False),
                 f'<= {BUDGET_IMPORT_MB:.0f} MB  {verdict(budgets.get("import_mb"))}'))

    start = results['start']
    ours_start, nni_start = start.get('ours', {}), start.get('nni', {})
    errors('start', 'ours', ours_start)
    errors('start', 'nni', nni_start)
    rows.append(('2. Experiment.start() until the API answers (s)', num(ours_start.get('start_s'), '.3f'),
                 num(nni_start.get('start_s'), '.3f'), times(ours_start.get('start_s'), nni_start.get('start_s'), False),
                 f'<= {BUDGET_START_S} s  {verdict(budgets.get("start_s"))}'))
    rows.append(('   Experiment.stop() (s)', num(ours_start.get('stop_s'), '.3f'), num(nni_start.get('stop_s'), '.3f'),
                 times(ours_start.get('stop_s'), nni_start.get('stop_s'), False), ''))

    settings = results['settings']
    counts = f'{settings["trials"]} for ours, {settings["nni_trials"]} for NNI' if has_nni else str(settings['trials'])
    rows.append((f'3. trivial trials, Random tuner ({counts})', '', '', '', ''))
    for concurrency, row in results['trials'].items():
        ours, bare = row.get('ours', {}), row.get('bare', {})
        nni, nni_bare = row.get('nni', {}), row.get('nni_bare', {})
        for side, value in (('ours', ours), ('bare', bare), ('nni', nni), ('nni bare', nni_bare)):
            errors(f'trials c={concurrency}', side, value)
        for side, value in (('ours', ours), ('nni', nni)):
            if value.get('trial_statuses') and set(value['trial_statuses']) != {'SUCCEEDED'}:
                notes.append(f'trials c={concurrency} [{side}] trial statuses: {value["trial_statuses"]}')
        ours_rate, nni_rate = ours.get('trials_per_s'), nni.get('trials_per_s')
        bare_rate, nni_bare_rate = bare.get('trials_per_s'), nni_bare.get('trials_per_s')
        rows.append((f'   c={concurrency}: experiment, start() to DONE (trials/s)', num(ours_rate, '.2f'),
                     num(nni_rate, '.2f'), times(ours_rate, nni_rate, True), ''))
        rows.append((f'   c={concurrency}: bare loop, same interpreter (trials/s)', num(bare_rate, '.2f'),
                     num(nni_bare_rate, '.2f'), '', ''))
        budget = ''
        if concurrency == str(BUDGET_CONCURRENCY):
            met = budgets.get(f'trials_fraction_of_bare_c{BUDGET_CONCURRENCY}')
            budget = f'>= {BUDGET_BARE_FRACTION:.0%}  {verdict(met)}'
        own_fraction = ratio(ours_rate, bare_rate)
        rows.append((f'   c={concurrency}: experiment / its bare loop', num(own_fraction, '.1%'),
                     num(ratio(nni_rate, nni_bare_rate), '.1%'), '', budget))
        rows.append((f'   c={concurrency}: experiment / bare loop of our trials', num(own_fraction, '.1%'),
                     num(ratio(nni_rate, bare_rate), '.1%'), '', ''))
        if 'pass' in row:
            pass_value = row['pass']
            errors(f'trials c={concurrency}', 'pass loop', pass_value)
            pass_rate = pass_value.get('trials_per_s')
            met = budgets.get(f'trials_fraction_of_pass_c{BUDGET_CONCURRENCY}')
            rows.append((f'   c={concurrency}: python -c pass loop, same interpreter (processes/s)', num(pass_rate, '.2f'),
                         '', '', ''))
            rows.append((f'   c={concurrency}: experiment / python -c pass loop (x)', num(ratio(ours_rate, pass_rate), '.3f'),
                         num(ratio(nni_rate, pass_rate), '.3f'), '', f'>= {BUDGET_PASS_FRACTION}x  {verdict(met)}'))
            cold_rate = row.get('ours_cold', {}).get('trials_per_s')
            errors(f'trials c={concurrency}', 'cold trials', row.get('ours_cold', {}))
            rows.append((f'   c={concurrency}: cold trials ({COLD_SWITCH}) / pass loop (x)',
                         num(ratio(cold_rate, pass_rate), '.3f'), '', '', ''))
        rows.append((f'   c={concurrency}: start() to DONE (s)', num(ours.get('elapsed_s'), '.2f'),
                     num(nni.get('elapsed_s'), '.2f'), '', ''))
        rows.append((f'   c={concurrency}: mean trial, launch to exit, in experiment (s)',
                     num(ours.get('trial_mean_s'), '.3f'), num(nni.get('trial_mean_s'), '.3f'), '', ''))
        rows.append((f'   c={concurrency}: mean trial, spawn to exit, in bare loop (s)',
                     num(bare.get('trial_mean_s'), '.3f'), num(nni_bare.get('trial_mean_s'), '.3f'), '', ''))

    header = ('measure', 'ours', 'NNI 3.0' if has_nni else 'NNI 3.0 (skipped)', 'ours better by', 'budget (ours)')
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]

    def line(cells: tuple[str, ...]) -> str:
        numbers = [cells[i].rjust(widths[i]) for i in (1, 2, 3)]
        return '  '.join([cells[0].ljust(widths[0]), *numbers, cells[4]]).rstrip()

    lines = [line(header), '  '.join('-' * width for width in widths)]
    lines.extend(line(row) for row in rows)
    machine = results['machine']
    load = ', '.join(
        f'{when} {machine[key][0]:.2f}' for when, key in (('before', 'load_average_before'), ('after', 'load_average_after'))
        if key in machine
    )
    repeats = (f'medians of {settings["repeat"]} runs for 1 and 2; for 3, the median of {settings["trial_repeat"]} '
               'runs for ours and its bare loop')
    if has_nni:
        repeats += (f', one run each for NNI 3.0 and its bare loop (capped at {settings["nni_trials"]} trials: '
                    'NNI 3.0 runs about a trial a second)')
    intro = [
        f'Python {machine["python"]}, {machine["cpus"]} CPUs, {machine["platform"]}'
        + (f', 1-minute load average {load}' if load else ''),
        f'ours: {results["ours_python"]}',
        f'NNI 3.0: {results["nni_python"] or "skipped"}',
        repeats,
        'bare loop: the same trial processes (standalone mode) spawned by subprocess at the same concurrency',
        '',
    ]
    return '\n'.join(intro + lines + ([''] + notes if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--skip-nni', action='store_true', help='measure ours only (no NNI 3.0 venv)')
    parser.add_argument('--trials', type=int, default=50, help='trivial trials per experiment for ours (default 50)')
    parser.add_argument('--nni-trials', type=int, default=20,
                        help='trivial trials per experiment for NNI 3.0, capped by --trials (default 20)')
    parser.add_argument('--repeat', type=int, default=5, help='runs of the import and start() measurements (default 5)')
    parser.add_argument('--trial-repeat', type=int, default=3,
                        help='runs of each trial-rate measurement of ours and the bare loop (default 3)')
    parser.add_argument('--concurrency', type=int, nargs='+', default=[2, 4], help='trial concurrencies (default 2 4)')
    parser.add_argument('--json', type=Path, help='also write the results as JSON to this path')
    args = parser.parse_args(argv)
    if min(args.trials, args.nni_trials, args.repeat, args.trial_repeat, *args.concurrency) < 1:
        parser.error('--trials, --nni-trials, --repeat, --trial-repeat and --concurrency must be >= 1')

    results = run_all(
        trials=args.trials,
        nni_trials=min(args.nni_trials, args.trials),
        repeat=args.repeat,
        trial_repeat=args.trial_repeat,
        concurrencies=tuple(args.concurrency),
        skip_nni=args.skip_nni,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(format_table(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + '\n')
        print(f'\nresults written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
