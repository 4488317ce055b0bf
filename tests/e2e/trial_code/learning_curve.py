"""Trial of the early-stopping end-to-end tests: an accuracy-like learning curve.

accuracy after epoch k = quality * (1 - exp(-0.4 k)); one intermediate result per epoch and the
last one as the final result. Epochs: ``TRIAL_BUDGET`` (Hyperband/BOHB) else ``epochs`` (10).
Each epoch sleeps ``epoch_sleep`` seconds (a parameter, default 0.02): tests give the trials
meant to be stopped a longer sleep so that the stop lands before they finish. ``child_tag``:
start a sleeping grandchild process tagged with it (to check that a stop ends the whole tree).
"""

import math
import subprocess
import sys
import time

import nni

params = nni.get_next_parameter() or {}
if params.get('child_tag'):
    # a grandchild that outlives this process unless the whole process tree is stopped
    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', params['child_tag']])
quality = float(params.get('quality', 0.5))
epochs = int(params.get('TRIAL_BUDGET', params.get('epochs', 10)))
epoch_sleep = float(params.get('epoch_sleep', 0.02))

accuracy = 0.0
for epoch in range(1, epochs + 1):
    time.sleep(epoch_sleep)
    accuracy = quality * (1 - math.exp(-0.4 * epoch))
    nni.report_intermediate_result(accuracy)
nni.report_final_result(accuracy)
