"""A Random-like tuner that journals every final result it receives (fault campaigns).

``receive_trial_result`` appends ``<trial_job_id> <parameter_id>`` to ``$FAULT_TUNER_JOURNAL``: across
every manager lifetime of an experiment, a trial must appear there at most once.
"""

import os
import random

from nni.tuner import Tuner


class JournalTuner(Tuner):
    def __init__(self):
        self.rng = random.Random()

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        return {'x': self.rng.randint(0, 999)}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        path = os.environ.get('FAULT_TUNER_JOURNAL')
        if path:
            with open(path, 'a') as handle:
                handle.write(f'{kwargs.get("trial_job_id")} {parameter_id}\n')

    def import_data(self, data):
        pass
