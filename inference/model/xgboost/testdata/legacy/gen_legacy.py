#!/usr/bin/python3
"""Generates the legacy-format fixtures in this directory: XGBoost's binary model format and
pickled Boosters, with XGBoost's own predictions for rows with missing values.

Run with Debian's python3-xgboost (1.7.4) from this directory:

    /usr/bin/python3 gen_legacy.py

For every case it trains a small model and writes
  <case>.model        Booster.save_model("x.model"): the legacy binary format ("binf" header).
                      1.7 writes the same bytes for a name with no extension (SageMaker's
                      "xgboost-model"); main() checks that.
  <case>.json         Booster.save_model("x.json") of the same booster, to check the binary
                      reader field by field.
  <case>.pkl          pickle.dump(booster) at the default protocol (4 on Python 3.11)
  <case>.p2.pkl       the same at protocol 2
  <case>.v090.model   the bytes XGBoost 0.90's save_model wrote for this booster: no header, version
                      fields zero, base_score stored in margin space, no attributes
                      (src/learner.cc LearnerImpl::Save at tag v0.90)
  <case>.v090.pkl     a 0.90 pickle: Booster.__getstate__ at v0.90 put save_raw() (the 0.90
                      binary model) in "handle", beside feature_names and feature_types
  <case>.v100.pkl     a 1.0 pickle: XGBoosterSerializeToBuffer at v1.0.0 wrote "CONFIG-offset:",
                      an int64 offset, the binary model (no header, version 1.0) and the JSON
                      configuration (src/learner.cc LearnerIO::Save at tag v1.0.0)
  <case>.v140.pkl     a 1.4/1.5 pickle: the same call wrote {"Config": ..., "Model": ...} as JSON
                      text (LearnerIO::Save at tag v1.4.0)
  <case>.cases.json   test rows (null = missing), Booster.predict() for them, and the feature
                      names each form carries

The 0.90, 1.0 and 1.4 forms cannot be produced by those old XGBoosts here; they are built from this
booster's 1.7.4 binary model by the layouts in those tags' source, and each is then loaded
back by XGBoost 1.7.4 itself (Booster(model_file=...) for the 0.90 model, pickle.loads for the
1.0 and 1.4 pickles, which 1.7.4 still reads) and must predict exactly what the original does. A 0.90
pickle is not loadable by 1.x (its handle is not a serialisation); its model is checked by
loading the handle with Booster(model_file=bytearray(...)).
"""
import json
import math
import os
import pickle
import struct

import numpy as np
import xgboost as xgb

SEED = 11
N_FEATURES = 5
FEATURES = ["f_%d" % i for i in range(N_FEATURES)]


def data(rng, n):
    """Rows with about 15% missing values (NaN)."""
    x = rng.normal(size=(n, N_FEATURES)).round(3)
    x[rng.random(size=x.shape) < 0.15] = np.nan
    return x


def signal(x):
    z = np.nan_to_num(x, nan=0.0)
    return 1.5 * z[:, 0] - z[:, 1] + 0.5 * z[:, 2] * z[:, 3] + np.where(np.isnan(x[:, 4]), 1.0, 0.0)


def labels(kind, x, rng):
    s = signal(x)
    if kind == "binary":
        return (s + rng.normal(scale=0.5, size=len(s)) > 0).astype(float)
    if kind == "count":
        return rng.poisson(np.exp(0.3 * s).clip(0, 20)).astype(float)
    if kind == "multi":
        return np.digitize(s, [-1.0, 1.0]).astype(float)
    return s + rng.normal(scale=0.1, size=len(s))


# name -> (label kind, params, rounds)
CASES = {
    "binary_logistic": ("binary", {"objective": "binary:logistic"}, 10),
    "multi_softprob": ("multi", {"objective": "multi:softprob", "num_class": 3}, 6),
    "reg_squarederror": ("value", {"objective": "reg:squarederror"}, 10),
    "count_poisson": ("count", {"objective": "count:poisson"}, 10),
    "dart_binary_logistic": ("binary", {"objective": "binary:logistic", "booster": "dart",
                                        "rate_drop": 0.3, "skip_drop": 0.0, "normalize_type": "tree"}, 8),
    "gblinear_squarederror": ("value", {"objective": "reg:squarederror", "booster": "gblinear",
                                        "updater": "coord_descent"}, 10),
}

# Cases also pickled at protocol 5, the newest.
P5_CASES = {"binary_logistic"}


def tolist(a):
    return [[None if math.isnan(v) else float(v) for v in row] for row in a]


def end_of_booster(raw):
    """The offset where the booster ends and the attributes begin in a 1.x binary model."""
    pos = 4 + 136  # "binf", LearnerModelParamLegacy
    names = []
    for _ in range(2):
        (n,) = struct.unpack_from("<Q", raw, pos)
        names.append(raw[pos + 8:pos + 8 + n].decode())
        pos += 8 + n
    booster = names[1]
    if booster in ("gbtree", "dart"):
        (num_trees,) = struct.unpack_from("<i", raw, pos)
        pos += 160  # GBTreeModelParam
        for _ in range(num_trees):
            (num_nodes,) = struct.unpack_from("<i", raw, pos + 4)
            pos += 148 + num_nodes * (20 + 16)  # TreeParam, Node, RTreeNodeStat
        pos += 4 * num_trees  # tree_info
        if booster == "dart" and num_trees:
            (n,) = struct.unpack_from("<Q", raw, pos)
            pos += 8 + 4 * n  # weight_drop
    else:
        pos += 136  # DeprecatedGBLinearModelParam
        (n,) = struct.unpack_from("<Q", raw, pos)
        pos += 8 + 4 * n
    return pos


def prob_to_margin(objective, base):
    """The objective's ProbToMargin, as 0.90's LazyInitModel applied it before saving."""
    if objective in ("binary:logistic", "reg:logistic"):
        return float(np.float32(-math.log(1.0 / base - 1.0)))
    if objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
        return float(np.float32(math.log(base)))
    return base


def v090_model(raw, objective):
    """The 0.90 layout of a 1.7 binary model: no header, version fields zero, margin base_score,
    contain_extra_attrs 0 and no attributes."""
    assert raw[:4] == b"binf"
    end = end_of_booster(raw)
    param = bytearray(raw[4:4 + 136])
    (base,) = struct.unpack_from("<f", param, 0)
    if not objective.startswith("multi:"):
        struct.pack_into("<f", param, 0, prob_to_margin(objective, base))
    struct.pack_into("<i", param, 12, 0)  # contain_extra_attrs
    param[20:136] = bytes(116)  # major/minor version, num_target, boost_from_average: reserved
    return bytes(param) + raw[4 + 136:end]


def v100_binary(raw):
    """The 1.0 layout: no header, version 1.0, the later fields still reserved; attributes as 1.7."""
    param = bytearray(raw[4:4 + 136])
    struct.pack_into("<II", param, 20, 1, 0)
    param[28:136] = bytes(108)
    return bytes(param) + raw[4 + 136:]


def pickle_with_state(booster, state, protocol):
    """pickle.dumps(booster) with the state an older Booster.__getstate__ returned."""
    cls = xgb.core.Booster
    saved = cls.__getstate__
    cls.__getstate__ = lambda self: state
    try:
        return pickle.dumps(booster, protocol=protocol)
    finally:
        cls.__getstate__ = saved


def predict(booster, x):
    return booster.predict(xgb.DMatrix(x)).reshape(len(x), -1)


def main():
    rng = np.random.default_rng(SEED)
    for name, (kind, params, rounds) in CASES.items():
        x_train, x_test = data(rng, 300), data(rng, 30)
        x_test[0, :] = np.nan  # every value missing
        y = labels(kind, x_train, rng)
        params = dict(params, max_depth=3, eta=0.3, seed=SEED, nthread=1)
        booster = xgb.train(params, xgb.DMatrix(x_train, label=y, feature_names=FEATURES), rounds)
        dtest = xgb.DMatrix(x_test, feature_names=FEATURES)
        want = booster.predict(dtest).reshape(len(x_test), -1)

        booster.save_model(name + ".model")
        booster.save_model(name + ".json")
        booster.save_model("xgboost-model")
        raw = open(name + ".model", "rb").read()
        assert open("xgboost-model", "rb").read() == raw, "no extension must write the binary format"
        os.remove("xgboost-model")
        assert raw[:4] == b"binf"

        # XGBoost's own reading of every file form must give the same predictions.
        np.testing.assert_array_equal(predict(xgb.Booster(model_file=name + ".model"), x_test), want)
        forms = {name + ".model": []}
        for suffix, protocol in [(".pkl", pickle.DEFAULT_PROTOCOL), (".p2.pkl", 2)] + \
                ([(".p5.pkl", 5)] if name in P5_CASES else []):
            data_ = pickle.dumps(booster, protocol=protocol)
            np.testing.assert_array_equal(pickle.loads(data_).predict(dtest).reshape(len(x_test), -1), want)
            open(name + suffix, "wb").write(data_)
            forms[name + suffix] = FEATURES

        old = v090_model(raw, params["objective"])
        np.testing.assert_allclose(predict(xgb.Booster(model_file=bytearray(old)), x_test), want, rtol=0, atol=1e-6)
        open(name + ".v090.model", "wb").write(old)
        forms[name + ".v090.model"] = []
        # Booster.__dict__ at 0.90 after xgb.train: handle, booster, feature_names, feature_types.
        state090 = {"handle": bytearray(old), "booster": params.get("booster", "gbtree"),
                    "feature_names": list(FEATURES), "feature_types": None}
        p090 = pickle_with_state(booster, state090, 3)  # Python 3.5 to 3.7, which those containers ran, default to 3
        open(name + ".v090.pkl", "wb").write(p090)
        forms[name + ".v090.pkl"] = FEATURES

        b100 = v100_binary(raw)
        config = booster.save_config().encode()
        handle = b"CONFIG-offset:" + struct.pack("<q", len(b100)) + b100 + config
        state100 = {"handle": bytearray(handle), "booster": params.get("booster", "gbtree"),
                    "feature_names": list(FEATURES), "feature_types": None}
        p100 = pickle_with_state(booster, state100, 2)
        np.testing.assert_array_equal(pickle.loads(p100).predict(xgb.DMatrix(x_test)).reshape(len(x_test), -1), want)
        open(name + ".v100.pkl", "wb").write(p100)
        forms[name + ".v100.pkl"] = FEATURES

        # 1.4 and 1.5 pickled {"Config": ..., "Model": ...} as JSON text (LearnerIO::Save at
        # v1.4.0; Json objects are std::map, so the keys come sorted); 1.7.4 still reads it.
        snapshot = {"Config": json.loads(booster.save_config()),
                    "Model": json.loads(bytes(booster.save_raw("json")))}
        state140 = {"handle": bytearray(json.dumps(snapshot, separators=(",", ":")).encode())}
        p140 = pickle_with_state(booster, state140, 4)
        np.testing.assert_array_equal(pickle.loads(p140).predict(dtest).reshape(len(x_test), -1), want)
        open(name + ".v140.pkl", "wb").write(p140)
        forms[name + ".v140.pkl"] = FEATURES

        with open(name + ".cases.json", "w") as f:
            json.dump({"objective": params["objective"], "booster": params.get("booster", "gbtree"),
                       "xgboost": xgb.__version__, "forms": forms,
                       "rows": tolist(x_test), "want": [[float(v) for v in row] for row in want]}, f)
            f.write("\n")
    shapes()


class _Runs:
    """An object whose pickle would run a command when loaded: the shape the reader must refuse.
    The pickle is written, never loaded."""

    def __reduce__(self):
        return (os.system, ("true",))


def shapes():
    """Pickles of other shapes, made by CPython's own pickler, for the reader's refusals and
    for the less common spellings of a Booster's handle:
      shape_bytes_p2.pkl    handle as bytes at protocol 2 (_codecs.encode(str, "latin1"))
      shape_bytes_p3.pkl    handle as bytes at protocol 3 (BINBYTES)
      shape_sklearn.pkl     pickle.dump(XGBClassifier): not a Booster, refused with a hint
      shape_reduce.pkl      a pickle that calls os.system: refused, never run
      shape_none.pkl        a Booster whose handle is None (an empty Booster)
    """
    rng = np.random.default_rng(SEED)
    x = data(rng, 100)
    y = (np.nan_to_num(x[:, 0]) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": SEED, "nthread": 1},
                        xgb.DMatrix(x, label=y), 3)
    raw = bytes(booster.save_raw("deprecated"))
    # A bytes handle holds the binary model, which XGBoost reads as Booster(model_file=...).
    np.testing.assert_array_equal(xgb.Booster(model_file=bytearray(raw)).predict(xgb.DMatrix(x)),
                                  booster.predict(xgb.DMatrix(x)))
    for protocol in (2, 3):
        open("shape_bytes_p%d.pkl" % protocol, "wb").write(pickle_with_state(booster, {"handle": raw}, protocol))
    clf = xgb.XGBClassifier(n_estimators=2, max_depth=2, random_state=SEED, n_jobs=1).fit(np.nan_to_num(x), y)
    open("shape_sklearn.pkl", "wb").write(pickle.dumps(clf))
    open("shape_reduce.pkl", "wb").write(pickle.dumps(_Runs(), protocol=2))
    open("shape_none.pkl", "wb").write(pickle_with_state(booster, {"handle": None}, 4))
    json.dump({"rows": tolist(x[:10]), "want": [[float(v)] for v in booster.predict(xgb.DMatrix(x[:10]))]},
              open("shape_bytes.want.json", "w"))


if __name__ == "__main__":
    main()
