"""The dispatcher says when it has answered everything, and which resumed trials' ends a tuner hears."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from nni.runtime.msg_dispatcher import Dispatcher
from nni.tuner import Tuner


class _SlowTuner(Tuner):
    """Holds each trial end until the test lets it go, and records the ends it is told of."""

    def __init__(self, tracks_resumed: bool) -> None:
        self.tracks_resumed_trials = tracks_resumed
        self.release = threading.Event()
        self.ends: list[tuple[Any, bool]] = []

    def update_search_space(self, search_space: Any) -> None:
        pass

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> Any:
        return {'x': 1}

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        pass

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        self.release.wait(30)
        self.ends.append((parameter_id, success))


def _run(tuner: _SlowTuner) -> tuple[Dispatcher, threading.Event]:
    idle = threading.Event()
    answers: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    dispatcher = Dispatcher(None, None, lambda code, content: answers.put((code, content)), tuner=tuner,
                            on_idle=idle.set)
    dispatcher.start()
    dispatcher.command('IN', '{}')
    dispatcher.command('AD', json.dumps([{'parameter_id': 7, 'parameters': {'x': 1}}]))
    return dispatcher, idle


def _end(dispatcher: Dispatcher, parameter_id: int) -> None:
    record = json.dumps({'parameter_id': parameter_id, 'parameters': {'x': 1}})
    dispatcher.command('EN', json.dumps({'trial_job_id': f't{parameter_id}', 'event': 'FAILED',
                                         'hyper_params': record}))


def test_busy_until_the_last_command_is_handled_then_idle_is_signalled() -> None:
    tuner = _SlowTuner(tracks_resumed=True)
    dispatcher, idle = _run(tuner)
    try:
        _end(dispatcher, 7)
        assert dispatcher.busy  # the tuner is still deciding what the end means
        idle.clear()
        tuner.release.set()
        assert idle.wait(30)
        assert not dispatcher.busy
        assert tuner.ends == [(7, False)]  # a tuner that tracks resumed trials hears their end
    finally:
        tuner.release.set()
        dispatcher.stop()


def test_other_tuners_never_hear_of_an_earlier_runs_suggestion() -> None:
    tuner = _SlowTuner(tracks_resumed=False)
    tuner.release.set()
    dispatcher, idle = _run(tuner)
    try:
        _end(dispatcher, 7)
        idle.clear()
        dispatcher.command('PI', '')
        assert idle.wait(30)
        assert tuner.ends == []
    finally:
        dispatcher.stop()
