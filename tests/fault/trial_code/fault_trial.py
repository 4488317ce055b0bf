"""Trial of the fault campaigns: reports metrics and journals each one once ``nni`` took it.

Parameters: ``x`` (the metric base). Environment: ``FAULT_STEPS`` intermediate results,
``FAULT_STEP_S`` seconds between them, ``FAULT_DAEMON=1`` leaves a double-forked daemon (new
session) that sleeps, ``FAULT_CHILD=1`` leaves a background child in the trial's own group.
Every reported metric is appended to ``journal`` in the output directory *after* the report call
returned: a journaled metric was either acknowledged by the manager or saved in the metrics file,
so the store must end up holding it.
"""

import os
import sys
import time

import nni

params = nni.get_next_parameter() or {}
x = int(params.get('x', 0))
steps = int(os.environ.get('FAULT_STEPS', '5'))
step_s = float(os.environ.get('FAULT_STEP_S', '0.02'))
journal_path = os.path.join(os.environ.get('NNI_OUTPUT_DIR', '.'), f'journal-{os.getpid()}')


def journal(kind, sequence, value):
    with open(journal_path, 'a') as handle:
        handle.write(f'{kind} {sequence} {value}\n')
        handle.flush()


if os.environ.get('FAULT_DAEMON') == '1':
    # classic double fork: the grandchild leaves the trial's session and process group
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', 'fault-daemon'])
        os._exit(0)
    os.wait()
if os.environ.get('FAULT_CHILD') == '1':
    import subprocess

    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', 'fault-child'])

for step in range(steps):
    value = x * 100 + step
    nni.report_intermediate_result(value)
    journal('PERIODICAL', step, value)
    time.sleep(step_s)
nni.report_final_result(x * 100 + steps)
journal('FINAL', 0, x * 100 + steps)
