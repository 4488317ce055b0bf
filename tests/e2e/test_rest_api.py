"""NNI's REST paths and JSON shapes, against a real manager."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nni.experiment import rest

from .conftest import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture
def done_experiment(make_experiment):
    experiment = make_experiment(max_trial_number=3)
    assert experiment.run(free_port()) is True
    return experiment


def _raw(port: int, path: str, method: str = 'GET', body: bytes | None = None,
         headers: dict | None = None) -> tuple[int, dict, bytes]:
    import http.client

    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def test_version_and_status_shapes(done_experiment):
    port = done_experiment.port
    status, headers, body = _raw(port, '/api/v1/nni/version')
    assert status == 200 and body == b'3.0.0'
    assert rest.get(port, '/check-status') == {'status': 'DONE', 'errors': []}
    profile = rest.get(port, '/experiment')
    assert profile['id'] == done_experiment.id
    assert profile['params']['maxTrialNumber'] == 3
    assert profile['nextSequenceId'] == 3
    assert isinstance(profile['endTime'], int) and profile['endTime'] >= profile['startTime']
    assert 'access-control-allow-methods' in {key.lower() for key in headers}


def test_trial_jobs_shape_is_what_nni_clients_parse(done_experiment):
    port = done_experiment.port
    trials = rest.get(port, '/trial-jobs')
    assert len(trials) == 3
    for trial in trials:
        assert set(trial) >= {'trialJobId', 'status', 'hyperParameters', 'logPath', 'sequenceId', 'startTime',
                              'endTime', 'finalMetricData'}
        record = json.loads(trial['hyperParameters'][0])
        assert set(record) == {'parameter_id', 'parameter_source', 'parameters', 'parameter_index'}
        [final] = trial['finalMetricData']
        assert final['type'] == 'FINAL' and final['parameterId'] == str(record['parameter_id'])
        value = json.loads(json.loads(final['data']))
        assert value == record['parameters']['x'] * 10 + record['parameters']['y']
    assert rest.get(port, '/trial-jobs?status=FAILED') == []
    one = rest.get(port, f'/trial-jobs/{trials[0]["trialJobId"]}')
    assert one['trialJobId'] == trials[0]['trialJobId']
    status, _, body = _raw(port, '/api/v1/nni/trial-jobs/nope')
    assert status == 200 and body == b''


def test_metric_endpoints(done_experiment):
    port = done_experiment.port
    everything = rest.get(port, '/metric-data')
    assert len(everything) == 3 * 4
    finals = rest.get(port, '/metric-data?type=FINAL')
    assert len(finals) == 3
    latest = rest.get(port, '/metric-data-latest')
    assert sorted(m['type'] for m in latest) == ['FINAL'] * 3 + ['PERIODICAL'] * 3
    assert all(m['sequence'] == 2 for m in latest if m['type'] == 'PERIODICAL')
    in_range = rest.get(port, '/metric-data-range/0/0')
    assert len({m['trialJobId'] for m in in_range}) == 1
    export = rest.get(port, '/export-data')
    assert all(isinstance(entry['value'], str) for entry in export)
    assert rest.get(port, '/job-statistics') == [{'trialJobStatus': 'SUCCEEDED', 'trialJobNumber': 3}]


def test_trial_files_and_logs(done_experiment):
    port = done_experiment.port
    trial = rest.get(port, '/trial-jobs')[0]
    status, headers, body = _raw(port, f'/api/v1/nni/trial-file/{trial["trialJobId"]}/stdout')
    assert status == 200 and body.startswith(b'final metric')
    status, _, body = _raw(port, f'/api/v1/nni/trial-file/{trial["trialJobId"]}/stderr')
    assert status == 200 and body == b'stderr is empty.'
    status, _, body = _raw(port, f'/api/v1/nni/trial-file/{trial["trialJobId"]}/..%2F..%2Fdb')
    assert status in (400, 404)
    status, _, body = _raw(port, '/logs/nnimanager.log')
    assert status == 200 and b'Experiment done.' in body
    status, _, _ = _raw(port, '/logs/missing.log')
    assert status == 404


def test_bad_requests_get_clear_errors_and_the_manager_lives_on(done_experiment):
    port = done_experiment.port
    status, _, body = _raw(port, '/api/v1/nni/experiment?update_type=WRONG', 'PUT', b'{"params": {}}',
                           {'Content-Type': 'application/json'})
    assert status == 400 and 'update_type must be one of' in json.loads(body)['error']
    status, _, body = _raw(port, '/api/v1/nni/experiment?update_type=TRIAL_CONCURRENCY', 'PUT',
                           b'{"params": {"trialConcurrency": -1}}')
    assert status == 400 and 'trialConcurrency must be a positive integer' in json.loads(body)['error']
    status, _, body = _raw(port, '/api/v1/nni/experiment/import-data', 'POST', b'not json')
    assert status == 400 and 'not valid JSON' in json.loads(body)['error']
    status, _, body = _raw(port, '/api/v1/nni/trial-jobs/nope', 'DELETE')
    assert status == 404
    status, _, body = _raw(port, '/env/local-env/nope', 'PUT', b'{}', {'X-NNI-Token': 'wrong'})
    assert status == 403
    assert rest.get(port, '/check-status')['status'] == 'DONE'


def test_raising_limits_revives_a_done_experiment_and_customized_trials_run(done_experiment):
    experiment = done_experiment
    port = experiment.port
    with pytest.raises(rest.RestError, match='reach maxTrialNum'):
        rest.post(port, '/trial-jobs', {'x': 1, 'y': 1})
    # the tuner's next trials take a second each, so they cannot use up the raised limit
    # before the customized trial below is queued
    experiment.update_search_space({'x': {'_type': 'randint', '_value': [0, 10]}, 'y': {'_type': 'choice', '_value': [0]},
                                    'sleep': {'_type': 'choice', '_value': [1]}})
    experiment.update_max_trial_number(6)
    response = rest.post(port, '/trial-jobs', {'x': 7, 'y': 3})
    assert response == {'sequenceId': 3} or response['sequenceId'] in (4, 5)
    wait_for(lambda: experiment.get_status() == 'DONE' and len(experiment.list_trial_jobs()) == 6, timeout=60)
    custom = [t for t in rest.get(port, '/trial-jobs')
              if json.loads(t['hyperParameters'][0])['parameter_source'] == 'customized']
    assert len(custom) == 1 and custom[0]['status'] == 'SUCCEEDED'
    assert json.loads(json.loads(custom[0]['finalMetricData'][0]['data'])) == 73
    experiment.update_search_space({'x': {'_type': 'choice', '_value': [1]}})
    assert experiment.get_experiment_profile()['params']['searchSpace'] == {'x': {'_type': 'choice',
                                                                                  '_value': [1]}}


def test_import_data_is_stored_and_listed(done_experiment):
    port = done_experiment.port
    rest.post(port, '/experiment/import-data', [{'parameter': {'x': 1, 'y': 0}, 'value': 10}])
    imported = rest.get(port, '/experiment/imported-data')
    assert [json.loads(batch) for batch in imported] == [[{'parameter': {'x': 1, 'y': 0}, 'value': 10}]]
    # compact text, as NNI answers: NNI's integration test compares it with the file's content
    assert imported == ['[{"parameter":{"x":1,"y":0},"value":10}]']


def test_tuner_that_raises_puts_experiment_in_error_and_manager_keeps_serving(make_experiment, tmp_path: Path):
    code = tmp_path / 'tuners'
    code.mkdir()
    (code / 'broken_tuner.py').write_text(textwrap.dedent('''
        from nni.tuner import Tuner

        class BrokenTuner(Tuner):
            def __init__(self, fail_after=1):
                self.count = 0
                self.fail_after = fail_after

            def update_search_space(self, search_space):
                self.space = search_space

            def generate_parameters(self, parameter_id, **kwargs):
                self.count += 1
                if self.count > self.fail_after:
                    raise ZeroDivisionError('tuner bug on purpose')
                return {'x': 1, 'y': 2}

            def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
                pass
    '''))
    experiment = make_experiment(trial_concurrency=1, max_trial_number=5)
    experiment.config.tuner = None
    from nni.experiment.config import CustomAlgorithmConfig

    experiment.config.tuner = CustomAlgorithmConfig(class_name='broken_tuner.BrokenTuner',
                                                    code_directory=str(code), class_args={'fail_after': 1})
    assert experiment.run(free_port()) is False
    status = rest.get(experiment.port, '/check-status')
    assert status['status'] == 'ERROR'
    assert 'ZeroDivisionError: tuner bug on purpose' in status['errors'][0]
    # the one trial the tuner did suggest finished and its data is kept
    wait_for(lambda: [t.status for t in experiment.list_trial_jobs()] == ['SUCCEEDED'], timeout=30)
    assert [r.value for r in experiment.export_data()] == [12]
    log = (Path(experiment.config.experiment_working_directory) / experiment.id / 'log' / 'dispatcher.log')
    assert 'tuner bug on purpose' in log.read_text()


def test_unknown_tuner_name_is_a_config_error(make_experiment):
    from nni.experiment.config import ConfigError

    experiment = make_experiment()
    experiment.config.tuner.name = 'TPEE'
    with pytest.raises(ConfigError, match='TPE'):
        experiment.start(free_port())


def test_busy_port_is_refused(make_experiment):
    import socket

    with socket.socket() as blocker:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        experiment = make_experiment()
        started = time.monotonic()
        with pytest.raises(RuntimeError, match=f'Port {port} is not idle'):
            experiment.start(port)
        assert time.monotonic() - started < 10
        assert experiment._proc is None


def test_trial_environment_matches_nni(make_experiment, tmp_path: Path):
    code = tmp_path / 'envtrial'
    code.mkdir()
    (code / 'trial.py').write_text(textwrap.dedent('''
        import json, os
        import nni
        nni.get_next_parameter()
        names = ['NNI_PLATFORM', 'NNI_EXP_ID', 'NNI_TRIAL_JOB_ID', 'NNI_SYS_DIR', 'NNI_OUTPUT_DIR',
                 'NNI_CODE_DIR', 'NNI_TRIAL_SEQ_ID', 'NNI_TRIAL_COMMAND_CHANNEL']
        env = {name: os.environ.get(name) for name in names}
        env['cwd'] = os.getcwd()
        env['ids'] = [nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()]
        with open(os.path.join(os.environ['NNI_OUTPUT_DIR'], 'env.json'), 'w') as handle:
            json.dump(env, handle)
        nni.report_final_result(1)
    '''))
    experiment = make_experiment(max_trial_number=1, trial_concurrency=1)
    experiment.config.trial_code_directory = code
    experiment.config.trial_command = f'{sys.executable} trial.py'
    assert experiment.run(free_port()) is True
    [trial] = experiment.list_trial_jobs()
    env = json.loads((Path(trial.logPath) / 'env.json').read_text())
    assert env['NNI_PLATFORM'] == 'local'
    assert env['NNI_EXP_ID'] == experiment.id
    assert env['NNI_TRIAL_JOB_ID'] == trial.trialJobId
    assert env['NNI_SYS_DIR'] == env['NNI_OUTPUT_DIR'] == trial.logPath
    assert env['NNI_CODE_DIR'] == env['cwd'] == str(code.resolve())
    assert env['NNI_TRIAL_SEQ_ID'] == '0'
    assert env['NNI_TRIAL_COMMAND_CHANNEL'].endswith(f'/env/local-env/{trial.trialJobId}')
    assert env['ids'] == [experiment.id, trial.trialJobId, 0]
