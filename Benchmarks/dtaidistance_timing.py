#!/usr/bin/env python3
"""Times dtaidistance's C DTW on two CSV sequences (rows = frames), as `ontrack bench dtw` wrote
them, so both tools run on the same numbers. Prints JSON: distance and median milliseconds.

    python dtaidistance_timing.py A.csv B.csv [--radius R] [--repeat 5]
"""
import argparse
import json
import statistics
import time

import numpy as np
from dtaidistance import dtw_ndim

ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("--radius", type=int, default=None)
ap.add_argument("--repeat", type=int, default=5)
args = ap.parse_args()
A = np.ascontiguousarray(np.loadtxt(args.a, delimiter=",", ndmin=2), dtype=np.double)
B = np.ascontiguousarray(np.loadtxt(args.b, delimiter=",", ndmin=2), dtype=np.double)
window = None if args.radius is None else args.radius + 1  # dtaidistance counts the diagonal
times = []
for _ in range(args.repeat):
    t0 = time.perf_counter()
    d = dtw_ndim.distance(A, B, window=window, use_c=True, use_pruning=False)
    times.append(time.perf_counter() - t0)
print(json.dumps({"distance": d, "milliseconds": statistics.median(times) * 1e3}))
