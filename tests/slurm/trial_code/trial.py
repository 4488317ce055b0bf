"""Trial of the Slurm tests: reports x + step three times, then x * 10 as its final result.

Parameter ``sleep``: seconds spent before the final result (spread over the three steps).
Environment ``SLURM_TEST_MARK``: a folder where the trial leaves one file per run (name: trial
id and a unique suffix), so tests can count how many times each trial really ran.
"""

import os
import time
import uuid

import nni

params = nni.get_next_parameter()
x = params.get('x', 0)
sleep = float(params.get('sleep', 0))
mark = os.environ.get('SLURM_TEST_MARK')
if mark:
    with open(os.path.join(mark, f'{nni.get_trial_id()}.{uuid.uuid4().hex}'), 'w') as handle:
        handle.write(os.environ.get('SLURM_JOB_ID', ''))
for step in range(3):
    nni.report_intermediate_result(x + step)
    if sleep:
        time.sleep(sleep / 3)
nni.report_final_result(x * 10)
print(f'final {x * 10} on Slurm job {os.environ.get("SLURM_JOB_ID")}')
