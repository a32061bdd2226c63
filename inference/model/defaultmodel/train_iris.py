#!/usr/bin/python3
"""Trains the inference server's embedded default model: XGBoost on the iris data set.

Run with Debian's python3-xgboost and python3-sklearn (iris ships inside scikit-learn, so no
download is needed), from this directory:

    /usr/bin/python3 train_iris.py

Writes xgboost-model.json (the model, embedded by ../default.go) and
../testdata/iris_expected.json (all 150 iris rows and Booster.predict()'s outputs for them,
which the Go tests compare against).
"""
import json

import xgboost as xgb
from sklearn.datasets import load_iris

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main():
    iris = load_iris()
    x, y = iris.data, iris.target
    dtrain = xgb.DMatrix(x, label=y, feature_names=FEATURES)
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "eta": 0.3,
              "seed": 1, "nthread": 1}
    booster = xgb.train(params, dtrain, num_boost_round=10)
    booster.save_model("xgboost-model.json")
    pred = booster.predict(xgb.DMatrix(x, feature_names=FEATURES))
    accuracy = float((pred.argmax(axis=1) == y).mean())
    with open("../testdata/iris_expected.json", "w") as f:
        json.dump({"xgboost": xgb.__version__, "accuracy": accuracy,
                   "rows": x.tolist(), "labels": y.tolist(),
                   "want": [[float(v) for v in row] for row in pred]}, f)
        f.write("\n")
    print("training accuracy %.3f" % accuracy)


if __name__ == "__main__":
    main()
