"""Trial of the live portal tests: reports an intermediate result every half second, so that a
test has time to watch it run, kill it, or see new trials arrive."""

import os
import time

import nni

params = nni.get_next_parameter()
x = float(params.get('x', 0.5))
steps = int(os.environ.get('PORTAL_TRIAL_STEPS', 6))
for step in range(steps):
    time.sleep(float(os.environ.get('PORTAL_TRIAL_SLEEP', 0.5)))
    nni.report_intermediate_result(x * (step + 1) / steps)
    print(f'step {step}: {x * (step + 1) / steps:.4f}', flush=True)
nni.report_final_result(x)
