"""Trial logging under an experiment: the nni logger goes to trial.log; stdout is left alone."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap

import nni


def test_trial_log_written_and_stdout_untouched(clean_env, tmp_path, dead_url):
    trial_dir = tmp_path / 'trial'
    trial_dir.mkdir()
    (trial_dir / 'parameter.cfg').write_text(json.dumps({'parameter_id': 1, 'parameters': {'x': 1}}))
    env = dict(clean_env, NNI_PLATFORM='local', NNI_EXP_ID='e', NNI_TRIAL_JOB_ID='t1',
               NNI_SYS_DIR=str(trial_dir), NNI_OUTPUT_DIR=str(trial_dir), NNI_TRIAL_COMMAND_CHANNEL=dead_url)
    code = textwrap.dedent('''
        import logging, sys
        stdout = sys.stdout
        import nni
        print('params', nni.get_next_parameter())
        logging.getLogger('nni.user').info('from the nni logger')
        logging.getLogger('app').warning('app logger')
        nni.report_final_result(0.5)
        print('same stdout', sys.stdout is stdout)
    ''')
    result = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["params {'x': 1}", 'same stdout True']
    assert 'app logger' in result.stderr  # Python's last-resort handler; we do not capture it
    log = (trial_dir / 'trial.log').read_text().splitlines()
    assert re.fullmatch(r'\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO \(nni\.user/MainThread\) from the nni logger',
                        log[0])
    assert 'WARNING (nni.runtime.http_channel/MainThread) cannot deliver metric' in log[1]
    assert not any('PRINT' in line for line in log)


def test_setup_is_idempotent_and_reversible(trial_env, monkeypatch):
    from nni.runtime import log

    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'http://127.0.0.1:9/env/a/b')
    assert log.setup_trial_logging() == str(trial_env / 'trial.log')
    assert log.setup_trial_logging() is None
    logger = logging.getLogger('nni')
    ours = [h for h in logger.handlers if getattr(h, '_nni_runtime_handler', False)]
    assert len(ours) == 1
    nni.trial._reset()
    assert not any(getattr(h, '_nni_runtime_handler', False) for h in logger.handlers)


def test_reuse_mode_logs_to_stdout(trial_env, monkeypatch):
    from nni.runtime import log

    monkeypatch.setenv('REUSE_MODE', 'true')
    assert log.setup_trial_logging() is None
    assert not (trial_env / 'trial.log').exists()
    handlers = [h for h in logging.getLogger('nni').handlers if getattr(h, '_nni_runtime_handler', False)]
    assert len(handlers) == 1 and isinstance(handlers[0], logging.StreamHandler)
