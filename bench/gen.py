"""Writes the benchmark's models and request bodies into OUT (bench/run's work directory).

binary/model/: a binary:logistic model of 100 trees of depth 6 over 20 features, trained by the
installed XGBoost on synthetic rows with 5% of values missing (the issue's reference size).
iris/model/: the server's embedded default model (a real multi:softprob iris classifier), copied.
Bodies, in binary/ and iris/: 1000-row and 100-row CSV and a single-row JSON for each model; an empty CSV field is a
missing value, as both servers read it.
"""
import json
import os
import shutil
import sys

import numpy as np
import xgboost as xgb

out, repo = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(15)


def write_bodies(name, x):
    d = os.path.join(out, name)
    with open(os.path.join(d, "batch1000.csv"), "w") as f:
        for row in x:
            f.write(",".join("" if np.isnan(v) else "%.6g" % v for v in row) + "\n")
    with open(os.path.join(d, "batch1000.csv")) as f:
        lines = f.readlines()
    with open(os.path.join(d, "batch100.csv"), "w") as f:
        f.writelines(lines[:100])
    first = [None if np.isnan(v) else float("%.6g" % v) for v in x[0]]
    with open(os.path.join(d, "row.json"), "w") as f:
        json.dump({"instances": [first]}, f)


# The binary model: a label that depends on several features, trained on 20000 rows.
nf = 20
x = rng.normal(size=(20000, nf))
x[rng.random(x.shape) < 0.05] = np.nan
z = np.nan_to_num(x)
y = (z[:, 0] + z[:, 1] * z[:, 2] - np.abs(z[:, 3]) + 0.5 * rng.normal(size=len(z)) > 0).astype(int)
booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 1,
                     "tree_method": "hist"}, xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=100)
os.makedirs(os.path.join(out, "binary", "model"), exist_ok=True)
booster.save_model(os.path.join(out, "binary", "model", "model.json"))
rows = rng.normal(size=(1000, nf))
rows[rng.random(rows.shape) < 0.05] = np.nan
write_bodies("binary", rows)

# The multi-class model: the embedded iris classifier, with iris-like rows.
os.makedirs(os.path.join(out, "iris", "model"), exist_ok=True)
src = os.path.join(repo, "inference", "model", "defaultmodel")
for f in ("xgboost-model.json", "manifest.json"):
    shutil.copy(os.path.join(src, f), os.path.join(out, "iris", "model", f))
lo, hi = np.array([4.3, 2.0, 1.0, 0.1]), np.array([7.9, 4.4, 6.9, 2.5])
write_bodies("iris", np.round(lo + (hi - lo) * rng.random((1000, 4)), 1))
