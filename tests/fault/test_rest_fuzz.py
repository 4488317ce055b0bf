"""REST fuzzing campaign: every route of a real manager, property-based, zero 5xx allowed.

The route list is read from the manager's own application (``edge_support.route_table``), so a
route added later is fuzzed without this file changing. For each route Hypothesis draws path
parameters (real trial/experiment ids, file names, hostile strings), query parameters (the
names the routes read, with bad values), headers (good and bad tokens, foreign Origins and
Hosts) and bodies (random JSON of every type, NNI-shaped bodies with wrong field types, metric
envelopes with bad sequences, raw bytes). Every answer must be below 500 and the manager must
keep answering. ``DELETE /experiment`` (which stops the manager) is left to the very end.

Replay a run with ``NNI_FAULT_SEED=<printed seed>``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .edge_support import http_call, live_manager, route_table, seed_from_env

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.fault]

SEED = seed_from_env()
EXAMPLES_PER_ROUTE = 60
ROUTES = [route for route in route_table() if route != ('DELETE', '/api/v1/nni/experiment')]
QUERY_NAMES = ['status', 'type', 'update_type', 'offset', 'limit', 'sort', 'order', 'search', 'ids', 'trials',
               'wait', 'token', 'x']
TALLY: dict[str, Any] = {'cases': 0, 'by_status': {}, 'server_errors': []}


@pytest.fixture(autouse=True)
def nni_home(manager: Any) -> Path:
    """One manifest folder for the module's one manager (overrides the per-test one of conftest)."""
    os.environ['NNI_HOME_DIR'] = str(manager.home)
    return manager.home


@pytest.fixture(scope='module')
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp('fuzz-home')
    old = os.environ.get('NNI_HOME_DIR')
    os.environ['NNI_HOME_DIR'] = str(home)
    workdir = tmp_path_factory.mktemp('fuzz-experiments')
    print(f'\nREST fuzz seed: {SEED} (replay with NNI_FAULT_SEED={SEED})')
    manager = live_manager(workdir, 'fuzzexp', max_trials=3)
    manager.token = (workdir / 'fuzzexp' / 'db' / 'token').read_text().strip()
    manager.trial_ids = [trial['trialJobId'] for trial in manager.request('GET', 'trial-jobs')]
    manager.workdir = workdir
    manager.home = home
    yield manager
    manager.stop()
    if old is None:
        os.environ.pop('NNI_HOME_DIR', None)
    else:
        os.environ['NNI_HOME_DIR'] = old


# ---------------------------------------------------------------------------- strategies

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
JSON_VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
SMALL_NUMBERS = st.integers(min_value=-3, max_value=4) | st.sampled_from([0.5, -0.0, 1e309, float('nan'), '2',
                                                                          '1h', 'NaN', '', None, [], {}])
# the edges of SQLite's 64-bit integers and of floats, which random draws rarely hit
BOUNDARY_NUMBERS = st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -2**63 - 1, 10**30, 1e309, -1e309, 1e18, 2.5, '3', ''])
HOSTILE_TEXT = st.sampled_from(['..', '.', '%00', '\x00', '../../db/nni.sqlite', 'a' * 300, '\u202e', '"', "'",
                                '<script>', '-1', '0', '1e999', 'NaN', '18446744073709551616', ' ', '%2F'])


def _path_value(manager: Any, name: str) -> st.SearchStrategy[str]:
    known: list[str] = list(manager.trial_ids) + ['fuzzexp', 'local-env']
    if name == 'filename':
        known += ['stdout', 'stderr', 'trial.log', 'parameter.cfg', 'nnimanager.log', 'dispatcher.log', '.hidden']
    if name in ('min_seq_id', 'max_seq_id'):
        known += ['0', '1', '-5', '2.5', '99999999999999999999999']
    return st.sampled_from(known) | HOSTILE_TEXT | st.text(min_size=1, max_size=24)


def _metric_envelope(manager: Any) -> st.SearchStrategy[Any]:
    # well-formed but for a field or two, so most cases get past the first check and reach the store
    envelope = st.fixed_dictionaries({
        'type': st.sampled_from(['FINAL', 'PERIODICAL', 'PERIODICAL', 'REQUEST_PARAMETER', 'final', ''])
        | JSON_VALUES,
        'sequence': (BOUNDARY_NUMBERS | st.integers(-2**70, 2**70) | st.integers(0, 5)
                     | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5) | st.none()
                     | st.lists(st.integers(), max_size=2)),
        'value': (st.sampled_from([0.5, '0.5', 3, {'default': 0.25, 'loss': 1}, '{"default": NaN}', 'Infinity'])
                  | st.floats(allow_nan=True, allow_infinity=True) | JSON_VALUES | JSON_VALUES.map(json.dumps)),
    }, optional={
        'parameter_id': st.none() | BOUNDARY_NUMBERS | st.integers(-2**70, 2**70) | st.text(max_size=5),
        'trial_job_id': st.sampled_from(manager.trial_ids) | st.text(max_size=6) | st.none(),
    })
    return st.fixed_dictionaries({'type': st.sampled_from(['metric', 'metric', 'request_parameter', 'other'])
                                  | JSON_VALUES,
                                  'metric': envelope.map(json.dumps) | envelope | JSON_VALUES})


def _shaped_bodies(manager: Any) -> st.SearchStrategy[Any]:
    profile = st.fixed_dictionaries({'params': st.fixed_dictionaries({}, optional={
        'trialConcurrency': SMALL_NUMBERS, 'maxTrialNumber': SMALL_NUMBERS, 'maxExperimentDuration': SMALL_NUMBERS,
        'maxTrialDuration': SMALL_NUMBERS, 'searchSpace': JSON_VALUES})})
    imports = st.lists(st.fixed_dictionaries({}, optional={'parameter': JSON_VALUES, 'value': JSON_VALUES}),
                       max_size=3)
    config = st.fixed_dictionaries({}, optional={'trialCommand': JSON_VALUES, 'trialConcurrency': SMALL_NUMBERS,
                                                 'searchSpace': JSON_VALUES, 'tuner': JSON_VALUES,
                                                 'trainingService': JSON_VALUES})
    answers = st.lists(st.lists(JSON_VALUES, max_size=3), max_size=3)
    return profile | imports | config | answers | _metric_envelope(manager)


def _request(manager: Any, method: str, template: str) -> st.SearchStrategy[dict[str, Any]]:
    import re

    names = re.findall(r'{([a-z_]+)(?::path)?}', template)
    parts = {name: _path_value(manager, name) for name in names}
    query = st.dictionaries(st.sampled_from(QUERY_NAMES),
                            st.sampled_from(['', '0', '-1', '5', 'FINAL', 'RUNNING', 'metric', 'desc', 'nan',
                                             'TRIAL_CONCURRENCY', 'MAX_TRIAL_NUM', 'SEARCH_SPACE',
                                             'MAX_EXEC_DURATION', '0.01', 'inf' if 'tuner' not in template else '0',
                                             'a,b', 'x>1 y:2', '1e400'])
                            | st.text(max_size=12), max_size=4)
    token = st.sampled_from(['good', 'good', 'bad', 'none'])
    extra = st.dictionaries(st.sampled_from(['Origin', 'Cookie', 'Content-Type', 'If-None-Match', 'Accept-Encoding']),
                            st.sampled_from(['http://evil.example', 'nni-token-1=x', 'application/json', 'text/plain',
                                             'W/"x"', 'gzip', '*', '']), max_size=2)
    body: st.SearchStrategy[Any] = st.none()
    if method == 'PUT' and template.startswith('/env/'):
        # the trial channel: mostly metric envelopes, on real trials, with the real token
        parts['trial_id'] = st.sampled_from(manager.trial_ids) | parts['trial_id']
        token = st.sampled_from(['good', 'good', 'good', 'bad'])
        body = _metric_envelope(manager).map(lambda value: json.dumps(value).encode()) | st.binary(max_size=32)
    elif method in ('POST', 'PUT'):
        body = (JSON_VALUES.map(lambda value: json.dumps(value).encode())
                | _shaped_bodies(manager).map(lambda value: json.dumps(value).encode())
                | st.binary(max_size=64) | st.just(b'') | st.just(b'{"a": ' * 20))
    return st.fixed_dictionaries({'parts': st.fixed_dictionaries(parts), 'query': query, 'token': token,
                                  'headers': extra, 'body': body})


# ---------------------------------------------------------------------------- the campaign


def _send(manager: Any, method: str, template: str, case: dict[str, Any]) -> int:
    path = template
    for name, value in case['parts'].items():
        path = path.replace('{' + name + ':path}', quote(value, safe='/')).replace('{' + name + '}',
                                                                                 quote(value, safe=''))
    query = dict(case['query'])
    if 'tuner/commands' in template:
        query['wait'] = '0'  # the only route that waits on purpose; keep the campaign fast
    url = path + ('?' + urlencode(query) if query else '')
    headers = dict(case['headers'])
    if case['token'] == 'good':
        headers['X-NNI-Token'] = manager.token
    elif case['token'] == 'bad':
        headers['X-NNI-Token'] = 'not-the-token'
    status, _, answer = http_call(manager.port, method, url, body=case['body'], headers=headers, timeout=30)
    TALLY['cases'] += 1
    TALLY['by_status'][status] = TALLY['by_status'].get(status, 0) + 1
    if status >= 500:
        TALLY['server_errors'].append((method, url, case['body'][:200] if case['body'] else None, status,
                                       answer[:300]))
    return status


@pytest.mark.parametrize(('method', 'template'), ROUTES, ids=[f'{m} {p}' for m, p in ROUTES])
def test_route_never_answers_5xx(manager: Any, method: str, template: str) -> None:
    before = len(TALLY['server_errors'])

    @seed(SEED)
    @settings(max_examples=EXAMPLES_PER_ROUTE * (4 if template.startswith('/env/') else 1), deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(case=_request(manager, method, template))
    def campaign(case: dict[str, Any]) -> None:
        _send(manager, method, template, case)

    campaign()
    status, _, _ = http_call(manager.port, 'GET', '/api/v1/nni/check-status')
    assert status == 200, 'the manager stopped answering'
    errors = TALLY['server_errors'][before:]
    assert not errors, f'seed {SEED}: {len(errors)} answers >= 500 on {method} {template}, e.g. {errors[:3]}'


def test_deep_and_huge_metrics_are_refused_with_400(manager: Any) -> None:
    trial_id = manager.trial_ids[0]
    headers = {'X-NNI-Token': manager.token}
    bad_values = ['[' * 100_000 + ']' * 100_000, '{"default": ' * 50_000 + '1' + '}' * 50_000]
    for value in bad_values:
        metric = json.dumps({'type': 'PERIODICAL', 'sequence': 7, 'value': value})
        status, _, answer = http_call(manager.port, 'PUT', f'/env/local-env/{trial_id}', headers=headers,
                                      body=json.dumps({'type': 'metric', 'metric': metric}).encode())
        assert status == 400, answer
    for sequence in (2**63, 10**30, 1e309):
        metric = json.dumps({'type': 'PERIODICAL', 'sequence': sequence, 'value': 0.5})
        status, _, answer = http_call(manager.port, 'PUT', f'/env/local-env/{trial_id}', headers=headers,
                                      body=json.dumps({'type': 'metric', 'metric': metric}).encode())
        assert status == 400 and b'out of range' in answer, answer


def test_campaign_summary_and_clean_shutdown(manager: Any) -> None:
    """Totals of the campaign, then the one route left out: DELETE /experiment stops the manager."""
    print(f'\nREST fuzz (seed {SEED}): {TALLY["cases"]} cases over {len(ROUTES)} routes, '
          f'{len(TALLY["server_errors"])} answers >= 500; statuses {dict(sorted(TALLY["by_status"].items()))}')
    assert TALLY['cases'] >= len(ROUTES) * 10
    assert not TALLY['server_errors'], TALLY['server_errors'][:5]
    log = Path(manager.workdir) / 'fuzzexp' / 'log' / 'nnimanager.log'
    assert 'Traceback' not in log.read_text(encoding='utf-8', errors='replace')
    status, _, _ = http_call(manager.port, 'DELETE', '/api/v1/nni/experiment')
    assert status == 200
    deadline = time.monotonic() + 30
    while manager.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert manager.process.poll() is not None
