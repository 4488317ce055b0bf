"""Legacy file channel: ``parameter.cfg`` in, ``.nni/metrics`` out.

Used when ``NNI_PLATFORM`` is set but no channel URL is given, and (its writer half) by the HTTP
channel as the place where metrics go when the manager cannot be reached.

The metrics file is a sequence of records ``ME`` + 6-digit zero-padded byte length + JSON + ``\\n``,
where the length counts the JSON and its newline, as NNI writes it.
"""

from __future__ import annotations

import os

from nni.runtime.trial_command_channel.base import TrialCommandChannel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ['FileTrialCommandChannel', 'metrics_path', 'frame_record', 'append_metric_record',
           'read_parameter_file']

#: Seconds between looks for a parameter file that is not there yet.
POLL_INTERVAL = 3.0


def metrics_path(sys_dir: str) -> str:
    """Path of the metrics file of a trial whose system directory is ``sys_dir``."""
    return os.path.join(sys_dir, '.nni', 'metrics')


def frame_record(envelope: str) -> bytes:
    """One metrics-file record for an envelope JSON text."""
    data = (envelope + '\n').encode('utf-8')
    if len(data) > 999_999:
        raise ValueError(f'metric record of {len(data)} bytes does not fit the 6-digit length field')
    return b'ME%06d' % len(data) + data


def append_metric_record(sys_dir: str | None, envelope: str) -> str:
    """Append one envelope to ``<sys_dir>/.nni/metrics``.

    Parameters
    ----------
    sys_dir
        The trial system directory (``NNI_SYS_DIR``).
    envelope
        The envelope JSON text.

    Returns
    -------
    str
        Path of the metrics file.

    Raises
    ------
    OSError
        No system directory is known or the file cannot be written: the metric would be lost, so
        the trial must hear about it.
    """
    if sys_dir is None:
        raise OSError('cannot save the metric: neither NNI_SYS_DIR nor NNI_OUTPUT_DIR is set')
    record = frame_record(envelope)
    path = metrics_path(sys_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # One O_APPEND write per record keeps records whole even if several processes of a trial
    # report at once; the write also updates the mtime that NNI's "touch" used to signal.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, record)
        while written < len(record):
            written += os.write(fd, record[written:])
    finally:
        os.close(fd)
    return path


def read_parameter_file(path: str) -> dict[str, Any] | None:
    """Read a parameter record file; ``None`` if it does not exist or is still empty.

    Raises
    ------
    ValueError
        The file holds something other than a JSON object with a ``"parameters"`` key.
    """
    try:
        with open(path, encoding='utf-8') as file:
            text = file.read()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    from nni.runtime.serialization import load

    try:
        record = load(text)
    except ValueError as exc:
        raise ValueError(f'{path} is not valid JSON: {exc}') from exc
    if not isinstance(record, dict) or 'parameters' not in record:
        raise ValueError(f'{path} does not hold a parameter record (a JSON object with "parameters")')
    return record


class FileTrialCommandChannel(TrialCommandChannel):
    """NNI's legacy local channel.

    Parameters
    ----------
    sys_dir
        The trial system directory (``NNI_SYS_DIR``).
    multi_phase
        Serve ``parameter_1.cfg``, ``parameter_2.cfg``, ... on later calls (``MULTI_PHASE``);
        otherwise every call after the first returns ``None``.
    poll_interval
        Seconds between looks for a parameter file that is not there yet.
    """

    def __init__(self, sys_dir: str | None, *, multi_phase: bool = False,
                 poll_interval: float = POLL_INTERVAL) -> None:
        self.sys_dir = sys_dir
        self.multi_phase = multi_phase
        self.poll_interval = poll_interval
        self._index = 0

    def _parameter_path(self, index: int) -> str:
        assert self.sys_dir is not None
        name = 'parameter.cfg' if index == 0 else f'parameter_{index}.cfg'
        return os.path.join(self.sys_dir, name)

    def receive_parameter(self) -> dict[str, Any] | None:
        if self._index > 0 and not self.multi_phase:
            return None
        if self.sys_dir is None:
            raise OSError('cannot read parameters: neither NNI_SYS_DIR nor NNI_OUTPUT_DIR is set')
        index = self._index
        path = self._parameter_path(index)
        record = read_parameter_file(path)
        if record is None:
            import json
            import time

            from nni.runtime import env_vars

            # Ask for the parameters the way NNI's legacy channel does, then wait for the file.
            request = json.dumps({'trial_job_id': env_vars.trial_job_id(), 'type': 'REQUEST_PARAMETER',
                                  'sequence': 0, 'parameter_index': index})
            append_metric_record(self.sys_dir, request)
            while record is None:
                time.sleep(self.poll_interval)
                record = read_parameter_file(path)
        self._index += 1
        return record

    def send_metric(self, type: str, parameter_id: Any, trial_job_id: str | None, sequence: int,
                    value: Any) -> None:
        from nni.runtime.metric import encode_envelope

        append_metric_record(self.sys_dir, encode_envelope(type, parameter_id, trial_job_id, sequence, value))
