"""Logging set-up for trial code.

Under an experiment, records of the ``nni`` logger go to ``NNI_OUTPUT_DIR/trial.log`` in NNI's
format. Unlike NNI, neither the root logger nor ``sys.stdout`` is touched: what the trial prints
stays in ``trial.stdout`` and the application keeps control of its own logging.

Outside an experiment, results are logged to stdout (``[time] message``) unless the application
has configured logging itself. Both set-ups happen at the first trial API call, not at import.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

__all__ = ['LOGGER_NAME', 'TRIAL_LOG_FORMAT', 'STANDALONE_LOG_FORMAT', 'setup_trial_logging',
           'setup_standalone_logging']

LOGGER_NAME = 'nni'
TRIAL_LOG_FORMAT = '[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s'
STANDALONE_LOG_FORMAT = '[%(asctime)s] %(message)s'
_DATE_FORMAT = '%Y-%m-%d %H:%M:%S'

# Marks the handlers installed here, so that set-up is idempotent and tests can undo it.
_MARK = '_nni_runtime_handler'


def _logger() -> logging.Logger:
    import logging

    logger = logging.getLogger(LOGGER_NAME)
    if logger.level == logging.NOTSET:
        # Results are logged at INFO; the root logger's default WARNING would hide them.
        logger.setLevel(logging.INFO)
    return logger


def _installed(logger: logging.Logger) -> bool:
    return any(getattr(handler, _MARK, False) for handler in logger.handlers)


def _install(logger: logging.Logger, handler: logging.Handler, fmt: str) -> None:
    import logging

    handler.setFormatter(logging.Formatter(fmt, _DATE_FORMAT))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)


def setup_trial_logging() -> str | None:
    """Send the ``nni`` logger to ``trial.log`` in the trial output directory.

    Returns
    -------
    str or None
        Path of the log file, or ``None`` when logging goes to stdout (``REUSE_MODE``), no output
        directory is known, or logging was already set up.
    """
    import logging
    import os
    import sys

    from nni.runtime import env_vars

    logger = _logger()
    if _installed(logger):
        return None
    if env_vars.is_reuse_mode():
        # Legacy reusable environments collect stdout, not files.
        _install(logger, logging.StreamHandler(sys.stdout), TRIAL_LOG_FORMAT)
        return None
    directory = env_vars.output_dir()
    if directory is None:
        return None
    path = os.path.join(directory, 'trial.log')
    try:
        os.makedirs(directory, exist_ok=True)
        handler = logging.FileHandler(path, mode='a', encoding='utf-8')
    except OSError as exc:
        # Losing the log must not kill the trial; say so where the user will see it.
        print(f'nni: cannot open {path} for logging: {exc}', file=sys.stderr)
        return None
    _install(logger, handler, TRIAL_LOG_FORMAT)
    return path


def setup_standalone_logging() -> None:
    """Print ``nni`` log records to stdout, unless the application configured logging already."""
    import logging
    import sys

    logger = _logger()
    if _installed(logger) or logger.handlers or logging.getLogger().handlers:
        return
    _install(logger, logging.StreamHandler(sys.stdout), STANDALONE_LOG_FORMAT)


def teardown() -> None:
    """Remove and close the handlers installed by this module (for tests and embedding)."""
    import sys

    logging = sys.modules.get('logging')
    if logging is None:
        return
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, _MARK, False):
            logger.removeHandler(handler)
            handler.close()
