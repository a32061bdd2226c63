#!/usr/bin/python3
"""Writes one tiny XGBoost model in each format Load recognises but does not serve, for the
tests of its error messages. Run from this directory with Debian's python3-xgboost:

    /usr/bin/python3 gen_unsupported.py
"""
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(3)
x = rng.random((20, 2))
booster = xgb.train({"objective": "binary:logistic", "max_depth": 1, "seed": 3},
                    xgb.DMatrix(x, label=(x[:, 0] > 0.5).astype(float)), 2)
booster.save_model("tiny.ubj")  # UBJSON, XGBoost 2.x's default format
booster.save_model("tiny-legacy.model")  # the deprecated binary format ("binf")

# A pickled Booster: what SageMaker's XGBoost container has saved as "xgboost-model" in some
# versions.
import pickle  # noqa: E402

with open("tiny.pkl", "wb") as f:
    pickle.dump(booster, f)
