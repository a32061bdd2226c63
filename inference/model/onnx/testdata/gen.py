"""Makes the ONNX parity fixtures in this directory, with the training library's own predictions.

Run with Debian's Python and packages (bookworm: python3-sklearn 1.2.1, python3-onnx 1.12,
python3-torch 1.13, python3-numpy 1.24):

    cd inference/model/onnx/testdata && /usr/bin/python3 gen.py

No scikit-learn converter (skl2onnx) is packaged for Debian, so the ai.onnx.ml graphs are
written here from each fitted estimator's own arrays (tree_.children_left/right, feature,
threshold, value; coef_, intercept_; mean_, scale_) with onnx.helper, the way skl2onnx lays them
out: a classifier node with outputs label and probabilities, optionally followed by ZipMap. The
operator semantics are those of the ONNX-ML operator spec (github.com/onnx/onnx, docs/Operators-ml.md:
TreeEnsembleClassifier, TreeEnsembleRegressor, LinearClassifier, Scaler, ZipMap).

Each fixture is a directory <name>/ holding model.onnx (and manifest.json where the test needs
one), and <name>.expected.json holding the input rows and what the library's predict_proba /
predict / forward returned for them.
"""

import json
import os

import numpy as np
import onnx
import sklearn
import torch
from onnx import TensorProto, checker, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ML = "ai.onnx.ml"
OPSETS = [helper.make_opsetid("", 15), helper.make_opsetid(ML, 3)]
PRODUCER = "inferstack gen.py (scikit-learn %s)" % sklearn.__version__


def save(name, model, expected, manifest=None):
    checker.check_model(model)
    os.makedirs(name, exist_ok=True)
    onnx.save(model, os.path.join(name, "model.onnx"))
    if manifest is not None:
        with open(os.path.join(name, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
    with open(name + ".expected.json", "w") as f:
        json.dump(expected, f)
        f.write("\n")
    print(name, os.path.getsize(os.path.join(name, "model.onnx")), "bytes")


def tensor_input(name, elem, nfeatures):
    return helper.make_tensor_value_info(name, elem, [None, nfeatures])


def float32_down(threshold):
    """The largest float32 not above a float64 threshold. scikit-learn compares float32 features
    (widened to float64) with float64 thresholds; for a float32 x, x <= t exactly when x <= this
    value, whereas rounding t to the nearest float32 may round it up and send a row equal to it
    the other way."""
    f = np.float32(threshold)
    if float(f) > threshold:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_attrs(trees, leaf_weights, as_tensor):
    """The node and leaf attributes of a tree ensemble. leaf_weights(tree_index, tree, leaf)
    yields (target_or_class_id, weight) pairs for a leaf."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "w_tree", "w_node", "w_id", "w_weight"]}
    for t, tree in enumerate(trees):
        tr = tree.tree_
        for i in range(tr.node_count):
            leaf = tr.children_left[i] == -1
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(i)
            a["nodes_featureids"].append(0 if leaf else int(tr.feature[i]))
            a["nodes_values"].append(0.0 if leaf else (float(tr.threshold[i]) if as_tensor else float32_down(tr.threshold[i])))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")  # sklearn: x <= threshold goes left
            a["nodes_truenodeids"].append(0 if leaf else int(tr.children_left[i]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tr.children_right[i]))
            if leaf:
                for cid, w in leaf_weights(t, tree, i):
                    a["w_tree"].append(t)
                    a["w_node"].append(i)
                    a["w_id"].append(cid)
                    a["w_weight"].append(float(w))
    out = {k: a[k] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids"]}
    if as_tensor:
        # Thresholds as doubles: exactly scikit-learn's, for float64 input.
        out["nodes_values_as_tensor"] = numpy_helper.from_array(np.array(a["nodes_values"], dtype=np.float64))
    else:
        out["nodes_values"] = a["nodes_values"]
    return out, a


def label_attr(classes, ints="classlabels_int64s"):
    """The class labels attribute; LinearClassifier and SVMClassifier call the integer one classlabels_ints."""
    if classes.dtype.kind in "iu":
        return {ints: [int(c) for c in classes]}
    return {"classlabels_strings": [str(c) for c in classes]}


def label_type(classes):
    return TensorProto.INT64 if classes.dtype.kind in "iu" else TensorProto.STRING


def classifier_graph(name, nodes, inp, classes, zipmap, initializers=()):
    """Finishes a classifier: the last node wrote 'label' and 'probabilities' (or 'probability_tensor'
    followed by a ZipMap to 'probabilities', as skl2onnx names it 'output_probability')."""
    outputs = [helper.make_tensor_value_info("label", label_type(classes), [None])]
    if zipmap:
        nodes.append(helper.make_node("ZipMap", ["probability_tensor"], ["output_probability"], domain=ML,
                                      **label_attr(classes)))
        key = TensorProto.INT64 if classes.dtype.kind in "iu" else TensorProto.STRING
        map_type = onnx.TypeProto()  # onnx 1.12's helper has no make_map_type_proto
        map_type.map_type.key_type = key
        map_type.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
        outputs.append(helper.make_value_info("output_probability", helper.make_sequence_type_proto(map_type)))
    else:
        outputs.append(helper.make_tensor_value_info("probability_tensor", TensorProto.FLOAT, [None, len(classes)]))
    graph = helper.make_graph(nodes, name, [inp], outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=OPSETS, producer_name=PRODUCER)


def classifier_expected(est, x, classes):
    return {"rows": x.tolist(), "proba": est.predict_proba(x).tolist(),
            "predict": [c.item() if hasattr(c, "item") else c for c in est.predict(x)],
            "classes": [c.item() if hasattr(c, "item") else c for c in classes]}


def random_forest(name, x, y, zipmap, as_tensor, n_estimators=10, max_depth=4):
    est = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=0).fit(x, y)
    classes = est.classes_
    n = len(est.estimators_)

    def weights(t, tree, leaf):
        v = tree.tree_.value[leaf, 0]
        return [(k, v[k] / v.sum() / n) for k in range(len(classes))]

    attrs, a = tree_attrs(est.estimators_, weights, as_tensor)
    elem = TensorProto.DOUBLE if as_tensor else TensorProto.FLOAT
    node = helper.make_node("TreeEnsembleClassifier", ["input"], ["label", "probability_tensor"], domain=ML,
                            class_treeids=a["w_tree"], class_nodeids=a["w_node"], class_ids=a["w_id"],
                            class_weights=a["w_weight"], post_transform="NONE", **attrs, **label_attr(classes))
    model = classifier_graph(name, [node], tensor_input("input", elem, x.shape[1]), classes, zipmap)
    save(name, model, classifier_expected(est, x, classes))


def gradient_boosting(name, x, y, n_estimators=20, max_depth=2):
    est = GradientBoostingClassifier(n_estimators=n_estimators, max_depth=max_depth, learning_rate=0.3,
                                     random_state=0).fit(x, y)
    classes = est.classes_
    trees, ids = [], []
    for i in range(est.estimators_.shape[0]):
        for k in range(est.estimators_.shape[1]):
            trees.append(est.estimators_[i, k])
            ids.append(k)
    lr = est.learning_rate

    def weights(t, tree, leaf):
        return [(ids[t], lr * tree.tree_.value[leaf, 0, 0])]

    attrs, a = tree_attrs(trees, weights, as_tensor=False)
    base = est._raw_predict_init(x[:1])[0]  # the init estimator's raw score (log priors)
    node = helper.make_node("TreeEnsembleClassifier", ["input"], ["label", "probability_tensor"], domain=ML,
                            class_treeids=a["w_tree"], class_nodeids=a["w_node"], class_ids=a["w_id"],
                            class_weights=a["w_weight"], base_values=[float(b) for b in base],
                            post_transform="SOFTMAX", **attrs, **label_attr(classes))
    model = classifier_graph(name, [node], tensor_input("input", TensorProto.FLOAT, x.shape[1]), classes, False)
    save(name, model, classifier_expected(est, x, classes))


def gb_regressor(name, x, y):
    est = GradientBoostingRegressor(n_estimators=30, max_depth=3, learning_rate=0.2, random_state=0).fit(x, y)
    lr = est.learning_rate

    def weights(t, tree, leaf):
        return [(0, lr * tree.tree_.value[leaf, 0, 0])]

    attrs, a = tree_attrs(est.estimators_[:, 0], weights, as_tensor=False)
    node = helper.make_node("TreeEnsembleRegressor", ["input"], ["variable"], domain=ML,
                            target_treeids=a["w_tree"], target_nodeids=a["w_node"], target_ids=a["w_id"],
                            target_weights=a["w_weight"], base_values=[float(est.init_.constant_[0][0])],
                            n_targets=1, aggregate_function="SUM", post_transform="NONE", **attrs)
    graph = helper.make_graph([node], name, [tensor_input("input", TensorProto.FLOAT, x.shape[1])],
                              [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name=PRODUCER)
    save(name, model, {"rows": x.tolist(), "predict": est.predict(x).tolist()})


def linear_classifier_node(inp, lr, classes):
    return helper.make_node("LinearClassifier", [inp], ["label", "probability_tensor"], domain=ML,
                            coefficients=[float(c) for c in lr.coef_.ravel()],
                            intercepts=[float(c) for c in lr.intercept_], multi_class=1,
                            post_transform="SOFTMAX", **label_attr(classes, "classlabels_ints"))


def logistic_regression(name, x, y, zipmap):
    est = LogisticRegression(max_iter=1000).fit(x, y)  # lbfgs: multinomial for 3 classes
    node = linear_classifier_node("input", est, est.classes_)
    model = classifier_graph(name, [node], tensor_input("input", TensorProto.FLOAT, x.shape[1]), est.classes_, zipmap)
    save(name, model, classifier_expected(est, x, est.classes_))


def scaler_pipeline(name, x, y):
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    scaler, lr = est.steps[0][1], est.steps[1][1]
    nodes = [
        helper.make_node("Scaler", ["input"], ["scaled"], domain=ML, offset=[float(v) for v in scaler.mean_],
                         scale=[float(1 / v) for v in scaler.scale_]),  # Scaler: (x - offset) * scale
        linear_classifier_node("scaled", lr, lr.classes_),
    ]
    model = classifier_graph(name, nodes, tensor_input("input", TensorProto.FLOAT, x.shape[1]), lr.classes_, False)
    save(name, model, classifier_expected(est, x, lr.classes_))


class MLP(torch.nn.Module):
    def __init__(self, nin, nout):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(nin, 16), torch.nn.Tanh(), torch.nn.Linear(16, nout))

    def forward(self, x):
        return self.net(x)


class Grid(torch.nn.Module):
    """Takes [N, 2, 3] inputs: fixed dims other than the batch."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(2, 4, kernel_size=2)
        self.out = torch.nn.Linear(8, 1)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).flatten(1))


def torch_export(name, net, example, x):
    net.eval()
    path = os.path.join(name, "model.onnx")
    os.makedirs(name, exist_ok=True)
    torch.onnx.export(net, example, path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=15)
    checker.check_model(onnx.load(path))
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    with open(name + ".expected.json", "w") as f:
        json.dump({"rows": x.reshape(len(x), -1).astype(np.float64).tolist(), "predict": y.astype(np.float64).tolist()}, f)
        f.write("\n")
    print(name, os.path.getsize(path), "bytes")


def torch_mlp(name):
    iris = load_iris()
    x = iris.data.astype(np.float32)
    y = torch.from_numpy(iris.target)
    torch.manual_seed(0)
    net = MLP(4, 3)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), y).backward()
        opt.step()
    torch_export(name, net, torch.from_numpy(x[:2]), x)


class Wide(torch.nn.Module):
    """A wider network (64 -> 512 -> 512 -> 8, 1.2 MB of weights), where one run of many rows
    (a matrix product) costs far less per row than one run per row: what dynamic batching is for."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                       torch.nn.ReLU(), torch.nn.Linear(512, 8))

    def forward(self, x):
        return self.net(x)


def torch_wide(name):
    torch.manual_seed(2)
    x = np.random.default_rng(3).normal(size=(32, 64)).astype(np.float32)
    torch_export(name, Wide(), torch.from_numpy(x[:2]), x)


def torch_grid(name):
    torch.manual_seed(1)
    x = np.random.default_rng(1).normal(size=(40, 2, 3)).astype(np.float32)
    torch_export(name, Grid(), torch.from_numpy(x[:2]), x)


class ConvImage(torch.nn.Module):
    """A small image network on [N, 3, 8, 8] inputs (channels first, as torch lays them out):
    conv, ReLU, max-pool, conv, then a linear layer to 3 outputs."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 6, kernel_size=3, padding=1), torch.nn.ReLU(),
                                            torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 4, kernel_size=3), torch.nn.ReLU())
        self.out = torch.nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        return self.out(self.features(x).flatten(1))


class TwoInputs(torch.nn.Module):
    """Two inputs, an image [N, 2, 4, 4] and a vector [N, 3], joined after a convolution."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, kernel_size=2, stride=2)
        self.out = torch.nn.Linear(3 * 2 * 2 + 3, 2)

    def forward(self, image, meta):
        return self.out(torch.cat([torch.tanh(self.conv(image)).flatten(1), meta], dim=1))


def torch_export_inputs(name, net, xs, names):
    """torch_export for networks whose inputs are not [N, features]: the expected file keeps each
    row's inputs in their own shapes ("inputs": {name: [row tensors]}) besides the flat rows."""
    net.eval()
    path = os.path.join(name, "model.onnx")
    os.makedirs(name, exist_ok=True)
    axes = {n: {0: "batch"} for n in names}
    axes["output"] = {0: "batch"}
    torch.onnx.export(net, tuple(torch.from_numpy(x[:2]) for x in xs), path, input_names=names,
                      output_names=["output"], dynamic_axes=axes, opset_version=15)
    checker.check_model(onnx.load(path))
    with torch.no_grad():
        y = net(*[torch.from_numpy(x) for x in xs]).numpy()
    flat = np.concatenate([x.reshape(len(x), -1).astype(np.float64) for x in xs], axis=1)
    with open(name + ".expected.json", "w") as f:
        json.dump({"rows": flat.tolist(), "inputs": {n: x.astype(np.float64).tolist() for n, x in zip(names, xs)},
                   "predict": y.astype(np.float64).tolist()}, f)
        f.write("\n")
    print(name, os.path.getsize(path), "bytes")


def torch_conv_image(name):
    torch.manual_seed(4)
    x = np.random.default_rng(4).normal(size=(24, 3, 8, 8)).astype(np.float32)
    torch_export_inputs(name, ConvImage(), [x], ["image"])


def torch_two_inputs(name):
    torch.manual_seed(5)
    rng = np.random.default_rng(5)
    image = rng.normal(size=(16, 2, 4, 4)).astype(np.float32)
    meta = rng.normal(size=(16, 3)).astype(np.float32)
    torch_export_inputs(name, TwoInputs(), [image, meta], ["image", "meta"])


def lightgbm_trees(text):
    """The trees of a LightGBM text model (Booster.save_model), as dicts of its arrays."""
    trees, cur = [], None
    for line in text.splitlines():
        if line.startswith("Tree="):
            cur = {}
            trees.append(cur)
        elif line.startswith("end of trees"):
            break
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k] = v.split(" ")
    return trees


def lightgbm_multiclass(name):
    """A LightGBM multiclass model (softmax, 5 classes, 28 features) written as an ai.onnx.ml
    TreeEnsembleClassifier from its own text dump, the way onnxmltools' LightGBM converter lays it
    out: tree i adds to class i % num_tree_per_iteration, LightGBM's "x <= threshold goes left" is
    BRANCH_LEQ, leaf values already include the shrinkage, post_transform SOFTMAX. No LightGBM and
    no onnxmltools are packaged for Debian; the model and LightGBM's own predictions are the
    parity fixtures of inference/model/lightgbm (from github.com/dmitryikh/leaves' testdata,
    trained and predicted by LightGBM). Input and thresholds are float64, as LightGBM compares."""
    import gzip
    src = os.path.join("..", "..", "lightgbm", "testdata")
    text = gzip.open(os.path.join(src, "lgmulticlass.model.gz"), "rt").read()
    header = dict(l.split("=", 1) for l in text.split("\n\n")[0].splitlines() if "=" in l)
    per_iter, nclass = int(header["num_tree_per_iteration"]), int(header["num_class"])
    nodes = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids"]}
    values, w = [], {k: [] for k in ["class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for t, tree in enumerate(lightgbm_trees(text)):
        nleaves = int(tree["num_leaves"][0])
        assert tree.get("num_cat", ["0"])[0] == "0", "categorical splits are not written here"
        ninternal = nleaves - 1

        def node_id(child):
            c = int(child)
            return c if c >= 0 else ninternal + (-c - 1)

        for i in range(ninternal):
            assert int(tree["decision_type"][i]) & 0b1101 == 0, "numerical splits without missing-value handling only"
            nodes["nodes_treeids"].append(t)
            nodes["nodes_nodeids"].append(i)
            nodes["nodes_featureids"].append(int(tree["split_feature"][i]))
            nodes["nodes_modes"].append("BRANCH_LEQ")
            nodes["nodes_truenodeids"].append(node_id(tree["left_child"][i]))
            nodes["nodes_falsenodeids"].append(node_id(tree["right_child"][i]))
            values.append(float(tree["threshold"][i]))
        for j, leaf in enumerate(tree["leaf_value"]):
            nodes["nodes_treeids"].append(t)
            nodes["nodes_nodeids"].append(ninternal + j)
            nodes["nodes_featureids"].append(0)
            nodes["nodes_modes"].append("LEAF")
            nodes["nodes_truenodeids"].append(0)
            nodes["nodes_falsenodeids"].append(0)
            values.append(0.0)
            w["class_treeids"].append(t)
            w["class_nodeids"].append(ninternal + j)
            w["class_ids"].append(t % per_iter)
            w["class_weights"].append(float(leaf))
    classes = np.arange(nclass)
    node = helper.make_node("TreeEnsembleClassifier", ["input"], ["label", "probability_tensor"], domain=ML,
                            nodes_values_as_tensor=numpy_helper.from_array(np.array(values, dtype=np.float64)),
                            post_transform="SOFTMAX", **nodes, **w, **label_attr(classes))
    model = classifier_graph(name, [node], tensor_input("input", TensorProto.DOUBLE, int(header["max_feature_idx"]) + 1),
                             classes, False)
    model.producer_name = "inferstack gen.py (LightGBM %s text model)" % header.get("version", "?")
    rows = np.loadtxt(os.path.join(src, "multiclass_test_first100.tsv"))[:, 1:]
    proba = np.loadtxt(os.path.join(src, "lgmulticlass_true_predictions_first100.txt"))
    save(name, model, {"rows": rows.tolist(), "proba": proba.tolist(),
                       "predict": [int(k) for k in proba.argmax(axis=1)], "classes": classes.tolist()})


def int64_linear(name):
    """A hand-made graph with int64 input (counts), to serve integer features: y = cast(x) @ w + b.
    Its reference is numpy."""
    w = np.array([[0.5], [-1.25], [2.0]], dtype=np.float32)
    b = np.array([0.75], dtype=np.float32)
    nodes = [helper.make_node("Cast", ["counts"], ["xf"], to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["xf", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["y"])]
    graph = helper.make_graph(nodes, name, [tensor_input("counts", TensorProto.INT64, 3)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
                              initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name=PRODUCER)
    x = np.random.default_rng(2).integers(-50, 50, size=(20, 3))
    save(name, model, {"rows": x.tolist(), "predict": (x.astype(np.float32) @ w + b).astype(np.float64).ravel().tolist()})


def main():
    iris = load_iris()
    names = iris.target_names[iris.target]  # string labels: the class names come from the model
    random_forest("rf_iris", iris.data.astype(np.float32), names, zipmap=False, as_tensor=False)
    bc = load_breast_cancer()
    random_forest("rf_breast_cancer_zipmap", bc.data[:200], bc.target_names[bc.target[:200]], zipmap=True, as_tensor=True)
    gradient_boosting("gb_iris", iris.data.astype(np.float32), iris.target)
    logistic_regression("logreg_iris_zipmap", iris.data.astype(np.float32), iris.target, zipmap=True)
    wine = load_wine()
    scaler_pipeline("pipeline_wine", wine.data.astype(np.float32), wine.target_names[wine.target])
    diabetes = load_diabetes()
    y = (diabetes.target - diabetes.target.mean()) / diabetes.target.std()  # unit scale: float32 outputs stay within 1e-5
    gb_regressor("gbr_diabetes", diabetes.data.astype(np.float32), y)
    torch_mlp("torch_mlp_iris")
    torch_grid("torch_conv_grid")
    torch_wide("torch_mlp_wide")
    torch_conv_image("torch_conv_image")
    lightgbm_multiclass("lightgbm_multiclass")
    torch_two_inputs("torch_two_inputs")
    int64_linear("int64_linear")


if __name__ == "__main__":
    main()
