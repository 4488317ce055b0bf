"""The warm interpreter: a Python process with ``nni`` imported that forks trial processes on request.

Run as a script by the trial supervisor (``warm_start.py`` is its end), with the interpreter the
trial command names and the trial's environment minus what differs per trial, so that a forked
trial sees what a fresh ``python script.py`` would see. Standard library only until the preload.

Protocol (one ``SOCK_SEQPACKET`` socket whose fd is the first argument, each message one JSON document):

* at start it imports ``nni`` and the trial-side modules a trial loads, then sends
  ``{"ready": true}`` (or ``{"ready": false, "error": ...}`` and exits);
* each request ``{"script", "argv", "words", "cwd", "env", "umask", "cgroup"}`` comes with two file descriptors (the
  trial's stdout and stderr); it forks a short-lived middle process that forks the trial and
  answers ``{"pid": <trial pid>}`` before it exits, so the trial is re-parented to the supervisor (a
  child subreaper) which reaps it like any trial it started itself;
* end of file on the socket (the supervisor is gone) ends it.

docs/internals.md, "Warm start of Python trials", says what a forked trial shares with this process
and when the supervisor does not use it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

#: bytes of one request at most (the environment is the bulk of it)
MAX_REQUEST = 1 << 22
#: modules a trial imports on its first ``get_next_parameter``/``report_*`` call
PRELOAD = ('nni', 'nni.trial', 'nni.runtime.trial_command_channel', 'nni.runtime.trial_command_channel.base',
           'nni.runtime.http_channel', 'nni.runtime.file_channel', 'nni.runtime.mini_http', 'nni.runtime.lean_json',
           'nni.runtime.env_vars', 'nni.runtime.log', 'nni.runtime.metric', 'nni.runtime.serialization')
#: signals a fresh interpreter starts with ignored; every other handled signal is reset to its default
IGNORED_AT_START = ('SIGPIPE', 'SIGXFSZ')
PR_SET_NAME = 15
#: bytes of blank argument the warm interpreter is started with, rewritten as each trial's command line
TITLE_ROOM = 2048
#: spare bytes of environment it is started with (``NNI_WARM_ROOM``), for each trial's variables
ENVIRONMENT_ROOM = 16384


def preload() -> None:
    # Python puts this file's folder first on sys.path; a trial gets its own script's folder instead
    del sys.path[0]
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            if name == 'nni':
                raise
    for name in ('ctypes', 'importlib.machinery', 'types', 'atexit'):  # what a forked trial itself uses
        importlib.import_module(name)
    import gc

    # objects that exist now are never collected in a trial: the collector does not touch (and so
    # copy) their memory pages in every forked trial
    gc.collect()
    gc.freeze()


def reset_signals() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, ())
    for number in range(1, signal.NSIG):
        try:
            handler = signal.getsignal(number)
        except ValueError:
            continue
        if handler not in (None, signal.SIG_DFL):
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in IGNORED_AT_START:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def name_process(script: str) -> None:
    """Show the script's name in ``ps -o comm``/``top`` (:func:`show_command_line` does the command line)."""
    try:
        import ctypes

        title = os.path.basename(script).encode('utf-8', 'replace')[:15]
        libc().prctl(PR_SET_NAME, ctypes.c_char_p(title), 0, 0, 0)
    except (OSError, AttributeError):
        pass


_LIBC = []


def libc():  # type: ignore[no-untyped-def]
    """The C library, loaded once in the warm interpreter rather than in every trial."""
    if not _LIBC:
        import ctypes

        _LIBC.append(ctypes.CDLL(None))
    return _LIBC[0]


def memory_areas() -> tuple[int, int, int, int] | None:
    """Where the kernel reads ``/proc/self/cmdline`` and ``environ`` from: arg start/end, env start/end."""
    try:
        with open('/proc/self/stat', 'rb') as stat:
            fields = stat.read().rsplit(b')', 1)[1].split()
        # fields 48 to 51 of proc(5): arg_start, arg_end, env_start, env_end
        return int(fields[45]), int(fields[46]), int(fields[47]), int(fields[48])
    except (OSError, ValueError, IndexError):
        return None


def show_environment(env: dict[str, str], areas: tuple[int, int, int, int] | None) -> None:
    """Make ``/proc/<pid>/environ`` show the trial's environment, as for a trial exec-ed with it.

    Tools (and the supervisor's own sweep) find a trial's processes by ``NNI_EXP_ID`` and
    ``NNI_TRIAL_JOB_ID`` there, and the kernel shows the process's initial environment block, not
    ``os.environ``. The warm interpreter was started with :data:`ENVIRONMENT_ROOM` spare bytes in that
    block; the trial's variables are written over it (``NNI_*`` first, should anything not fit).
    Called after ``os.environ`` was replaced, so the C library no longer points into the block.
    """
    if areas is None:
        return
    try:
        import ctypes

        _, _, start, end = areas
        size = end - start
        ordered = sorted(env.items(), key=lambda item: not item[0].startswith('NNI_'))
        block = bytearray()
        for key, value in ordered:
            entry = f'{key}={value}'.encode('utf-8', 'surrogateescape') + b'\0'
            if len(block) + len(entry) <= size:
                block += entry
        ctypes.memmove(start, bytes(block) + b'\0' * (size - len(block)), size)
    except (OSError, ValueError, IndexError, AttributeError):
        pass


def show_command_line(words: list[str], areas: tuple[int, int, int, int] | None) -> None:
    """Make ``/proc/<pid>/cmdline`` (``ps``, ``pgrep -f``) show the trial's command, not this file's.

    The kernel reads the command line from the process's own argument memory; when its last byte is
    not NUL it shows the text up to the first NUL (what ``setproctitle`` relies on). The warm
    interpreter was started with a blank argument of :data:`TITLE_ROOM` bytes to make room.
    """
    if areas is None:
        return
    try:
        import ctypes

        start, end, _, _ = areas
        size = end - start
        if size < 2:
            return
        title = ' '.join(words).encode('utf-8', 'replace')[:size - 2]
        ctypes.memmove(start, title + b'\0' * (size - 1 - len(title)) + b' ', size)
    except (OSError, ValueError, IndexError, AttributeError):
        pass


def join_cgroup(path: str) -> None:
    """Enter the trial's cgroup v2 before anything of the trial runs (see ``trial_cgroups.py``)."""
    try:
        with open(os.path.join(path, 'cgroup.procs'), 'w', encoding='ascii') as handle:
            handle.write('0')
    except OSError:
        pass  # tracked by session and environment, as without cgroups


def become_trial(request: dict, stdout_fd: int, stderr_fd: int, control: socket.socket) -> None:
    """In the forked trial: take the trial's place (session, files, folder, environment), run, exit."""
    code = 1
    try:
        if request.get('cgroup'):
            join_cgroup(request['cgroup'])
        os.setsid()
        reset_signals()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        for fd in {null, stdout_fd, stderr_fd} - {0, 1, 2}:
            os.close(fd)
        control.close()
        os.umask(int(request['umask']))
        os.chdir(request['cwd'])
        os.environ.clear()
        os.environ.update(request['env'])
        areas = memory_areas()
        show_environment(request['env'], areas)
        name_process(request['script'])
        show_command_line(request['words'], areas)
    except BaseException as error:  # noqa: BLE001 - nothing of the trial ran yet: say why and leave
        try:
            os.write(2, f'nni: cannot start the trial in the warm interpreter: {error!r}\n'.encode())
        finally:
            os._exit(127)
    try:
        code = run_script(request['script'], request['argv'])
    finally:
        # whatever happens now (a second Ctrl-C while threads are joined), this process is the
        # trial's and ends here: it must never return into the warm interpreter's loop
        try:
            code = finish(code)
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code if code >= 0 else 1)


def run_script(script: str, argv: list[str]) -> int:
    """Run ``script`` as ``__main__`` the way ``python script args...`` does; the exit code it earns."""
    import importlib.machinery
    import types

    path = os.path.abspath(script)
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(path))
    main = types.ModuleType('__main__')
    main.__dict__.update(__file__=path, __cached__=None, __builtins__=sys.modules['builtins'],
                         __loader__=importlib.machinery.SourceFileLoader('__main__', path))
    sys.modules['__main__'] = main
    try:
        with open(path, 'rb') as handle:
            source = handle.read()
        code = compile(source, path, 'exec', dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as stop:
        return exit_code_of(stop)
    except BaseException as error:  # noqa: BLE001 - reported as the interpreter would, then the exit code
        report_uncaught(error, compiled=isinstance(error, SyntaxError) and error.filename == path)
        if isinstance(error, KeyboardInterrupt):
            return -signal.SIGINT
        return 1
    return 0


def report_uncaught(error: BaseException, compiled: bool) -> None:
    traceback = error.__traceback__
    # the first frame is this module's exec(); a fresh interpreter shows the script's frames only
    if traceback is not None:
        traceback = None if compiled else traceback.tb_next
    # the hook prints the exception's own traceback: trim that one, not only the argument
    sys.excepthook(type(error), error.with_traceback(traceback), traceback)


def exit_code_of(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code & 0xFF
    try:
        sys.stderr.write(f'{stop.code}\n')
    except Exception:  # noqa: BLE001
        pass
    return 1


def finish(code: int) -> int:
    """What the interpreter does at exit: wait for threads, run atexit functions, flush; the exit code."""
    threading = sys.modules.get('threading')
    if threading is not None:
        try:
            threading._shutdown()  # type: ignore[attr-defined]
        except BaseException:  # noqa: BLE001
            pass
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - a failed flush at exit is exit code 120, as in the interpreter
            if code == 0:
                code = 120
    if code == -signal.SIGINT:
        # an uncaught KeyboardInterrupt ends the process by SIGINT, as the interpreter does
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    return code


def serve(control: socket.socket) -> None:
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 2)
        except InterruptedError:
            continue
        if not data:
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({'error': 'a request needs two file descriptors'}).encode())
            continue
        request = json.loads(data)
        middle = os.fork()
        if middle == 0:
            try:
                trial = os.fork()
                if trial == 0:
                    become_trial(request, fds[0], fds[1], control)
                control.send(json.dumps({'pid': trial}).encode())
            except BaseException as error:  # noqa: BLE001
                try:
                    control.send(json.dumps({'error': repr(error)}).encode())
                finally:
                    os._exit(1)
            os._exit(0)
        for fd in fds:
            os.close(fd)
        os.waitpid(middle, 0)


def main() -> int:
    control = socket.socket(fileno=int(sys.argv[1]))
    show_command_line([sys.executable, sys.argv[0], sys.argv[1]], memory_areas())  # without the blank room
    # the supervisor stops trials with SIGINT to their group, never this process: a stray one must
    # not end the interpreter every later trial would fork from
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        preload()
    except BaseException as error:  # noqa: BLE001 - the supervisor falls back to a fresh interpreter
        control.send(json.dumps({'ready': False, 'error': repr(error)}).encode())
        return 1
    try:
        libc()
    except OSError:
        pass
    control.send(json.dumps({'ready': True}).encode())
    serve(control)
    return 0


if __name__ == '__main__':
    sys.exit(main())
