"""A tuner that computes for a while before every suggestion, in pure Python (holding the GIL
as a model fit does), to check that the portal keeps answering meanwhile."""

import random
import time

from nni.tuner import Tuner


class SlowTuner(Tuner):
    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        deadline = time.monotonic() + self.seconds
        busy = 0
        while time.monotonic() < deadline:
            busy += sum(i * i for i in range(2000))
        return {'x': random.random(), 'optimizer': random.choice(['sgd', 'adam'])}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        pass
