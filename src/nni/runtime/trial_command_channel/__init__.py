"""Selection of the trial command channel.

Order (NNI's, with our HTTP contract for step 2):

1. ``NNI_TRIAL_COMMAND_CHANNEL=import://pkg.mod.ClassName``: an instance of that class;
2. ``NNI_TRIAL_COMMAND_CHANNEL=http://...``: :class:`~nni.runtime.http_channel.HttpTrialCommandChannel`;
3. no ``NNI_PLATFORM`` (or ``unittest``): :class:`~nni.runtime.standalone.StandaloneTrialCommandChannel`;
4. otherwise: :class:`~nni.runtime.file_channel.FileTrialCommandChannel` (legacy ``parameter.cfg`` and
   ``.nni/metrics``).

The environment is read when the channel is first needed, i.e. at the first trial API call.
"""

from __future__ import annotations

from .base import TrialCommandChannel

__all__ = ['TrialCommandChannel', 'get_default_trial_command_channel', 'set_default_trial_command_channel']

_channel: TrialCommandChannel | None = None


def _import_class(path: str) -> type:
    import importlib

    module_name, _, class_name = path.rpartition('.')
    if not module_name:
        raise ValueError(f'NNI_TRIAL_COMMAND_CHANNEL=import://{path} does not name a class as module.Class')
    return getattr(importlib.import_module(module_name), class_name)


def _create_channel() -> TrialCommandChannel:
    from nni.runtime import env_vars, log

    url = env_vars.command_channel()
    if url is not None and url.startswith('import://'):
        log.setup_trial_logging()
        return _import_class(url[len('import://'):])()
    if url is not None:
        import sys

        from nni.runtime.http_channel import HttpTrialCommandChannel

        # A trial that never touches logging should not pay ~30 ms to import it: then trial.log is
        # set up only when nni has something to log (the channel calls setup itself).
        if 'logging' in sys.modules:
            log.setup_trial_logging()
        return HttpTrialCommandChannel(url, token=env_vars.trial_token(), sys_dir=env_vars.sys_dir())
    if env_vars.platform() in (None, 'unittest'):
        from nni.runtime.standalone import StandaloneTrialCommandChannel

        return StandaloneTrialCommandChannel()
    from nni.runtime.file_channel import FileTrialCommandChannel

    log.setup_trial_logging()
    return FileTrialCommandChannel(env_vars.sys_dir(), multi_phase=env_vars.is_multi_phase())


def get_default_trial_command_channel() -> TrialCommandChannel:
    """Return the channel of this process, creating it from the environment on first use.

    Returns
    -------
    TrialCommandChannel
        The channel the trial API sends through.
    """
    global _channel
    if _channel is None:
        _channel = _create_channel()
    return _channel


def set_default_trial_command_channel(channel: TrialCommandChannel | None = None) -> TrialCommandChannel | None:
    """Replace the channel of this process (``None``: choose again from the environment on next use).

    Parameters
    ----------
    channel
        The channel to use from now on.

    Returns
    -------
    TrialCommandChannel or None
        The channel now in place.
    """
    global _channel
    old = _channel
    _channel = channel
    if old is not None and old is not channel:
        close = getattr(old, 'close', None)
        if callable(close):
            close()
    return _channel
