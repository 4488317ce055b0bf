"""REST routes the web portal needs beyond NNI's API, and the portal's page and asset serving.

NNI's portal downloads every trial and every metric on each refresh, which is what makes it slow
with thousands of trials. Ours asks for little and often:

* ``GET /api/v1/nni/portal/state``: one small document for the header and the overview; its
  ``marker`` changes whenever anything the portal shows changes, so the page polls only this and
  refetches the rest when a marker moved.
* ``GET /api/v1/nni/trial-jobs?offset=&limit=&sort=&order=&status=&search=&ids=``: the paged,
  sorted, filtered trial list the virtualized table reads (without those parameters the route
  keeps NNI's plain-array answer; see :func:`wants_paging`).
* ``GET /api/v1/nni/portal/trials``: every trial as one compact row (parameters flattened into
  columns, final metric decoded) for the charts.
* ``GET /api/v1/nni/portal/intermediates?trials=a,b``: intermediate results as plain numbers.
* ``GET /api/v1/nni/portal/trial-files/{id}``: files of a trial's directory.
* ``DELETE /api/v1/nni/portal/experiments/{id}``: forget a stopped experiment and delete its data.

Every GET here answers ``ETag`` and honours ``If-None-Match`` with a 304, so a poll that finds
nothing new costs one tiny request. The markers come from the store's highest row ids, which
grow with every write, so computing them is O(1) whatever the experiment size.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import math
import mimetypes
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nni.common.objectives import objectives_of_config

from .web import Request, Response, Route

if TYPE_CHECKING:
    from .engine import Engine
    from .trial_records import TrialRecord

STATIC_DIR = Path(__file__).resolve().parent.parent / 'webui' / 'static'
PAGING_PARAMS = ('offset', 'limit', 'sort', 'order', 'search', 'ids')
MAX_PAGE = 1000
#: bodies bigger than this are gzipped for clients that accept it (remote portals on slow links);
#: smaller ones are not worth the CPU
GZIP_MIN_BYTES = 32 * 1024
_JSON_TYPE = 'application/json'
# A strict policy: the portal is same-origin ES modules and stylesheets only, so even an HTML
# injection bug could not run a script or send data elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")
_BASE_TAG = '<base href="/">'
_TERM = re.compile(r'^([A-Za-z_][\w./-]*?)(>=|<=|!=|=|>|<|:)(.*)$')
_TERMINAL = frozenset({'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED', 'EARLY_STOPPED'})

Guard = Callable[..., Callable[[Request], Any]]


class PortalError(Exception):
    """A bad portal request; the REST layer answers ``status`` with ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------- value helpers


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by ``None``: browsers' JSON.parse rejects them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_decode_json = json.JSONDecoder().decode


def decode_metric(data: str | None) -> dict[str, float | None] | None:
    """A stored (double-encoded) metric as ``{key: number}``; a plain number becomes ``default``.

    Non-numeric entries of a dict metric are dropped: the portal only plots and sorts numbers.
    """
    if data is None:
        return None
    # fast path for the common case, a plain number stored as '"0.93"': one float() instead of
    # two JSON decodes, which matters when 50,000 intermediate results are read at once
    if len(data) > 2 and data[0] == '"' and data[-1] == '"' and '\\' not in data:
        try:
            return {'default': finite(float(data[1:-1]))}
        except ValueError:
            pass
    try:
        value = _decode_json(data)
        if isinstance(value, str):
            value = _decode_json(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return {'default': finite(float(value))}
    if not isinstance(value, dict):
        return None
    decoded: dict[str, float | None] = {}
    if 'default' in value:
        # default first: it names the metric the tuner optimises and the table's first metric column
        value = {'default': value['default'], **value}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            continue
        decoded[str(key)] = finite(float(item))
    return decoded or None


def flatten_parameters(parameters: Any, prefix: str = '') -> dict[str, Any]:
    """Parameters as flat columns: nested choices (``{"_name": ..., ...}``) become ``a``, ``a/b``."""
    flat: dict[str, Any] = {}
    if not isinstance(parameters, dict):
        return flat
    for key, value in parameters.items():
        name = prefix + key if prefix else key
        kind = type(value)
        # exact type checks first: this runs for every trial of every experiment the portal opens
        if kind is str or kind is int or value is None or kind is bool:
            flat[name] = value
        elif kind is float:
            flat[name] = value if value - value == 0 else None  # inf - inf and nan - nan are nan
        elif isinstance(value, dict):
            if '_name' in value:
                flat[name] = finite(value['_name'])
            flat.update(flatten_parameters({k: v for k, v in value.items() if k != '_name'}, name + '/'))
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(value)
        else:
            flat[name] = finite(value)
    return flat


def _optimize_mode(params: dict[str, Any]) -> str:
    for key in ('tuner', 'advisor', 'assessor'):
        section = params.get(key) or {}
        mode = (section.get('classArgs') or {}).get('optimize_mode') if isinstance(section, dict) else None
        if mode:
            return str(mode)
    return 'maximize'


# ---------------------------------------------------------------------------- trial rows


@dataclass(slots=True)
class TrialRow:
    """What the portal knows about one trial, decoded once and reused until the trial changes."""

    trial_id: str
    sequence_id: int | None
    status: str
    submit: int | None
    start: int | None
    end: int | None
    params: dict[str, Any]
    raw_parameters: Any
    metric: dict[str, float | None] | None
    text: str
    signature: tuple[Any, ...]
    record: TrialRecord
    digest_key: Any = None
    digest_row: list[Any] | None = None

    @property
    def duration(self) -> int | None:
        if self.start is None:
            return None
        end = self.end if self.end is not None else int(time.time() * 1000)
        return max(0, end - self.start)

    def digest(self, columns: tuple[tuple[str, ...], tuple[str, ...]]) -> list[Any]:
        """The compact chart row; kept until the trial or the experiment's columns change."""
        if self.digest_key is columns and self.digest_row is not None:
            return self.digest_row
        param_names, metric_keys = columns
        metric = None
        if self.metric is not None:
            metric = [self.metric.get(key) for key in metric_keys]
        params = self.params
        self.digest_row = [self.trial_id, self.sequence_id, self.status, self.start, self.end,
                           [params.get(name) for name in param_names], metric]
        self.digest_key = columns
        return self.digest_row

    def rest(self) -> dict[str, Any]:
        info = self.record.to_rest()
        info['parameters'] = self.raw_parameters
        info['params'] = self.params
        info['metric'] = self.metric
        if self.submit is not None:
            info['submitTime'] = self.submit
        return info


def _signature(record: TrialRecord) -> tuple[Any, ...]:
    final = record.final_metric
    return (record.status, len(record.hyper_parameters), None if final is None else (final.timestamp, final.data),
            record.start_time, record.end_time, record.sequence_id, record.submit_time)


def _build_row(record: TrialRecord, signature: tuple[Any, ...]) -> TrialRow:
    raw = record.parameters()
    metric = decode_metric(record.final_metric.data) if record.final_metric is not None else None
    start = record.start_time if record.start_time is not None else record.submit_time
    text = f'{record.trial_job_id} {record.status} {record.parameter_text}'.lower()
    return TrialRow(record.trial_job_id, record.sequence_id, record.status, record.submit_time, start,
                    record.end_time, flatten_parameters(raw), raw, metric, text, signature, record)


# ---------------------------------------------------------------------------- search


@dataclass(slots=True)
class _Term:
    key: str | None
    op: str
    text: str
    number: float | None


def parse_search(search: str) -> list[_Term]:
    """Split a search box text into terms, all of which a trial must match.

    ``name<op>value`` compares a parameter, metric or built-in column (``status``, ``id``, ``seq``,
    ``duration`` in seconds) with ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, or ``:`` (contains);
    any other word matches trial ids, statuses and parameter text case-insensitively.
    """
    terms = []
    for word in search.split():
        match = _TERM.match(word)
        if match and match.group(3) != '':
            key, op, text = match.groups()
            text = text.strip('"\'')
            try:
                number: float | None = float(text)
            except ValueError:
                number = None
            terms.append(_Term(key, op, text.lower(), number))
        else:
            terms.append(_Term(None, ':', word.lower(), None))
    return terms


def _column_value(row: TrialRow, key: str, metric_keys: set[str]) -> tuple[bool, Any]:
    """``(known, value)`` of a named column for one trial."""
    lowered = key.lower()
    if lowered == 'status':
        return True, row.status
    if lowered in ('id', 'trial', 'trialjobid'):
        return True, row.trial_id
    if lowered in ('seq', 'sequence', 'sequenceid', '#'):
        return True, row.sequence_id
    if lowered == 'duration':
        duration = row.duration
        return True, None if duration is None else duration / 1000
    if key in row.params:
        return True, row.params[key]
    if lowered == 'metric':
        return True, None if row.metric is None else row.metric.get('default')
    metric_name = key[7:] if lowered.startswith('metric:') or lowered.startswith('metric.') else key
    if metric_name in metric_keys:
        return True, None if row.metric is None else row.metric.get(metric_name)
    return False, None


def _matches(row: TrialRow, term: _Term, known_keys: set[str], metric_keys: set[str]) -> bool:
    if term.key is not None:
        known, value = _column_value(row, term.key, metric_keys)
        if not known and term.key not in known_keys:
            # not a column this experiment has: treat the whole word as free text
            return f'{term.key}{term.op}{term.text}'.lower() in row.text
        if value is None:
            return term.op == '!='
        op = term.op
        if isinstance(value, bool) or not isinstance(value, (int, float)) or term.number is None:
            left = str(value).lower()
            right = term.text
            if op == ':':
                return right in left
            if op == '=':
                return left == right
            if op == '!=':
                return left != right
            return _compare(left, op, right)
        if op == ':' or op == '=':
            return math.isclose(float(value), term.number, rel_tol=1e-9, abs_tol=1e-12)
        if op == '!=':
            return not math.isclose(float(value), term.number, rel_tol=1e-9, abs_tol=1e-12)
        return _compare(float(value), op, term.number)
    return term.text in row.text


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == '>':
        return left > right
    if op == '>=':
        return left >= right
    if op == '<':
        return left < right
    return left <= right


# ---------------------------------------------------------------------------- sorting


def _sort_value(row: TrialRow, sort: str) -> Any:
    if sort in ('sequenceId', 'seq'):
        return row.sequence_id
    if sort == 'trialJobId':
        return row.trial_id
    if sort == 'status':
        return row.status
    if sort == 'startTime':
        return row.start
    if sort == 'endTime':
        return row.end
    if sort == 'duration':
        return row.duration
    if sort == 'metric':
        return None if row.metric is None else row.metric.get('default')
    if sort.startswith('metric:'):
        return None if row.metric is None else row.metric.get(sort[7:])
    if sort.startswith('param:'):
        return row.params.get(sort[6:])
    raise PortalError(f'cannot sort by {sort!r}: use sequenceId, trialJobId, status, startTime, endTime, '
                      'duration, metric, metric:<key> or param:<name>')


def _sortable(value: Any) -> tuple[int, Any]:
    # numbers before strings, so a choice of mixed types still sorts without a TypeError
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))


def sort_rows(rows: Iterable[TrialRow], sort: str, descending: bool) -> list[TrialRow]:
    """Rows ordered by one column; trials without a value come last in either order."""
    with_value: list[tuple[Any, TrialRow]] = []
    without: list[TrialRow] = []
    for row in rows:
        value = _sort_value(row, sort)
        if value is None:
            without.append(row)
        else:
            with_value.append((_sortable(value), row))
    # ties keep the trial order (earliest first, in either direction): Python's sort is stable,
    # with reverse=True too, so order by sequence id first and then by value
    with_value.sort(key=lambda item: item[1].sequence_id or 0)
    with_value.sort(key=lambda item: item[0], reverse=descending)
    without.sort(key=lambda row: row.sequence_id or 0)
    return [row for _, row in with_value] + without


# ---------------------------------------------------------------------------- the data layer


class PortalData:
    """Decoded, cached views of an engine's trials, rebuilt only when the store changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rows: dict[str, TrialRow] = {}
        self._rows_marker: str | None = None
        self._ordered: list[TrialRow] = []
        self._param_names: list[str] = []
        self._metric_keys: list[str] = []
        self._columns: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._queries: OrderedDict[tuple[Any, ...], list[TrialRow]] = OrderedDict()
        self._bodies: dict[str, tuple[str, bytes, bytes | None]] = {}
        self._intermediate_rowid = 0
        self._intermediates: dict[str, list[list[Any]]] = {}
        self._intermediate_store: int | None = None
        # the warm-up thread and the event loop may build the caches at the same moment
        self._lock = threading.RLock()

    def warm_up_in_background(self) -> None:
        """Decode a viewed experiment's trials now, off the event loop, before a browser asks.

        Only for ``VIEWED``: nothing changes the trials then, so a worker thread may read them.
        With 10,000 trials this takes the half second a first page load would otherwise wait.
        """
        if self.engine.status != 'VIEWED':
            return

        def warm() -> None:
            try:
                self.cached_body('digest', self.trial_marker(), self.digest)
                self.cached_body('state', self.marker(), self.state)
            except Exception:  # noqa: BLE001 - an optimisation only; requests compute it again
                logging.getLogger('nni.manager.portal').exception('portal warm-up failed')

        threading.Thread(target=warm, name='nni-portal-warm-up', daemon=True).start()

    # markers --------------------------------------------------------------------------

    def store_marks(self) -> tuple[int, int]:
        store = self.engine.store
        if store is None:
            return (0, 0)
        return store.change_marker()

    def trial_marker(self) -> str:
        events, metrics = self.store_marks()
        return f'{events}.{metrics}.{len(self.engine.trials)}'

    def marker(self) -> str:
        profile = self.engine.profile()
        return (f'{self.engine.status}.{profile.get("revision", 0)}.{profile.get("nextSequenceId", 0)}.'
                f'{len(self.engine.errors)}.{self.trial_marker()}')

    # rows -----------------------------------------------------------------------------

    def rows(self) -> list[TrialRow]:
        """Every trial in submission order, decoded."""
        with self._lock:
            return self._rows_locked()

    def _rows_locked(self) -> list[TrialRow]:
        marker = self.trial_marker()
        if marker == self._rows_marker:
            return self._ordered
        ordered = []
        fresh: dict[str, TrialRow] = {}
        for record in self.engine.trials.values():
            signature = _signature(record)
            row = self._rows.get(record.trial_job_id)
            if row is None or row.signature != signature:
                row = _build_row(record, signature)
            fresh[record.trial_job_id] = row
            ordered.append(row)
        ordered.sort(key=lambda row: (row.sequence_id is None, row.sequence_id or 0))
        self._rows = fresh
        self._ordered = ordered
        self._rows_marker = marker
        self._param_names = self._collect_param_names(ordered)
        self._metric_keys = self._collect_metric_keys(ordered)
        columns = (tuple(self._param_names), tuple(self._metric_keys))
        if columns != self._columns:
            self._columns = columns  # a new object: every row's cached digest goes stale
        self._queries.clear()
        return ordered

    def _collect_param_names(self, rows: list[TrialRow]) -> list[str]:
        names: dict[str, None] = {}
        space = self.engine.params.get('searchSpace')
        if isinstance(space, dict):
            # the search space's order is the order users wrote, which beats first-seen order
            for key, spec in space.items():
                if isinstance(spec, dict) and spec.get('_type') == 'choice' and any(
                        isinstance(option, dict) for option in spec.get('_value') or []):
                    continue  # nested choice: its flattened names come from the trials
                names[key] = None
        for row in rows:
            for key in row.params:
                if key not in names:
                    names[key] = None
        return list(names)

    @staticmethod
    def _collect_metric_keys(rows: list[TrialRow]) -> list[str]:
        keys: dict[str, None] = {}
        for row in rows:
            if row.metric:
                for key in row.metric:
                    if key not in keys:
                        keys[key] = None
        ordered = list(keys)
        if 'default' in keys:
            ordered.remove('default')
            ordered.insert(0, 'default')
        return ordered

    @property
    def param_names(self) -> list[str]:
        self.rows()
        return self._param_names

    @property
    def metric_keys(self) -> list[str]:
        self.rows()
        return self._metric_keys

    # state ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        engine = self.engine
        rows = self.rows()
        counts: dict[str, int] = {}
        maximize = _optimize_mode(engine.params) != 'minimize'
        # a multi-objective experiment's best trial is the best by its first declared objective
        objectives = objectives_of_config(engine.params) or []
        best_key, best_maximize = (objectives[0].name, objectives[0].maximize) if objectives else ('default', maximize)
        best: TrialRow | None = None
        best_value = 0.0
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
            if row.status != 'SUCCEEDED' or not row.metric:
                continue
            value = row.metric.get(best_key)
            if value is None:
                continue
            if best is None or (value > best_value if best_maximize else value < best_value):
                best, best_value = row, value
        # the engine's summary walks every trial again; only a live experiment has a queue to report
        summary = engine.summary() if engine.status not in ('VIEWED', 'STOPPED', 'INITIALIZED') else {}
        profile = engine.profile()
        return {
            'marker': self.marker(),
            'trialMarker': self.trial_marker(),
            'experimentId': engine.experiment_id,
            'status': engine.status,
            'errors': list(engine.errors),
            # the overview's failure banner: why trials fail (failure_guard.py)
            'firstFailure': engine.failure_guard.first_failure if counts.get('FAILED') else None,
            'profile': profile,
            'counts': counts,
            'total': len(rows),
            'running': summary.get('running', counts.get('RUNNING', 0)),
            'waiting': summary.get('waiting', 0),
            'optimizeMode': 'maximize' if maximize else 'minimize',
            'best': None if best is None else {
                'trialJobId': best.trial_id, 'sequenceId': best.sequence_id, 'value': best_value,
                'metric': best.metric, 'metricKey': best_key,
                'mode': 'maximize' if best_maximize else 'minimize'},
            'objectives': [{'name': o.name, 'mode': o.mode()} for o in objectives],
            'paramNames': self._param_names,
            'metricKeys': self._metric_keys,
            'readOnly': engine.status == 'VIEWED',
            'urlPrefix': engine.options.url_prefix,
        }

    # paged trial list -----------------------------------------------------------------

    def page(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            offset = max(0, int(query.get('offset') or 0))
            limit = min(MAX_PAGE, max(0, int(query.get('limit') or 100)))
        except ValueError as error:
            raise PortalError('offset and limit must be integers') from error
        order = (query.get('order') or 'asc').lower()
        if order not in ('asc', 'desc'):
            raise PortalError(f'order must be asc or desc, got {order!r}')
        selected = self.select(query.get('sort') or 'sequenceId', order == 'desc', query.get('status') or '',
                               query.get('search') or '', query.get('ids') or '')
        return {
            'total': len(selected),
            'all': len(self._ordered),
            'offset': offset,
            'limit': limit,
            'marker': self.trial_marker(),
            'paramNames': self._param_names,
            'metricKeys': self._metric_keys,
            'trials': [row.rest() for row in selected[offset:offset + limit]],
        }

    def select(self, sort: str, descending: bool, status: str, search: str, ids: str) -> list[TrialRow]:
        """Filtered and sorted rows; kept for a few queries so that scrolling pages does not re-sort."""
        with self._lock:
            return self._select_locked(sort, descending, status, search, ids)

    def _select_locked(self, sort: str, descending: bool, status: str, search: str, ids: str) -> list[TrialRow]:
        rows = self.rows()
        key = (self._rows_marker, sort, descending, status, search, ids)
        cached = self._queries.get(key)
        if cached is not None:
            self._queries.move_to_end(key)
            return cached
        if ids:
            wanted = set(filter(None, ids.split(',')))
            rows = [row for row in rows if row.trial_id in wanted]
        if status:
            statuses = {item.strip().upper() for item in status.split(',') if item.strip()}
            rows = [row for row in rows if row.status in statuses]
        terms = parse_search(search) if search.strip() else []
        if terms:
            metric_keys = set(self._metric_keys)
            known = set(self._param_names) | metric_keys
            rows = [row for row in rows if all(_matches(row, term, known, metric_keys) for term in terms)]
        if sort not in ('sequenceId', 'seq') or descending:
            rows = sort_rows(rows, sort, descending)
        self._queries[key] = rows
        while len(self._queries) > 16:
            self._queries.popitem(last=False)
        return rows

    # chart data -----------------------------------------------------------------------

    def digest(self) -> dict[str, Any]:
        rows = self.rows()
        names, keys = self._param_names, self._metric_keys
        return {
            'marker': self.trial_marker(),
            'paramNames': names,
            'metricKeys': keys,
            'fields': ['trialJobId', 'sequenceId', 'status', 'startTime', 'endTime', 'params', 'metric'],
            'trials': [row.digest(self._columns) for row in rows],
        }

    def intermediates(self, trial_ids: list[str] | None) -> dict[str, Any]:
        """Intermediate results as ``{trial: [[sequence, value], ...]}``, read incrementally."""
        store = self.engine.store
        if store is None:
            return {'marker': self.trial_marker(), 'trials': {}}
        if self._intermediate_store != id(store):
            self._intermediate_store = id(store)
            self._intermediate_rowid = 0
            self._intermediates = {}
        # only rows written since the last call are decoded: a running experiment adds a few
        # per second, and a viewed 10,000-trial one is decoded once
        for rowid, trial_id, sequence, data in store.metric_values_after(self._intermediate_rowid, 'PERIODICAL'):
            self._intermediate_rowid = rowid
            value = decode_metric(data)
            if value is None:
                continue
            scalar: Any = value['default'] if len(value) == 1 and 'default' in value else value
            series = self._intermediates.get(trial_id)
            if series is None:
                series = self._intermediates[trial_id] = []
            series.append([sequence, scalar])
        if trial_ids is None:
            chosen = self._intermediates
        else:
            chosen = {trial_id: self._intermediates.get(trial_id, []) for trial_id in trial_ids}
        return {'marker': self.trial_marker(), 'trials': chosen}

    # response cache -------------------------------------------------------------------

    def cached_body(self, name: str, marker: str, build: Callable[[], Any]) -> tuple[bytes, bytes | None]:
        """The encoded body (and its gzip) of a marker-versioned document, built once per marker."""
        with self._lock:
            return self._cached_body_locked(name, marker, build)

    def _cached_body_locked(self, name: str, marker: str, build: Callable[[], Any]) -> tuple[bytes, bytes | None]:
        cached = self._bodies.get(name)
        if cached is not None and cached[0] == marker:
            return cached[1], cached[2]
        body = encode(build())
        compressed = gzip.compress(body, compresslevel=5) if len(body) >= GZIP_MIN_BYTES else None
        self._bodies[name] = (marker, body, compressed)
        return body, compressed


def encode(data: Any) -> bytes:
    return json.dumps(data, separators=(',', ':'), allow_nan=False, default=str).encode()


def wants_paging(request: Request) -> bool:
    """Whether ``GET /trial-jobs`` was asked for the paged answer (any paging parameter given)."""
    return any(name in request.query_params for name in PAGING_PARAMS)


def _etag(marker: str, extra: str = '') -> str:
    digest = hashlib.blake2s(f'{marker}|{extra}'.encode(), digest_size=8).hexdigest()
    return f'W/"{digest}"'


def _not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get('if-none-match')
    if not given:
        return False
    return any(tag.strip() == etag for tag in given.split(','))


def json_with_etag(request: Request, etag: str, body: bytes | Callable[[], bytes],
                   compressed: bytes | None = None) -> Response:
    """A JSON answer that revalidates: 304 when the client holds this version already."""
    headers = {'ETag': etag, 'Cache-Control': 'no-cache'}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    if callable(body):
        body = body()
    if compressed is None and len(body) >= GZIP_MIN_BYTES and 'gzip' in request.headers.get('accept-encoding', ''):
        compressed = gzip.compress(body, compresslevel=5)
    if compressed is not None and 'gzip' in request.headers.get('accept-encoding', ''):
        headers['Content-Encoding'] = 'gzip'
        headers['Vary'] = 'Accept-Encoding'
        return Response(compressed, media_type=_JSON_TYPE, headers=headers)
    return Response(body, media_type=_JSON_TYPE, headers=headers)


# ---------------------------------------------------------------------------- routes


def portal_routes(engine: Engine, data: PortalData, guarded: Guard) -> list[Route]:
    """Routes to mount under ``/api/v1/nni`` (before NNI's own, which they do not shadow)."""

    async def state(request: Request) -> Response:
        marker = data.marker()
        body, compressed = data.cached_body('state', marker, data.state)
        return json_with_etag(request, _etag(marker, 'state'), body, compressed)

    async def trials(request: Request) -> Response:
        marker = data.trial_marker()
        body, compressed = data.cached_body('digest', marker, data.digest)
        return json_with_etag(request, _etag(marker, 'digest'), body, compressed)

    async def intermediates(request: Request) -> Response:
        raw = request.query_params.get('trials')
        trial_ids = [item for item in raw.split(',') if item] if raw else None
        marker = data.trial_marker()
        etag = _etag(marker, f'intermediates|{raw or ""}')
        if _not_modified(request, etag):
            return json_with_etag(request, etag, b'')
        if trial_ids is None:
            body, compressed = data.cached_body('intermediates', marker, lambda: data.intermediates(None))
            return json_with_etag(request, etag, body, compressed)
        return json_with_etag(request, etag, encode(data.intermediates(trial_ids)))

    async def trial_files(request: Request) -> Response:
        trial_id = request.path_params['trial_id']
        record = engine.trials.get(trial_id)
        if record is None:
            raise PortalError(f'trial {trial_id} not found', 404)
        files: list[dict[str, Any]] = []
        folder = Path(record.log_path) if record.log_path else None
        if folder is not None and folder.is_dir():
            def listing() -> list[dict[str, Any]]:
                found = []
                for entry in sorted(os.scandir(folder), key=lambda item: item.name):
                    if entry.name.startswith('.') or not entry.is_file():
                        continue
                    stat = entry.stat()
                    found.append({'name': entry.name, 'size': stat.st_size, 'modified': int(stat.st_mtime * 1000)})
                return found

            files = await asyncio.to_thread(listing)
        return Response(encode({'trialJobId': trial_id, 'logPath': record.log_path, 'files': files}),
                        media_type=_JSON_TYPE, headers={'Cache-Control': 'no-cache'})

    async def delete_experiment(request: Request) -> Response:
        experiment_id = request.path_params['experiment_id']
        if experiment_id == engine.experiment_id:
            raise PortalError('this portal belongs to that experiment: stop it, then delete it from another '
                              'portal or with "nnictl experiment delete"', 409)
        result = await asyncio.to_thread(delete_stopped_experiment, experiment_id)
        return Response(encode(result), media_type=_JSON_TYPE)

    def errors(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapper(request: Request) -> Response:
            try:
                return await handler(request)
            except PortalError as error:
                return Response(encode({'error': str(error)}), status_code=error.status, media_type=_JSON_TYPE)

        return wrapper

    return [
        Route('/portal/state', guarded(errors(state)), methods=['GET']),
        Route('/portal/trials', guarded(errors(trials)), methods=['GET']),
        Route('/portal/intermediates', guarded(errors(intermediates)), methods=['GET']),
        Route('/portal/trial-files/{trial_id}', guarded(errors(trial_files)), methods=['GET']),
        Route('/portal/experiments/{experiment_id}', guarded(errors(delete_experiment), mutating=True),
              methods=['DELETE']),
    ]


async def paged_trial_jobs(request: Request, data: PortalData) -> Response:
    """``GET /trial-jobs`` with paging parameters (see the module docstring)."""
    query = dict(request.query_params)
    marker = data.trial_marker()
    etag = _etag(marker, 'page|' + '&'.join(f'{key}={query[key]}' for key in sorted(query)))
    try:
        return json_with_etag(request, etag, lambda: encode(data.page(query)))
    except PortalError as error:
        return Response(encode({'error': str(error)}), status_code=error.status, media_type=_JSON_TYPE)


def delete_stopped_experiment(experiment_id: str) -> dict[str, Any]:
    """Forget an experiment in the manifest and delete its folder; only when its manager is gone."""
    from nni.experiment import manifest

    entries = manifest.sweep_dead_experiments()
    entry = entries.get(experiment_id)
    if not isinstance(entry, dict):
        raise PortalError(f'experiment {experiment_id} is not in the experiment manifest', 404)
    if entry.get('status') != 'STOPPED' and manifest.pid_alive(entry.get('pid')):
        raise PortalError(f'experiment {experiment_id} is {entry.get("status")}: stop it before deleting it', 409)
    removed = None
    log_dir = entry.get('logDir')
    if log_dir:
        folder = Path(log_dir).expanduser() / experiment_id
        # only a folder that looks like an experiment's: a wrong logDir must never cost other files
        if folder.is_dir() and (folder / 'db').is_dir():
            shutil.rmtree(folder)
            removed = str(folder)
    manifest.Experiments().remove_experiment(experiment_id)
    return {'deleted': experiment_id, 'removedFolder': removed}


# ---------------------------------------------------------------------------- page and assets


@dataclass(slots=True)
class _Asset:
    stamp: tuple[int, int]
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


_assets: dict[Path, _Asset] = {}
_ASSET_LINK = re.compile(r'((?:href|src)=")((?:css|js)/|favicon\.svg)')
_VERSIONED = re.compile(r'^v/([0-9a-f]{1,32})/(.+)$')


def assets_version() -> str:
    """A digest of every static file's size and modification time.

    Asset URLs carry it (``v/<version>/js/main.js``), so browsers may cache them for good and a
    changed file (a new nni release, or a developer's edit) is fetched under a new URL. Modules
    import each other by relative URLs, which keeps every import inside the same version.
    """
    digest = hashlib.blake2s(digest_size=6)
    for path in sorted(STATIC_DIR.rglob('*')):
        if path.is_file():
            stat = path.stat()
            digest.update(f'{path.relative_to(STATIC_DIR)}:{stat.st_size}:{stat.st_mtime_ns};'.encode())
    return digest.hexdigest()


def _load_asset(path: Path) -> _Asset:
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _assets.get(path)
    if cached is not None and cached.stamp == stamp:
        return cached
    body = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or 'application/octet-stream'
    if path.suffix in ('.js', '.mjs'):
        media_type = 'text/javascript'  # ES modules are refused under any other type
    compressible = media_type.startswith('text/') or path.suffix in ('.js', '.css', '.svg', '.json')
    gzipped = gzip.compress(body, compresslevel=9) if compressible and len(body) > 1024 else None
    asset = _Asset(stamp, body, gzipped, media_type, f'W/"{stamp[0]:x}-{stamp[1]:x}"')
    _assets[path] = asset
    return asset


def index_response(url_prefix: str) -> Response | None:
    """``index.html`` with a ``<base>`` naming the portal's root, whatever path it was asked by.

    The base makes relative asset and API URLs right under ``--url-prefix`` and on deep links
    (``/oview``, ``/detail`` of NNI's portal) alike; asset links get the versioned prefix.
    """
    index = STATIC_DIR / 'index.html'
    if not index.is_file():
        return None
    prefix = url_prefix.strip('/')
    base = f'/{prefix}/' if prefix else '/'
    html = index.read_text(encoding='utf-8').replace(_BASE_TAG, f'<base href="{escape(base, quote=True)}">', 1)
    html = _ASSET_LINK.sub(rf'\1v/{assets_version()}/\2', html)
    headers = {'Cache-Control': 'no-cache', 'Content-Security-Policy': CONTENT_SECURITY_POLICY,
               'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin'}
    return Response(html, media_type='text/html; charset=utf-8', headers=headers)


def static_response(request: Request, relative: str) -> Response | None:
    """A file of the portal's static folder from memory; ``None`` when there is none.

    Versioned URLs (``v/<version>/...``) of the current version are cached by browsers for a
    year; anything else revalidates by ETag.
    """
    if not relative or not STATIC_DIR.is_dir():
        return None
    immutable = False
    match = _VERSIONED.match(relative)
    if match:
        relative = match.group(2)
        immutable = match.group(1) == assets_version()
    try:
        candidate = (STATIC_DIR / relative).resolve()
        if not candidate.is_file() or STATIC_DIR not in candidate.parents or candidate.name == 'index.html':
            return None
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: no such asset
        return None
    asset = _load_asset(candidate)
    headers = {'ETag': asset.etag, 'X-Content-Type-Options': 'nosniff',
               'Cache-Control': 'public, max-age=31536000, immutable' if immutable else 'no-cache'}
    if _not_modified(request, asset.etag):
        return Response(status_code=304, headers=headers)
    if asset.gzipped is not None and 'gzip' in request.headers.get('accept-encoding', ''):
        headers['Content-Encoding'] = 'gzip'
        headers['Vary'] = 'Accept-Encoding'
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
