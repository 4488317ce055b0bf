"""HTTP face of the manager: NNI's REST API, the trial channel, logs and the web portal.

Handlers stay thin: parse, call the engine, answer. An :class:`EngineError` becomes a 4xx/5xx
``{"error": ...}`` answer; any other exception a 500 with a log entry, never a dead manager.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import portal_api
from .engine import Engine, EngineError
from .server_edges import BodyError, EdgeGuard, ServedNames, ServerLimits, is_loopback, parse_json_body
from .web import FileResponse, Mount, PlainTextResponse, Request, Response, Route, Router

_logger = logging.getLogger('nni.manager.rest')

API_VERSION_TEXT = '3.0.0'
_CORS_HEADERS = {
    'Access-Control-Allow-Headers': 'Origin, X-Requested-With, Content-Type, Accept, X-NNI-Token',
    'Access-Control-Allow-Methods': 'PUT,POST,GET,DELETE,OPTIONS',
}
_TRIAL_FILE_NAMES = {'trial.log': 'trial.log', 'stderr': 'trial.stderr', 'stdout': 'trial.stdout'}
STATIC_DIR = Path(__file__).resolve().parent.parent / 'webui' / 'static'

Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, allow_nan=True, separators=(',', ':')).encode()
    return Response(body, status_code=status, media_type='application/json', headers=_CORS_HEADERS)


def _empty() -> Response:
    return Response(b'', status_code=200, media_type='application/json', headers=_CORS_HEADERS)


def _error(message: str, status: int) -> Response:
    return _json({'error': message}, status)


#: deepest JSON body accepted (NNI_MANAGER_MAX_JSON_DEPTH); set by build_app
_max_json_depth = ServerLimits().max_json_depth


async def _body_json(request: Request) -> Any:
    try:
        return parse_json_body(await request.body(), _max_json_depth)
    except BodyError as error:
        raise EngineError(str(error)) from None


def build_app(engine: Engine, request_shutdown: Callable[[], None],
              limits: ServerLimits | None = None) -> EdgeGuard:
    """The ASGI application of one experiment's manager.

    Parameters
    ----------
    engine
        The experiment's engine.
    request_shutdown
        Called after ``DELETE /experiment`` has been answered: stops the engine and the server.
    limits
        The server's limits (the JSON depth and the extra served names are read here);
        defaults from the environment.
    """
    global _max_json_depth
    limits = limits if limits is not None else ServerLimits.from_env()
    _max_json_depth = limits.max_json_depth
    names = ServedNames(engine.options.bind_address, limits.allowed_hosts)
    token_help = (f'the token is in the file db/token of experiment {engine.experiment_id} on the machine that '
                  'runs it (send it as header X-NNI-Token, or open the portal once as <url>/?token=<token>)')

    def guarded(handler: Handler, mutating: bool = False) -> Handler:
        async def wrapper(request: Request) -> Response:
            if mutating and not _trusted(request, engine):
                return _error('this manager listens beyond loopback: mutating calls need the '
                              f'experiment token; {token_help}', 403)
            if mutating and _cross_site(request):
                return _error('cross-site request refused: the Origin header does not match this server', 403)
            if not mutating and names.beyond_loopback and not _may_read(request):
                return _error(f'this manager listens beyond loopback ({names.bind_address}): reads need the '
                              f'experiment token; {token_help}', 403)
            try:
                return await handler(request)
            except EngineError as error:
                # NNI answers 500 to refusals a client provokes (read-only mode, "reach
                # maxTrialNum"); they are conflicts with the experiment's state: 409, same message
                return _error(str(error), 409 if error.status == 500 else error.status)
            except RecursionError:
                return _error(f'request data nested too deeply (limit {_max_json_depth} levels)', 400)
            except Exception as error:  # noqa: BLE001 - a bug answers 500, the manager lives on
                _logger.exception('%s %s failed', request.method, request.url.path)
                return _error(f'internal error: {error}', 500)

        return wrapper

    async def version(request: Request) -> Response:
        return Response(API_VERSION_TEXT, media_type='application/json', headers=_CORS_HEADERS)

    async def check_status(request: Request) -> Response:
        return _json(engine.check_status())

    async def get_experiment(request: Request) -> Response:
        return _json(engine.profile())

    async def post_experiment(request: Request) -> Response:
        body = await _body_json(request)
        action = engine.options.action
        if action == 'create':
            await engine.create(body)
            return _json({'experiment_id': engine.experiment_id})
        if action == 'resume':
            await engine.resume()
        else:
            await engine.view()
            if names.beyond_loopback:
                _write_view_token(engine)
            portal_data.warm_up_in_background()
        return _empty()

    async def put_experiment(request: Request) -> Response:
        engine.update(request.query_params.get('update_type'), await _body_json(request))
        return _empty()

    async def delete_experiment(request: Request) -> Response:
        return Response(b'', status_code=200, media_type='application/json', headers=_CORS_HEADERS,
                        background=request_shutdown)

    async def cluster_metadata(request: Request) -> Response:
        await _body_json(request)  # accepted and ignored: only legacy platforms used it
        return _empty()

    async def import_data(request: Request) -> Response:
        engine.import_data(await _body_json(request))
        return _empty()

    async def imported_data(request: Request) -> Response:
        # compact JSON text per batch, as NNI's manager answers (its client compares the text)
        return _json([json.dumps(json.loads(text), allow_nan=True, separators=(',', ':'))
                      for text in engine.imported_data()])

    async def experiment_metadata(request: Request) -> Response:
        entries = await _manifest_entries()
        return _json(entries.get(engine.experiment_id, {}))

    async def experiments_info(request: Request) -> Response:
        entries = await _manifest_entries(sweep=True)
        return _json(list(entries.values()))

    async def job_statistics(request: Request) -> Response:
        return _json(engine.job_statistics())

    async def list_trials(request: Request) -> Response:
        if portal_api.wants_paging(request):
            return await portal_api.paged_trial_jobs(request, portal_data)
        body = engine.trial_jobs_json(request.query_params.get('status')).encode()
        return Response(body, media_type='application/json', headers=_CORS_HEADERS)

    async def add_trial(request: Request) -> Response:
        sequence_id = engine.add_customized_trial(await _body_json(request))
        return _json({'sequenceId': sequence_id})

    async def get_trial(request: Request) -> Response:
        info = engine.trial_job(request.path_params['trial_id'])
        if info is None:
            # NNI answers an empty 200 here; clients (and NNI's own) tolerate it
            return _empty()
        return _json(info)

    async def kill_trial(request: Request) -> Response:
        await engine.kill_trial(request.path_params['trial_id'])
        return _empty()

    def _store():
        if engine.store is None:
            raise EngineError('the experiment has no open store', 409)
        return engine.store

    async def metric_data(request: Request) -> Response:
        rows = _store().metrics(trial_job_id=request.path_params.get('trial_id'),
                                metric_type=request.query_params.get('type'))
        return _json([row.to_rest() for row in rows])

    async def metric_data_range(request: Request) -> Response:
        try:
            low = int(request.path_params['min_seq_id'])
            high = int(request.path_params['max_seq_id'])
        except ValueError as error:
            raise EngineError('sequence ids must be integers') from error
        wanted = {record.trial_job_id for record in engine.trials.values()
                  if record.sequence_id is not None and low <= record.sequence_id <= high}
        rows = [row for row in _store().metrics() if row.trial_job_id in wanted]
        return _json([row.to_rest() for row in rows])

    async def metric_data_latest(request: Request) -> Response:
        rows = _store().metrics()
        others = [row for row in rows if row.type != 'PERIODICAL']
        latest: dict[str, Any] = {}
        for row in rows:
            if row.type == 'PERIODICAL':
                current = latest.get(row.trial_job_id)
                if current is None or row.sequence >= current.sequence:
                    latest[row.trial_job_id] = row
        return _json([row.to_rest() for row in others + list(latest.values())])

    async def trial_file(request: Request) -> Response:
        trial_id = request.path_params['trial_id']
        name = request.path_params['filename']
        if '/' in name or name.startswith('.') or '\\' in name:
            raise EngineError(f'bad file name {name!r}: give a plain file name of the trial directory')
        record = engine.trials.get(trial_id)
        if record is None or not record.log_path:
            raise EngineError(f'trial {trial_id} not found', 404)
        path = Path(record.log_path) / _TRIAL_FILE_NAMES.get(name, name)
        if not _is_file(path):
            raise EngineError(f'ENOENT: no such file {path}', 404)
        if name in _TRIAL_FILE_NAMES:
            # streamed from disk in chunks, off the event loop: stdout can be gigabytes
            return FileResponse(path, media_type='text/plain; charset=utf-8', empty_text=f'{name} is empty.')
        return FileResponse(path, media_type='application/octet-stream')

    async def export_data(request: Request) -> Response:
        return _json(engine.export_data())

    async def pareto_front(request: Request) -> Response:
        return _json(engine.pareto_front())

    async def summary(request: Request) -> Response:
        return _json(engine.summary())

    async def logs(request: Request) -> Response:
        name = request.path_params['filename']
        if '/' in name or name.startswith('.'):
            return PlainTextResponse('Not Found', 404)
        path = engine.log_dir / name
        if not _is_file(path):
            return PlainTextResponse('Not Found', 404)
        return FileResponse(path, media_type='text/plain')

    async def trial_channel_put(request: Request) -> Response:
        if request.headers.get('x-nni-token') != engine.token:
            return _error('bad or missing trial token', 403)
        trial_id = request.path_params['trial_id']
        command = await _body_json(request)
        if not isinstance(command, dict):
            raise EngineError('a trial command must be a JSON object')
        if command.get('type') == 'metric':
            metric = command.get('metric')
            if not isinstance(metric, str):
                metric = json.dumps(metric)
            try:
                engine.ingest_metric(trial_id, metric)
            except OverflowError as error:
                # a sequence or id beyond SQLite's 64-bit integers (or infinite): nothing was stored
                raise EngineError(f'a number in the metric of trial {trial_id} is out of range: {error}') from None
            return _empty()
        if command.get('type') == 'request_parameter':
            return _empty()
        raise EngineError(f'unknown trial command type {command.get("type")!r}')

    async def trial_channel_get(request: Request) -> Response:
        if request.headers.get('x-nni-token') != engine.token:
            return _error('bad or missing trial token', 403)
        record = engine.trial_parameter(request.path_params['trial_id'])
        if record is None:
            return Response(b'', status_code=410)
        return _json({'type': 'parameter', 'parameter': record})

    async def tuner_commands(request: Request) -> Response:
        if request.headers.get('x-nni-token') != engine.token:
            return _error('bad or missing experiment token', 403)
        try:
            wait_s = min(max(float(request.query_params.get('wait', '1')), 0.0), 25.0)
        except ValueError as error:
            raise EngineError('wait must be a number of seconds') from error
        commands = await engine.tuner_commands(wait_s)
        return _json([list(command) for command in commands])

    async def tuner_answers(request: Request) -> Response:
        if request.headers.get('x-nni-token') != engine.token:
            return _error('bad or missing experiment token', 403)
        engine.tuner_answers(await _body_json(request))
        return _empty()

    async def portal(request: Request) -> Response:
        relative = request.path_params.get('path', '')
        response = portal_api.static_response(request, relative) or portal_api.index_response(
            engine.options.url_prefix)
        if response is not None:
            return response
        return PlainTextResponse(
            f'NNI experiment {engine.experiment_id}: {engine.status}. REST API at /api/v1/nni/.')

    portal_data = portal_api.PortalData(engine)
    api_routes = [
        *portal_api.portal_routes(engine, portal_data, guarded),
        Route('/version', guarded(version), methods=['GET']),
        Route('/check-status', guarded(check_status), methods=['GET']),
        Route('/experiment', guarded(get_experiment), methods=['GET']),
        Route('/experiment', guarded(post_experiment, mutating=True), methods=['POST']),
        Route('/experiment', guarded(put_experiment, mutating=True), methods=['PUT']),
        Route('/experiment', guarded(delete_experiment, mutating=True), methods=['DELETE']),
        Route('/experiment/cluster-metadata', guarded(cluster_metadata, mutating=True), methods=['PUT']),
        Route('/experiment/import-data', guarded(import_data, mutating=True), methods=['POST']),
        Route('/experiment/imported-data', guarded(imported_data), methods=['GET']),
        Route('/experiment-metadata', guarded(experiment_metadata), methods=['GET']),
        Route('/experiments-info', guarded(experiments_info), methods=['GET']),
        Route('/job-statistics', guarded(job_statistics), methods=['GET']),
        Route('/trial-jobs', guarded(list_trials), methods=['GET']),
        Route('/trial-jobs', guarded(add_trial, mutating=True), methods=['POST']),
        Route('/trial-jobs/{trial_id}', guarded(get_trial), methods=['GET']),
        Route('/trial-jobs/{trial_id}', guarded(kill_trial, mutating=True), methods=['DELETE']),
        Route('/metric-data', guarded(metric_data), methods=['GET']),
        Route('/metric-data/{trial_id}', guarded(metric_data), methods=['GET']),
        Route('/metric-data-range/{min_seq_id}/{max_seq_id}', guarded(metric_data_range), methods=['GET']),
        Route('/metric-data-latest', guarded(metric_data_latest), methods=['GET']),
        Route('/metric-data-latest/', guarded(metric_data_latest), methods=['GET']),
        Route('/trial-file/{trial_id}/{filename}', guarded(trial_file), methods=['GET']),
        Route('/export-data', guarded(export_data), methods=['GET']),
        Route('/pareto-front', guarded(pareto_front), methods=['GET']),
        Route('/summary', guarded(summary), methods=['GET']),
    ]
    routes = [
        Mount('/api/v1/nni', routes=api_routes),
        Route('/logs/{filename}', guarded(logs), methods=['GET']),
        Route('/env/{env_id}/{trial_id}', guarded(trial_channel_put), methods=['PUT']),
        Route('/env/{env_id}/{trial_id}', guarded(trial_channel_get), methods=['GET']),
        Route('/tuner/commands', guarded(tuner_commands), methods=['GET']),
        Route('/tuner/answers', guarded(tuner_answers), methods=['POST']),
        Route('/', portal, methods=['GET']),
        Route('/{path:path}', portal, methods=['GET']),
    ]
    prefix = engine.options.url_prefix.strip('/')
    if prefix:
        routes = [Mount(f'/{prefix}', routes=routes)]
    return EdgeGuard(Router(routes), names, token=lambda: engine.token, manager_ips=lambda: _manager_ips(engine),
                     port=engine.options.port, url_prefix=prefix)


def _is_file(path: Path) -> bool:
    # a client's file name can be too long (ENAMETOOLONG) or otherwise unusable: not found, not 500
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _manager_ips(engine: Engine) -> tuple[str, ...]:
    # trials on other machines dial nniManagerIp, set on the experiment or on a training service
    params = engine.params if isinstance(engine.params, dict) else {}
    services = params.get('trainingService')
    sections = [params, *(services if isinstance(services, list) else [services])]
    found = (section.get('nniManagerIp') for section in sections if isinstance(section, dict))
    return tuple(value for value in found if isinstance(value, str) and value)


def _write_view_token(engine: Engine) -> None:
    # a viewed experiment served beyond loopback needs a token the user can read; view mode
    # otherwise writes nothing (the folder may be read-only: then only loopback can read)
    try:
        engine._write_token()  # noqa: SLF001 - the engine's own writer (mode 0600)
    except OSError as error:
        _logger.warning('cannot write the token of the viewed experiment: %s', error)


def _may_read(request: Request) -> bool:
    # loopback callers (nnictl, the launching script) read freely, as they may mutate
    if _loopback_client(request):
        return True
    return request.scope.get('nni.auth') in ('header', 'cookie')


def _loopback_client(request: Request) -> bool:
    return is_loopback(request.client.host if request.client else None)


def _cross_site(request: Request) -> bool:
    # A web page on another site can make the user's browser POST here (a "simple" request needs no
    # CORS preflight), and loopback callers need no token; browsers name the page's origin, so a
    # mismatch with our own host refuses the forgery. Non-browser clients send no Origin.
    origin = request.headers.get('origin')
    if not origin:
        return False
    from urllib.parse import urlsplit

    return urlsplit(origin).netloc.lower() != request.headers.get('host', '').lower()


def _trusted(request: Request, engine: Engine) -> bool:
    if _loopback_client(request):
        return True
    auth = request.scope.get('nni.auth')
    if auth == 'header':
        return True
    # the cookie alone could ride on a forged cross-site request: it counts only with an Origin
    # naming this very server (browsers send Origin on every non-GET fetch)
    return auth == 'cookie' and bool(request.headers.get('origin')) and not _cross_site(request)


async def _manifest_entries(sweep: bool = False) -> dict[str, Any]:
    import asyncio

    def read() -> dict[str, Any]:
        from nni.experiment import manifest

        if sweep:
            sweep_dead = getattr(manifest, 'sweep_dead_experiments', None)
            if callable(sweep_dead):
                sweep_dead()
        return manifest.Experiments().get_all_experiments()

    return await asyncio.to_thread(read)
