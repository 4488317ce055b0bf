"""The web portal links printed at start carry the token only where the portal needs it."""

from __future__ import annotations

from pathlib import Path

from nni.experiment.experiment import _read_token, _with_token
from nni.manager.store import ExperimentStore
from nni.tools.nnictl.experiments import ExperimentRef
from nni.tools.nnictl.webui import portal_urls


def test_only_non_loopback_links_carry_the_token(tmp_path: Path) -> None:
    (tmp_path / 'db').mkdir()
    (tmp_path / 'db' / 'token').write_text('s3cret\n')
    token = _read_token(tmp_path)
    assert token == 's3cret'
    assert _with_token('http://10.1.2.3:8080', token) == 'http://10.1.2.3:8080/?token=s3cret'
    assert _with_token('http://10.1.2.3:8080/prefix', token) == 'http://10.1.2.3:8080/prefix/?token=s3cret'
    assert _with_token('http://127.0.0.1:8080', token) == 'http://127.0.0.1:8080'
    assert _with_token('http://[::1]:8080', token) == 'http://[::1]:8080'
    assert _with_token('http://10.1.2.3:8080', None) == 'http://10.1.2.3:8080'
    assert _read_token(tmp_path / 'missing') is None


def test_nnictl_webui_url_adds_the_token_off_loopback(tmp_path: Path) -> None:
    root = tmp_path / 'exp1'
    (root / 'db').mkdir(parents=True)
    (root / 'db' / 'token').write_text('tok')
    ref = ExperimentRef('exp1', {'port': 8080, 'logDir': str(tmp_path), 'status': 'RUNNING'})
    # no stored profile: only the loopback address, which needs no token
    assert portal_urls(ref) == ['http://127.0.0.1:8080']
    store = ExperimentStore(root / 'db' / 'nni.sqlite', create=True)
    store.store_profile({'params': {'nniManagerIp': '10.9.8.7'}, 'id': 'exp1', 'execDuration': 0,
                         'logDir': str(root), 'nextSequenceId': 0, 'revision': 1})
    store.close()
    assert portal_urls(ref) == ['http://10.9.8.7:8080/?token=tok', 'http://127.0.0.1:8080']
