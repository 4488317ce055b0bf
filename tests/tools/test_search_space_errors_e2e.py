"""Six search-space mistakes are reported in one message, each at its key path, by the Python API,
``nnictl create``, ``nnictl update searchspace`` and the REST API alike (issue: one error per run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from nni.experiment import Experiment
from nni.experiment.config import ConfigError

from .conftest import free_port

SIX_MISTAKES = {
    'lr': {'_type': 'loguniform', '_value': [0, 0.1]},
    'optimizer': {'_type': 'choic', '_value': ['sgd', 'adam']},
    'layers': {'_type': 'randint', '_value': [1.0, 4.0]},
    'dropout': {'_type': 'uniform', '_value': [0.9, 0.1]},
    'model': {'_type': 'choice', '_value': [
        {'_name': 'mlp', 'hidden': {'_type': 'quniform', '_value': [8, 64]}},
        {'_name': 'cnn', 'kernel': {'_type': 'normal', '_value': [3, 0]}}]},
    'units': 64,
}  # fmt: skip
PATHS = ['lr._value', 'optimizer._type', 'layers._value', 'dropout._value', 'model._value[0].hidden._value',
         'model._value[1].kernel._value', 'units']


def _paths_in(text: str, prefix: str) -> list[str]:
    return [path for path in PATHS if re.search(re.escape(prefix + path) + r': ', text)]


def test_python_api_reports_all_six_before_starting(workdir: Path, nni_env: Path) -> None:
    experiment = Experiment('local')
    experiment.config.search_space = SIX_MISTAKES
    experiment.config.trial_command = 'python3 trial.py'
    experiment.config.trial_concurrency = 1
    experiment.config.tuner.name = 'TPE'
    with pytest.raises(ConfigError) as info:
        experiment.start(free_port())
    assert _paths_in(str(info.value), 'searchSpace.') == PATHS
    from nni.experiment.manifest import Experiments

    assert Experiments().get_all_experiments() == {}  # nothing was started or recorded


@pytest.mark.slow
@pytest.mark.integration
def test_nnictl_and_rest_report_all_six(nnictl, write_config, tmp_path: Path, nni_env: Path, stop_all) -> None:  # type: ignore[no-untyped-def]
    result = nnictl('create', '-c', str(write_config(searchSpace=SIX_MISTAKES)))
    assert result.code == 1
    assert _paths_in(result.out, 'searchSpace.') == PATHS, result.out

    port = free_port()
    result = nnictl('create', '-c', str(write_config()), '--port', str(port))
    assert result.code == 0, result.out
    bad_space = tmp_path / 'bad_space.yml'
    bad_space.write_text(yaml.safe_dump(SIX_MISTAKES))
    result = nnictl('update', 'searchspace', '-f', str(bad_space))
    assert result.code != 0 and _paths_in(result.out, '') == PATHS, result.out

    import http.client

    from nni.experiment.rest import _HOST  # the address our client talks to

    connection = http.client.HTTPConnection(_HOST, port, timeout=20)
    profile_body = json.dumps({'params': {'searchSpace': SIX_MISTAKES}})
    connection.request('PUT', '/api/v1/nni/experiment?update_type=SEARCH_SPACE', body=profile_body,
                       headers={'Content-Type': 'application/json'})
    answer = connection.getresponse()
    text = answer.read().decode()
    assert answer.status == 400
    assert _paths_in(json.loads(text)['error'], '') == PATHS, text
