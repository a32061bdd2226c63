#!/usr/bin/python3
"""Generates the per-version XGBoost parity fixtures in testdata/xgb-<version>/.

Run from this directory with the XGBoost to record, e.g.

    /usr/bin/python3 gen_versions.py                                   # Debian's python3-xgboost 1.7.4
    PYTHONPATH=<xgboost-3.4.1>/python-package /usr/bin/python3 gen_versions.py
    PYTHONPATH=<xgboost-2.1.4>/python-package /usr/bin/python3 gen_versions.py

(README.md in this directory says which builds made the committed files.) For every case it
trains a tiny model (a few shallow trees) on synthetic data with missing values, saves it with
Booster.save_model as <case>.json and <case>.ubj, and writes <case>.cases.json holding the test
rows (null = missing; categorical features as their integer codes), what Booster.predict()
returns for them at full precision, and, for categorical features, the category names. A case
this XGBoost cannot train (e.g. multi_output_tree before 2.0) is listed in skipped.json with the
library's error. The Go tests require their predictions to equal these within 1e-5.
"""
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

SEED = 11
NF = 4
FEATURES = ["f_%d" % i for i in range(NF)]
N_TRAIN, N_TEST = 160, 12
CATEGORIES = ["red", "green", "blue", "cyan", "plum", "teal"]


def features(rng, n):
    x = rng.normal(size=(n, NF)).round(2)
    x[rng.random(size=x.shape) < 0.15] = np.nan
    return x


def signal(x):
    z = np.nan_to_num(x, nan=0.0)
    return 1.5 * z[:, 0] - z[:, 1] + 0.5 * z[:, 2] * z[:, 3] + np.where(np.isnan(x[:, 3]), 0.7, 0.0)


def base(kind):
    """Training parameters shared by every case: tiny trees, one thread, reproducible."""
    return {"max_depth": 3, "eta": 0.4, "seed": SEED, "nthread": 1, "tree_method": "hist"}


def train(params, dtrain, rounds):
    return xgb.train(dict(base(None), **params), dtrain, rounds)


def simple(objective, label, rounds=4, **extra):
    """A case whose DMatrix needs only a label: label(signal, rng) -> y."""
    def make(rng, x_train, x_test):
        y = label(signal(x_train), rng)
        d = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
        b = train(dict({"objective": objective}, **extra), d, rounds)
        return b, xgb.DMatrix(x_test, feature_names=FEATURES), None
    return make


def noisy(s, rng):
    return s + rng.normal(scale=0.1, size=len(s))


def binary(s, rng):
    return (s + rng.normal(scale=0.5, size=len(s)) > 0).astype(float)


def classes3(s, rng):
    return np.digitize(s, [-1.0, 1.0]).astype(float)


def positive(s, rng):
    return np.exp(0.3 * s) + 0.1


def counts(s, rng):
    return rng.poisson(np.exp(0.3 * s).clip(0, 20)).astype(float)


def unit(s, rng):
    return 1 / (1 + np.exp(-s))


def cox(rng, x_train, x_test):
    t = np.exp(-0.4 * signal(x_train)) * rng.exponential(size=N_TRAIN) + 0.05
    censored = rng.random(N_TRAIN) < 0.3
    y = np.where(censored, -t, t)  # negative = right-censored, XGBoost's convention
    d = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
    return train({"objective": "survival:cox"}, d, 4), xgb.DMatrix(x_test, feature_names=FEATURES), None


def aft(rng, x_train, x_test):
    t = np.exp(0.3 * signal(x_train)) * rng.exponential(size=N_TRAIN) + 0.05
    upper = np.where(rng.random(N_TRAIN) < 0.3, np.inf, t)
    d = xgb.DMatrix(x_train, feature_names=FEATURES)
    d.set_float_info("label_lower_bound", t)
    d.set_float_info("label_upper_bound", upper)
    params = {"objective": "survival:aft", "aft_loss_distribution": "normal", "aft_loss_distribution_scale": 1.2}
    return train(params, d, 4), xgb.DMatrix(x_test, feature_names=FEATURES), None


def ranking(objective):
    def make(rng, x_train, x_test):
        rel = np.digitize(signal(x_train) + rng.normal(scale=0.3, size=N_TRAIN), [-1, 0, 1]).astype(float)
        if objective == "rank:map":
            rel = (rel >= 2).astype(float)  # MAP needs binary relevance (2.0+ checks it)
        qid = np.repeat(np.arange(N_TRAIN // 8), 8)
        d = xgb.DMatrix(x_train, label=rel, qid=qid, feature_names=FEATURES)
        return train({"objective": objective}, d, 4), xgb.DMatrix(x_test, feature_names=FEATURES), None
    return make


def quantile(alphas):
    def make(rng, x_train, x_test):
        y = noisy(signal(x_train), rng) + rng.normal(size=N_TRAIN)
        d = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
        params = {"objective": "reg:quantileerror", "quantile_alpha": alphas if len(alphas) > 1 else alphas[0]}
        return train(params, d, 4), xgb.DMatrix(x_test, feature_names=FEATURES), None
    return make


def expectile(alphas):
    def make(rng, x_train, x_test):
        y = noisy(signal(x_train), rng) + rng.normal(size=N_TRAIN)
        d = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
        return train({"objective": "reg:expectileerror", "expectile_alpha": alphas}, d, 4), \
            xgb.DMatrix(x_test, feature_names=FEATURES), None
    return make


def multi_target(strategy):
    def make(rng, x_train, x_test):
        if strategy == "multi_output_tree" and xgb.__version__.startswith("1."):
            raise xgb.core.XGBoostError("multi_strategy=multi_output_tree needs XGBoost 2.0 or later")
        s = signal(x_train)
        y = np.stack([s, -0.5 * s + rng.normal(size=N_TRAIN), np.abs(s)], axis=1)
        d = xgb.DMatrix(x_train, label=y, feature_names=FEATURES)
        params = {"objective": "reg:squarederror", "multi_strategy": strategy}
        if strategy == "one_output_per_tree" and xgb.__version__.startswith("1."):
            params.pop("multi_strategy")  # 1.x has only this strategy and no such parameter
        return train(params, d, 3), xgb.DMatrix(x_test, feature_names=FEATURES), None
    return make


def categorical(partition, objective="reg:squarederror"):
    """Feature f_1 categorical (6 string categories); one-hot or partition-based splits."""
    import pandas as pd

    def frame(x, rng):
        codes = rng.integers(0, len(CATEGORIES), size=len(x))
        codes[rng.random(len(x)) < 0.15] = -1  # missing
        df = pd.DataFrame(x, columns=FEATURES)
        df["f_1"] = pd.Categorical.from_codes(codes, categories=CATEGORIES)
        return df, codes

    def make(rng, x_train, x_test):
        df, codes = frame(x_train, rng)
        effect = np.array([1.5, -1.0, 0.3, 2.0, -2.0, 0.0])
        s = signal(x_train) + np.where(codes >= 0, effect[codes], 0.5)
        y = binary(s, rng) if objective == "binary:logistic" else noisy(s, rng)
        d = xgb.DMatrix(df, label=y, enable_categorical=True)
        params = {"objective": objective, "max_cat_to_onehot": 1 if partition else 64}
        b = train(params, d, 4)
        dft, tcodes = frame(x_test, rng)
        return b, xgb.DMatrix(dft, enable_categorical=True), {"feature": 1, "codes": tcodes.tolist(), "names": CATEGORIES}
    return make


# name -> maker(rng, x_train, x_test) -> (booster, test DMatrix, categorical info or None)
CASES = {
    "reg_squarederror": simple("reg:squarederror", noisy),
    "reg_absoluteerror": simple("reg:absoluteerror", noisy),
    "reg_pseudohubererror": simple("reg:pseudohubererror", noisy),
    "reg_squaredlogerror": simple("reg:squaredlogerror", positive),
    "reg_logistic": simple("reg:logistic", unit),
    "binary_logistic": simple("binary:logistic", binary),
    "binary_logitraw": simple("binary:logitraw", binary),
    "binary_hinge": simple("binary:hinge", binary),
    "count_poisson": simple("count:poisson", counts),
    "reg_gamma": simple("reg:gamma", positive),
    "reg_tweedie": simple("reg:tweedie", positive),
    "multi_softprob": simple("multi:softprob", classes3, rounds=3, num_class=3),
    "multi_softmax": simple("multi:softmax", classes3, rounds=3, num_class=3),
    "forest": simple("reg:squarederror", noisy, rounds=2, num_parallel_tree=3, subsample=0.8, colsample_bynode=0.8),
    "dart_reg": simple("reg:squarederror", noisy, rounds=6, booster="dart", rate_drop=0.5, skip_drop=0.0),
    "dart_binary_logistic": simple("binary:logistic", binary, rounds=6, booster="dart", rate_drop=0.4,
                                   skip_drop=0.0, normalize_type="forest"),
    "dart_multi_softprob": simple("multi:softprob", classes3, rounds=4, num_class=3, booster="dart",
                                  rate_drop=0.5, skip_drop=0.0),
    # gbtree with DART's dropout parameters: 3.4 folds DART into gbtree, older ones ignore them.
    "gbtree_rate_drop": simple("reg:squarederror", noisy, rounds=6, rate_drop=0.5, skip_drop=0.0),
    "gblinear_reg": simple("reg:squarederror", noisy, rounds=5, booster="gblinear"),
    "gblinear_binary_logistic": simple("binary:logistic", binary, rounds=5, booster="gblinear"),
    "gblinear_multi_softprob": simple("multi:softprob", classes3, rounds=5, num_class=3, booster="gblinear"),
    "survival_cox": cox,
    "survival_aft": aft,
    "rank_pairwise": ranking("rank:pairwise"),
    "rank_ndcg": ranking("rank:ndcg"),
    "rank_map": ranking("rank:map"),
    "quantile_one": quantile([0.3]),
    "quantile_three": quantile([0.1, 0.5, 0.9]),
    "expectile_three": expectile([0.2, 0.5, 0.8]),
    "multi_target_per_tree": multi_target("one_output_per_tree"),
    "multi_target_vector_leaf": multi_target("multi_output_tree"),
    "categorical_onehot": categorical(False),
    "categorical_partition": categorical(True),
    "categorical_partition_binary": categorical(True, "binary:logistic"),
}


def rows_json(x):
    return [[None if math.isnan(v) else float(v) for v in row] for row in x]


def main():
    out_dir = "xgb-" + xgb.__version__
    os.makedirs(out_dir, exist_ok=True)
    skipped = {}
    for name, make in CASES.items():
        rng = np.random.default_rng([SEED, len(name)])
        x_train, x_test = features(rng, N_TRAIN), features(rng, N_TEST)
        x_test[0, :] = np.nan  # a row with every value missing
        try:
            booster, dtest, cat = make(rng, x_train, x_test)
        except xgb.core.XGBoostError as e:
            skipped[name] = str(e).splitlines()[0][:300]
            print("skip", name, skipped[name], file=sys.stderr)
            continue
        booster.save_model(os.path.join(out_dir, name + ".json"))
        booster.save_model(os.path.join(out_dir, name + ".ubj"))
        pred = np.asarray(booster.predict(dtest)).reshape(N_TEST, -1)
        rows = x_test.copy()
        case = {"objective": json.loads(booster.save_config())["learner"]["objective"]["name"],
                "xgboost": xgb.__version__}
        if cat is not None:
            codes = np.asarray(cat["codes"], dtype=float)
            rows[:, cat["feature"]] = np.where(codes >= 0, codes, np.nan)
            case["categorical"] = {"feature": cat["feature"], "names": cat["names"]}
        case["rows"] = rows_json(rows)
        case["want"] = [[float(v) for v in row] for row in pred]
        with open(os.path.join(out_dir, name + ".cases.json"), "w") as f:
            json.dump(case, f)
            f.write("\n")
    with open(os.path.join(out_dir, "skipped.json"), "w") as f:
        json.dump(skipped, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
