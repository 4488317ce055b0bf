"""A quick two-objective trial: accuracy against latency, reported as a dict metric, for the
portal's Pareto view (tests and docs/portal screenshots)."""

import math
import random
import time

import nni

params = nni.get_next_parameter()
width = int(params.get('width', 64))
depth = int(params.get('depth', 4))
lr = float(params.get('lr', 0.01))
noise = random.Random(f'{width}-{depth}-{lr}')
# bigger models are more accurate and slower; a learning rate near 0.01 helps
capacity = math.log2(width) * depth
accuracy = 0.97 - 0.6 / capacity - 0.02 * (math.log10(lr) + 2) ** 2 + noise.gauss(0, 0.006)
latency = 2.0 + 0.004 * width * depth + noise.gauss(0, 0.15)
for epoch in range(5):
    time.sleep(0.15)
    nni.report_intermediate_result({'default': accuracy - 0.08 * (4 - epoch) / 4, 'latency': latency})
    print(f'epoch {epoch}: accuracy {accuracy - 0.08 * (4 - epoch) / 4:.4f}', flush=True)
nni.report_final_result({'default': round(accuracy, 5), 'latency': round(latency, 4)})
