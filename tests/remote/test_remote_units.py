"""Unit tests of the remote training service's pieces that need no SSH server."""

from __future__ import annotations

import pytest

from nni.manager.training_service.remote_nniignore import load_nniignore


def test_nniignore_patterns(tmp_path):
    (tmp_path / '.nniignore').write_text('# comment\ndata/\n*.ckpt\n/top.txt\n!keep.ckpt\n')
    ignored = load_nniignore(tmp_path)
    assert ignored('data/') and ignored('sub/data/')
    assert not ignored('data')  # a file named data is not a folder
    assert ignored('model.ckpt') and ignored('sub/model.ckpt') and not ignored('keep.ckpt')
    assert ignored('top.txt') and not ignored('sub/top.txt')
    assert ignored('.nniignore') and not ignored('trial.py')


def test_missing_asyncssh_says_how_to_install_it(monkeypatch):
    import sys

    from nni.manager.training_service.ssh import SshError, import_asyncssh

    monkeypatch.setitem(sys.modules, 'asyncssh', None)  # makes `import asyncssh` fail
    with pytest.raises(SshError, match=r'pip install nni\[remote\]'):
        import_asyncssh()


def test_gpu_query_output_is_parsed():
    from nni.manager.training_service.remote_gpu import parse_gpu_query
    from nni.manager.training_service.remote_scripts import GPU_SEPARATOR

    output = f'0, GPU-aaa\n1, GPU-bbb\n{GPU_SEPARATOR}\nGPU-bbb\nGPU-bbb\n'
    assert parse_gpu_query(output) == [(0, False), (1, True)]
    assert parse_gpu_query('') == []
