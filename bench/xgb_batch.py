"""Rows/s of XGBoost's own Booster.inplace_predict with one thread on a CSV batch (no HTTP, no
parsing: the rows are read once beforehand), and the largest difference from the predictions
our server returned for the same rows.

Usage: xgb_batch.py MODEL BATCH.csv OURS.csv SECONDS
"""
import sys
import time

import numpy as np
import xgboost as xgb

model, batch, ours, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
booster = xgb.Booster(model_file=model)
booster.set_param({"nthread": 1})
x = np.genfromtxt(batch, delimiter=",", dtype=np.float32, ndmin=2)
want = booster.inplace_predict(x, missing=np.nan)
got = np.genfromtxt(ours, delimiter=",", ndmin=2).reshape(want.shape)
diff = float(np.max(np.abs(got - want)))
for _ in range(20):
    booster.inplace_predict(x, missing=np.nan)
# Rows over the whole run, as wrk's requests/s is for our server: the same statistic on both
# sides (a best short window would favour whichever side is timed in short windows).
calls, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    booster.inplace_predict(x, missing=np.nan)
    calls += 1
rate = calls * len(x) / (time.perf_counter() - t0)
print("rows_per_s=%.0f max_abs_diff=%.3g" % (rate, diff))
