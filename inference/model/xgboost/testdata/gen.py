#!/usr/bin/python3
"""Generates the XGBoost parity fixtures in this directory.

Run with Debian's python3-xgboost (1.7.x) from this directory:

    /usr/bin/python3 gen.py

For every case it trains a small model on synthetic data with missing values, saves it with
Booster.save_model (JSON; a few also as UBJSON), and writes <case>.cases.json holding test rows (null = missing) and
what Booster.predict() returns for them, at full float precision. The Go parity test requires
its own predictions to equal these within 1e-5.
"""
import json
import math

import numpy as np
import xgboost as xgb

SEED = 7
N_FEATURES = 5
FEATURES = ["f_%d" % i for i in range(N_FEATURES)]


def data(rng, n):
    """Rows with about 10% missing values (NaN) and a few exact threshold-like values."""
    x = rng.normal(size=(n, N_FEATURES)).round(3)
    mask = rng.random(size=x.shape) < 0.10
    x[mask] = np.nan
    return x


def signal(x):
    z = np.nan_to_num(x, nan=0.0)
    return 1.5 * z[:, 0] - z[:, 1] + 0.5 * z[:, 2] * z[:, 3] + np.where(np.isnan(x[:, 4]), 1.0, 0.0)


def labels(kind, x, rng):
    s = signal(x)
    if kind == "binary":
        return (s + rng.normal(scale=0.5, size=len(s)) > 0).astype(float)
    if kind == "unit":  # targets in [0, 1] for reg:logistic
        return 1 / (1 + np.exp(-s))
    if kind == "count":
        return rng.poisson(np.exp(0.3 * s).clip(0, 20)).astype(float)
    if kind == "positive":
        return np.exp(0.3 * s) + 0.1
    if kind == "multi":
        return np.digitize(s, [-1.0, 1.0]).astype(float)  # 3 classes
    return s + rng.normal(scale=0.1, size=len(s))


# name -> (label kind, params, rounds)
CASES = {
    "reg_squarederror": ("value", {"objective": "reg:squarederror"}, 12),
    "reg_logistic": ("unit", {"objective": "reg:logistic"}, 12),
    "binary_logistic": ("binary", {"objective": "binary:logistic"}, 12),
    "binary_logistic_base_score": ("binary", {"objective": "binary:logistic", "base_score": 0.3}, 8),
    "binary_logitraw": ("binary", {"objective": "binary:logitraw", "base_score": 0.3}, 12),
    "multi_softprob": ("multi", {"objective": "multi:softprob", "num_class": 3}, 8),
    "multi_softmax": ("multi", {"objective": "multi:softmax", "num_class": 3}, 8),
    "count_poisson": ("count", {"objective": "count:poisson", "base_score": 2.0}, 12),
    "reg_gamma": ("positive", {"objective": "reg:gamma"}, 8),
    "reg_tweedie": ("positive", {"objective": "reg:tweedie"}, 8),
    "dart_binary_logistic": ("binary", {"objective": "binary:logistic", "booster": "dart",
                                        "rate_drop": 0.3, "skip_drop": 0.0, "normalize_type": "tree"}, 10),
    "forest_squarederror": ("value", {"objective": "reg:squarederror", "num_parallel_tree": 3,
                                      "subsample": 0.8, "colsample_bynode": 0.8}, 3),
}


# Cases also saved as UBJSON (booster.save_model("x.ubj")), the binary form of the same schema.
UBJSON_CASES = {"binary_logistic", "multi_softprob", "dart_binary_logistic"}


def tolist(a):
    return [[None if math.isnan(v) else float(v) for v in row] for row in a]


def main():
    rng = np.random.default_rng(SEED)
    for name, (kind, params, rounds) in CASES.items():
        x_train, x_test = data(rng, 300), data(rng, 25)
        x_test[0, :] = np.nan  # a row with every value missing
        y = labels(kind, x_train, rng)
        params = dict(params, max_depth=3, eta=0.3, seed=SEED, nthread=1)
        dtrain = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
        booster = xgb.train(params, dtrain, rounds)
        booster.save_model(name + ".json")
        pred = booster.predict(xgb.DMatrix(x_test, feature_names=FEATURES))
        pred = pred.reshape(len(x_test), -1)
        with open(name + ".cases.json", "w") as f:
            json.dump({"objective": params["objective"], "xgboost": xgb.__version__,
                       "rows": tolist(x_test), "want": [[float(v) for v in row] for row in pred]}, f)
            f.write("\n")
        if name in UBJSON_CASES:
            booster.save_model(name + ".ubj")


if __name__ == "__main__":
    main()
