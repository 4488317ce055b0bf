"""Reader of the metrics file a trial writes when it cannot reach the manager.

The framing is NNI's legacy one: ``ME`` + 6-digit byte length + the JSON envelope + newline.
"""

from __future__ import annotations

from pathlib import Path

_HEADER = 8  # 'ME' + 6 digits


def read_metrics_file(path: Path) -> list[str]:
    """Every complete envelope in ``path`` (a missing file gives none).

    A record cut short (the trial died mid-write) ends the read instead of raising: what came
    before it is still good.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    envelopes: list[str] = []
    offset = 0
    while offset + _HEADER <= len(data):
        # writers differ on whether the length counts the trailing newline; tolerate both
        while offset < len(data) and data[offset:offset + 1] in (b'\n', b'\r'):
            offset += 1
        if offset + _HEADER > len(data):
            break
        if data[offset:offset + 2] != b'ME' or not data[offset + 2:offset + _HEADER].isdigit():
            break
        length = int(data[offset + 2:offset + _HEADER])
        body = data[offset + _HEADER:offset + _HEADER + length]
        if len(body) < length:
            break
        envelopes.append(body.decode('utf-8').strip())
        offset += _HEADER + length
    return envelopes
