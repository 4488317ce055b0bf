"""The trivial trial of benchmarks/overhead.py: get the parameters, report one result, exit.

Run by an experiment (ours or NNI 3.0) and, in standalone mode, by the bare loop the experiment is
compared with. It runs under either interpreter, so it uses nothing beyond ``nni``'s trial API.
"""

import nni

params = nni.get_next_parameter() or {}
nni.report_final_result(float(params.get('x', 0.5)))
