"""Trial used by the end-to-end tests; what it does is steered by its parameters.

metric = x * 10 + y (so tests can check every stored metric against the parameters); then:
sleep (seconds before finishing), crash (exit 1), bad_metric (report a string),
spawn_child (leave a grandchild process that sleeps, tagged in argv).
"""

import os
import subprocess
import sys
import time

import nni

params = nni.get_next_parameter()
x = params.get('x', 0)
y = params.get('y', 0)
metric = x * 10 + y
behaviour = params.get('behaviour', 'normal')
sleep = float(params.get('sleep', os.environ.get('TRIAL_SLEEP', 0)))

if behaviour == 'spawn_child' or os.environ.get('TRIAL_SPAWN_CHILD'):
    tag = os.environ.get('TRIAL_CHILD_TAG', 'nni-test-child')
    subprocess.Popen([sys.executable, '-c', 'import time, sys; time.sleep(120)', tag])

for step in range(3):
    nni.report_intermediate_result(metric + step)
    if sleep:
        time.sleep(sleep / 3)

if behaviour == 'crash':
    raise SystemExit('trial crashed on purpose')
if behaviour == 'bad_metric':
    nni.report_final_result('not a number')
nni.report_final_result(metric)
print(f'final metric {metric}')
