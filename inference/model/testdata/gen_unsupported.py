#!/usr/bin/python3
"""Writes a tiny XGBoost model in the binary forms Load must recognise under any name: UBJSON,
the legacy binary format and a pickle (all three served; the file name is from when the last two
were refused). Run from this directory with Debian's python3-xgboost:

    /usr/bin/python3 gen_unsupported.py
"""
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(3)
x = rng.random((20, 2))
booster = xgb.train({"objective": "binary:logistic", "max_depth": 1, "seed": 3},
                    xgb.DMatrix(x, label=(x[:, 0] > 0.5).astype(float)), 2)
booster.save_model("tiny.ubj")  # UBJSON: served, a test of recognising it under another name
booster.save_model("tiny-legacy.model")  # the deprecated binary format ("binf")

# A pickled Booster: what SageMaker's XGBoost container has saved as "xgboost-model" in some
# versions.
import pickle  # noqa: E402

with open("tiny.pkl", "wb") as f:
    pickle.dump(booster, f)
