#!/usr/bin/python3
"""Writes built-in-style SageMaker XGBoost artifacts and what that container answers for them.

Run from this directory with the XGBoost to record:

    /usr/bin/python3 gen_builtin.py                          # Debian's python3-xgboost 1.7.4
    PYTHONPATH=<xgboost-3.4.1>/python-package /usr/bin/python3 gen_builtin.py

For each case it trains a small model as SageMaker's built-in algorithm does and saves it the way
its train.py does (aws/sagemaker-xgboost-container@cb8df91, algorithm_mode/train.py:479-486):
Booster.save_model to "xgboost-model", or one "xgboost-model-<fold>" per fold of a k-fold job,
with no extension (the legacy binary format under 1.x, UBJSON from 2.x), packed as SageMaker packs
the model directory into model.tar.gz. <case>.cases.json holds the test rows (null = missing) and:

  per_fold   each fold's Booster.predict()
  combined   what serve_utils.predict (algorithm_mode/serve_utils.py:252-262) makes of them:
             scipy.stats.mode over the folds for multi:softmax and binary:hinge, else numpy.mean
  bodies     the response bodies, encoded with Python's own json and csv modules the way
             serve.py:240-249 and serve_utils.py:536-548 call them, for Accept text/csv and
             application/json, and the SAGEMAKER_BATCH body

The Go tests serve the tarball through the HTTP server and compare with these.
"""
import csv
import io
import json
import os
import tarfile

import numpy as np
import scipy.stats
import xgboost as xgb

SEED = 5
NF = 4
N_TRAIN, N_TEST = 200, 8

CASES = [
    # name, objective, extra params, folds (0 = a single xgboost-model)
    ("binary_logistic_3fold", "binary:logistic", {}, 3),
    ("multi_softprob_3fold", "multi:softprob", {"num_class": 3}, 3),
    ("multi_softmax_3fold", "multi:softmax", {"num_class": 3}, 3),
    ("binary_hinge_4fold", "binary:hinge", {}, 4),
    ("reg_squarederror_single", "reg:squarederror", {}, 0),
]


def data(rng, n):
    x = rng.normal(size=(n, NF)).round(2)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    return x


def labels(x, objective):
    z = np.nan_to_num(x)
    s = z[:, 0] + 0.7 * z[:, 1] - 0.5 * z[:, 2] * z[:, 3]
    if objective.startswith("multi:"):
        return np.digitize(s, [-0.6, 0.6]).astype(float)
    if objective.startswith("binary:"):
        return (s > 0).astype(float)
    return s


def main():
    version = xgb.__version__
    out_dir = "xgb-" + version
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    test = data(rng, N_TEST)
    for name, objective, extra, folds in CASES:
        x = data(rng, N_TRAIN)
        y = labels(x, objective)
        params = {"objective": objective, "max_depth": 3, "eta": 0.3, "seed": SEED, "nthread": 1, **extra}
        n = max(folds, 1)
        boosters = []
        for f in range(n):
            keep = np.arange(N_TRAIN) % n != f if folds else np.ones(N_TRAIN, bool)
            boosters.append(xgb.train(params, xgb.DMatrix(x[keep], label=y[keep]), num_boost_round=4 + f))
        names = ["xgboost-model-%d" % f for f in range(n)] if folds else ["xgboost-model"]
        dtest = xgb.DMatrix(test)
        per_fold = [b.predict(dtest) for b in boosters]
        if folds:
            if objective in ("multi:softmax", "binary:hinge"):
                combined = scipy.stats.mode(per_fold, keepdims=True).mode[0]
            else:
                combined = np.mean(per_fold, axis=0)
        else:
            combined = per_fold[0]
        preds = combined.tolist()
        bodies = {}
        bodies["application/json"] = json.dumps({"predictions": [{"score": p} for p in preds]})
        s = io.StringIO()
        arr = np.array(preds)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        csv.writer(s, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True, strict=True).writerows(arr.tolist())
        bodies["text/csv"] = s.getvalue()
        bodies["batch"] = "\n".join(map(str, preds)) + "\n"

        tmp = os.path.join(out_dir, name)
        os.makedirs(tmp, exist_ok=True)
        for b, fn in zip(boosters, names):
            b.save_model(os.path.join(tmp, fn))
        tar = os.path.join(out_dir, name + ".model.tar.gz")
        with tarfile.open(tar, "w:gz", format=tarfile.GNU_FORMAT) as t:
            for fn in names:
                info = t.gettarinfo(os.path.join(tmp, fn), arcname=fn)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with open(os.path.join(tmp, fn), "rb") as fh:
                    t.addfile(info, fh)
        for fn in names:
            os.remove(os.path.join(tmp, fn))
        os.rmdir(tmp)
        with open(os.path.join(out_dir, name + ".cases.json"), "w") as fh:
            json.dump({
                "xgboost": version, "objective": objective, "num_class": extra.get("num_class", 0), "files": names,
                "rows": [[None if np.isnan(v) else float(v) for v in r] for r in test],
                "per_fold": [p.tolist() for p in per_fold], "combined": preds, "bodies": bodies,
            }, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
