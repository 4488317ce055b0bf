"""nni.common.version: versions recorded next to saved objects, and their check."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nni.common.version import torch_version_is_2, version_check, version_dump


def test_dump_names_python_nni_and_the_serialisation_packages() -> None:
    versions = version_dump()
    assert versions['python'] == sys.version_info[:2]
    assert versions['nni'] == (3, 0)
    assert {'numpy', 'torch', 'pytorch_lightning', 'tensorflow', 'cloudpickle', 'json_tricks', 'pyyaml'} <= set(versions)
    assert all(value is None or (len(value) == 2 and all(isinstance(v, int) for v in value)) for value in versions.values())


def test_check_passes_on_itself_and_reports_mismatches() -> None:
    version_check(version_dump(), raise_error=True)
    version_check({'python': list(sys.version_info[:2]), 'torch': None}, raise_error=True)  # lists, as after JSON
    with pytest.warns(UserWarning, match='Expect nni to have version'):
        version_check({'nni': (99, 0)})
    with pytest.raises(RuntimeError, match='python is missing|Expect python'):
        version_check({'python': (2, 7)}, raise_error=True)
    with pytest.raises(RuntimeError, match='nosuchpackage is missing in current environment'):
        version_check({'nosuchpackage': (1, 0)}, raise_error=True)
    assert torch_version_is_2() in (True, False)


def test_dump_imports_no_heavy_package() -> None:
    code = 'import sys; from nni.common.version import version_dump; version_dump(); print("numpy" in sys.modules)'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == 'False', result.stderr
