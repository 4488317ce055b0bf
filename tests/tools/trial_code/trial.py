"""Trial of the nnictl tests: metric = x; sleeps ``sleep`` seconds over three intermediate reports."""

import time

import nni

params = nni.get_next_parameter() or {}
x = params.get('x', 0)
sleep = float(params.get('sleep', 0))
for step in range(3):
    nni.report_intermediate_result(x + step / 10)
    time.sleep(sleep / 3)
nni.report_final_result(x)
