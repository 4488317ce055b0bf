"""The portal's REST routes, in process: paging, sorting, filtering, ETags, assets, deletion, safety."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nni.manager import portal_api
from nni.manager.engine import Engine, ManagerOptions
from nni.manager.server import build_app

from .support import create_synthetic_experiment


@pytest.fixture(scope='module')
def experiments(portal_home: Path, workdir: Path) -> Path:
    create_synthetic_experiment(workdir, 'apiexp', 60, multi_objective=True, seed=7)
    create_synthetic_experiment(workdir, 'other', 3, seed=1)
    return workdir


def _engine(workdir: Path, experiment_id: str, url_prefix: str = '') -> Engine:
    engine = Engine(ManagerOptions(experiment_id=experiment_id, port=8080, action='view',
                                   experiments_directory=workdir, url_prefix=url_prefix))
    asyncio.run(engine.view())
    return engine


@pytest.fixture(scope='module')
def engine(experiments: Path) -> Engine:
    return _engine(experiments, 'apiexp')


@pytest.fixture(scope='module')
def client(engine: Engine) -> Iterator[TestClient]:
    # TestClient calls come from host "testclient": not loopback, so mutating calls need the token
    with TestClient(build_app(engine, lambda: None)) as test_client:
        yield test_client


def _page(client: TestClient, **query: Any) -> dict[str, Any]:
    response = client.get('/api/v1/nni/trial-jobs', params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_plain_trial_jobs_keep_nni_shape(client: TestClient) -> None:
    trials = client.get('/api/v1/nni/trial-jobs').json()
    assert isinstance(trials, list) and len(trials) == 60
    assert {'trialJobId', 'status', 'hyperParameters'} <= set(trials[0])
    failed = client.get('/api/v1/nni/trial-jobs', params={'status': 'FAILED'}).json()
    assert isinstance(failed, list) and all(trial['status'] == 'FAILED' for trial in failed)


def test_paging_returns_a_window_and_totals(client: TestClient) -> None:
    page = _page(client, offset=10, limit=5)
    assert page['total'] == 60 and page['all'] == 60
    assert [trial['sequenceId'] for trial in page['trials']] == [10, 11, 12, 13, 14]
    assert page['paramNames'] == ['learning_rate', 'batch_size', 'optimizer', 'dropout', 'layers']
    assert page['metricKeys'] == ['default', 'loss', 'latency']
    trial = page['trials'][0]
    assert trial['params']['optimizer'] in ('sgd', 'adam', 'rmsprop')
    assert trial['parameters'] == json.loads(trial['hyperParameters'][0])['parameters']
    assert _page(client, offset=58, limit=100)['trials'][-1]['sequenceId'] == 59


def test_sort_by_metric_puts_missing_values_last(client: TestClient) -> None:
    page = _page(client, sort='metric', order='desc', limit=100)
    values = [trial['metric']['default'] if trial['metric'] else None for trial in page['trials']]
    present = [value for value in values if value is not None]
    assert present == sorted(present, reverse=True)
    assert values[len(present):] == [None] * (len(values) - len(present))
    ascending = _page(client, sort='metric:latency', order='asc', limit=100)['trials']
    latencies = [trial['metric']['latency'] for trial in ascending if trial['metric']]
    assert latencies == sorted(latencies)


def test_sort_by_parameter_and_columns(client: TestClient) -> None:
    for sort in ('param:dropout', 'param:optimizer', 'trialJobId', 'status', 'duration', 'startTime'):
        page = _page(client, sort=sort, order='asc', limit=100)
        assert len(page['trials']) == 60
    dropouts = [trial['params']['dropout'] for trial in _page(client, sort='param:dropout', limit=100)['trials']]
    assert dropouts == sorted(dropouts)
    response = client.get('/api/v1/nni/trial-jobs', params={'sort': 'nonsense'})
    assert response.status_code == 400 and 'cannot sort' in response.json()['error']


def test_filters_by_status_search_and_ids(client: TestClient, engine: Engine) -> None:
    failed = _page(client, status='FAILED,USER_CANCELED', limit=100)
    assert failed['total'] == sum(1 for r in engine.trials.values() if r.status in ('FAILED', 'USER_CANCELED'))
    assert {trial['status'] for trial in failed['trials']} <= {'FAILED', 'USER_CANCELED'}

    adam = _page(client, search='optimizer=adam layers>=4', limit=100)
    assert adam['total'] > 0
    assert all(t['params']['optimizer'] == 'adam' and t['params']['layers'] >= 4 for t in adam['trials'])
    good = _page(client, search='metric>0.9', limit=100)
    assert good['trials'] and all(t['metric']['default'] > 0.9 for t in good['trials'])
    assert _page(client, search='status:fail')['total'] == sum(
        1 for r in engine.trials.values() if r.status == 'FAILED')
    assert _page(client, search='t0001')['total'] == 10  # free text matches ids t00010..t00019
    assert _page(client, search='nothing-like-this')['total'] == 0

    chosen = _page(client, ids='t00003,t00042')
    assert sorted(t['trialJobId'] for t in chosen['trials']) == ['t00003', 't00042']


def test_etag_answers_304_until_something_changes(client: TestClient) -> None:
    for path in ('/api/v1/nni/portal/state', '/api/v1/nni/portal/trials', '/api/v1/nni/portal/intermediates',
                 '/api/v1/nni/trial-jobs?offset=0&limit=10'):
        first = client.get(path)
        assert first.status_code == 200
        etag = first.headers['etag']
        again = client.get(path, headers={'If-None-Match': etag})
        assert again.status_code == 304 and again.content == b''
    state = client.get('/api/v1/nni/portal/state').json()
    page = client.get('/api/v1/nni/trial-jobs?offset=0&limit=10')
    other = client.get('/api/v1/nni/trial-jobs?offset=10&limit=10')
    assert page.headers['etag'] != other.headers['etag']  # one version per query
    assert state['status'] == 'VIEWED' and state['readOnly'] is True
    assert state['total'] == 60 and sum(state['counts'].values()) == 60
    assert state['best']['value'] == max(
        t['metric']['default'] for t in _page(client, status='SUCCEEDED', limit=100)['trials'] if t['metric'])


def test_digest_is_compact_and_complete(client: TestClient) -> None:
    digest = client.get('/api/v1/nni/portal/trials').json()
    assert digest['fields'][:3] == ['trialJobId', 'sequenceId', 'status']
    assert len(digest['trials']) == 60
    row = digest['trials'][0]
    assert len(row[5]) == len(digest['paramNames'])
    assert row[6] is None or len(row[6]) == len(digest['metricKeys'])
    series = client.get('/api/v1/nni/portal/intermediates', params={'trials': 't00000,missing'}).json()['trials']
    assert series['missing'] == []
    assert [point[0] for point in series['t00000']] == list(range(len(series['t00000'])))
    assert all(isinstance(point[1], dict) and 'default' in point[1] for point in series['t00000'])


def test_metric_decoding() -> None:
    assert portal_api.decode_metric(json.dumps(json.dumps(0.5))) == {'default': 0.5}
    assert portal_api.decode_metric(json.dumps('NaN')) == {'default': None}
    assert portal_api.decode_metric(json.dumps(json.dumps({'loss': 1, 'default': 2, 'name': 'x'}))) == {
        'default': 2.0, 'loss': 1.0}
    assert portal_api.decode_metric(json.dumps(json.dumps('text'))) is None
    assert portal_api.decode_metric('not json') is None
    assert portal_api.flatten_parameters({'a': 1, 'm': {'_name': 'conv', 'k': 3}, 'l': [1, 2], 'f': float('inf')}) == {
        'a': 1, 'm': 'conv', 'm/k': 3, 'l': '[1, 2]', 'f': None}


def test_search_parsing() -> None:
    terms = portal_api.parse_search('lr>=0.1 optimizer=adam free "x"')
    assert [(t.key, t.op, t.text) for t in terms] == [('lr', '>=', '0.1'), ('optimizer', '=', 'adam'),
                                                      (None, ':', 'free'), (None, ':', '"x"')]
    assert terms[0].number == 0.1


def test_trial_files_listing(client: TestClient) -> None:
    listing = client.get('/api/v1/nni/portal/trial-files/t00001').json()
    assert [entry['name'] for entry in listing['files']] == ['model.txt', 'trial.stderr', 'trial.stdout']
    assert client.get('/api/v1/nni/portal/trial-files/nope').status_code == 404


def test_index_has_base_csp_and_versioned_assets(client: TestClient, experiments: Path) -> None:
    for path in ('/', '/oview', '/detail', '/some/deep/link'):
        response = client.get(path)
        assert response.status_code == 200
        assert '<base href="/">' in response.text
        assert "script-src 'self'" in response.headers['content-security-policy']
    html = client.get('/').text
    version = portal_api.assets_version()
    assert f'src="v/{version}/js/main.js"' in html and f'href="v/{version}/css/portal.css"' in html
    asset = client.get(f'/v/{version}/js/main.js')
    assert asset.status_code == 200 and asset.headers['content-type'].startswith('text/javascript')
    assert 'immutable' in asset.headers['cache-control']
    plain = client.get('/js/main.js')
    assert plain.headers['cache-control'] == 'no-cache'
    assert client.get('/js/main.js', headers={'If-None-Match': plain.headers['etag']}).status_code == 304
    assert client.get('/v/0/js/main.js').headers['cache-control'] == 'no-cache'  # an old version revalidates
    assert client.get('/../db/nni.sqlite').status_code in (200, 404)  # never the database
    assert 'SQLite' not in client.get('/..%2F..%2Fdb%2Fnni.sqlite').text

    prefixed = _engine(experiments, 'other', url_prefix='/lab/nni/')
    with TestClient(build_app(prefixed, lambda: None)) as prefixed_client:
        page = prefixed_client.get('/lab/nni/oview')
        assert '<base href="/lab/nni/">' in page.text
        assert prefixed_client.get('/lab/nni/api/v1/nni/portal/state').json()['experimentId'] == 'other'


def test_mutations_need_the_token_off_loopback(client: TestClient, engine: Engine) -> None:
    refused = client.delete('/api/v1/nni/portal/experiments/other')
    assert refused.status_code == 403 and 'token' in refused.json()['error']
    forged = client.post('/api/v1/nni/trial-jobs', content='{}', headers={
        'X-NNI-Token': engine.token, 'Origin': 'http://evil.example', 'Content-Type': 'text/plain'})
    assert forged.status_code == 403 and 'cross-site' in forged.json()['error']


def test_delete_experiment_rules(client: TestClient, engine: Engine, experiments: Path) -> None:
    from nni.experiment.manifest import Experiments

    token = {'X-NNI-Token': engine.token}
    own = client.delete('/api/v1/nni/portal/experiments/apiexp', headers=token)
    assert own.status_code == 409
    assert client.delete('/api/v1/nni/portal/experiments/unknown', headers=token).status_code == 404
    Experiments().add_experiment('alive', 1, 0, 'local', 'running one', status='RUNNING', pid=os.getpid(),
                                 logDir=str(experiments))
    assert client.delete('/api/v1/nni/portal/experiments/alive', headers=token).status_code == 409
    done = client.delete('/api/v1/nni/portal/experiments/other', headers=token)
    assert done.status_code == 200, done.text
    assert done.json()['removedFolder'] == str(experiments / 'other')
    assert not (experiments / 'other').exists()
    assert 'other' not in Experiments().get_all_experiments()
    assert (experiments / 'apiexp' / 'db').is_dir()


STATIC = Path(portal_api.STATIC_DIR)


def test_static_modules_resolve_and_never_write_markup() -> None:
    """Checks that need no browser: every import resolves, and no script turns data into HTML."""
    import re

    scripts = sorted(STATIC.rglob('*.js'))
    assert scripts, 'the portal ships no scripts'
    forbidden = re.compile(r'\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(')
    for script in scripts:
        text = script.read_text(encoding='utf-8')
        assert not forbidden.search(text), f'{script.name} builds markup from strings or evaluates code'
        for target in re.findall(r"""(?:from|import\()\s*'(\.[^']+)'""", text):
            assert (script.parent / target).resolve().is_file(), f'{script.name} imports missing {target}'
    index = (STATIC / 'index.html').read_text(encoding='utf-8')
    for target in re.findall(r'(?:href|src)="((?:css|js)/[^"]+|favicon\.svg)"', index):
        assert (STATIC / target).is_file(), f'index.html links missing {target}'
    assert '<script>' not in index and 'style=' not in index  # the CSP allows neither


def test_sort_keeps_trial_order_among_ties() -> None:
    def row(seq: int, value: float | None) -> portal_api.TrialRow:
        metric = None if value is None else {'default': value}
        return portal_api.TrialRow(f't{seq}', seq, 'SUCCEEDED', None, None, None, {}, {}, metric, '', (), None)

    rows = [row(0, 0.5), row(1, 0.9), row(2, None), row(3, 0.9), row(4, 0.5)]
    ordered = portal_api.sort_rows(rows, 'metric', descending=True)
    assert [r.sequence_id for r in ordered] == [1, 3, 0, 4, 2]
    ordered = portal_api.sort_rows(rows, 'metric', descending=False)
    assert [r.sequence_id for r in ordered] == [0, 4, 1, 3, 2]
