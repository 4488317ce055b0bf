"""Launch the example experiment from Python, the way NNI's documentation shows.

Run: python examples/sklearn_classifier/launch.py [--port 8080]
"""

import argparse
import json
import sys
from pathlib import Path

from nni.experiment import Experiment

here = Path(__file__).resolve().parent

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, default=8080)
parser.add_argument('--trials', type=int, default=10)
args = parser.parse_args()

search_space = json.loads((here / 'search_space.json').read_text())

experiment = Experiment('local')
experiment.config.experiment_name = 'sklearn_classifier'
experiment.config.trial_concurrency = 2
experiment.config.max_trial_number = args.trials
experiment.config.search_space = search_space
experiment.config.trial_command = f'{sys.executable} trial.py'
experiment.config.trial_code_directory = here
experiment.config.tuner.name = 'TPE'
experiment.config.tuner.class_args['optimize_mode'] = 'maximize'

print(f'Web portal: http://127.0.0.1:{args.port}')
succeeded = experiment.run(args.port)

results = sorted(experiment.export_data(), key=lambda result: result.value, reverse=True)
print(f'\nexperiment {experiment.id} finished: {"DONE" if succeeded else experiment.get_status()}')
print(f'{"trial":<8}{"accuracy":>10}  parameters')
for result in results:
    print(f'{result.trialJobId:<8}{result.value:>10.4f}  {result.parameter}')
experiment.stop()
sys.exit(0 if succeeded and results else 1)
