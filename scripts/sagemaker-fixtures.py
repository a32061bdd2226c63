#!/usr/bin/python3
"""Writes the test fixtures of inferstack's SageMaker input formats with SageMaker's own code.

The fixtures are request bodies encoded by the SageMaker Python SDK's serializer, and what the
built-in XGBoost container's parsing functions make of them and of libsvm and CSV bodies.
None of that code is part of this repository: pass the directories of checkouts made like this

    git -C SDK_GIT archive v2.257.6 src/sagemaker | tar -x -C sdk
    git -C XGB_GIT archive v3.0-5 src | tar -x -C xgbc-3.0-5      # released: libsvm, content types
    git -C XGB_GIT archive cb8df91 src | tar -x -C xgbc-head      # the recordio reader (3.0-5 used MLIO), libsvm shift

(SDK_GIT: github.com/aws/sagemaker-python-sdk, XGB_GIT: github.com/aws/sagemaker-xgboost-container)
and run, with Debian's python3-protobuf, python3-numpy, python3-scipy, python3-pandas, python3-six:

    /usr/bin/python3 scripts/sagemaker-fixtures.py --sdk sdk --container xgbc-3.0-5 \
        --container-head xgbc-head --out inference/internal/recordio/testdata/sdk

It writes NAME.rec (a body) and NAME.json (the rows the SDK was given, and what the container
read) for each case, libsvm.json (the released parser), libsvm_head.json (the current one, which
shifts 1-based indices per request) and content_types.json (the container's verdicts), and
record_descriptor.pb (the SDK's serialized record.proto descriptor).
"""
import argparse
import ast
import cgi
import importlib.util
import io
import json
import math
import os
import sys
import types

import numpy as np
import scipy.sparse
from scipy.sparse import csr_matrix


def load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def package(name):
    mod = types.ModuleType(name)
    mod.__path__ = []
    sys.modules[name] = mod
    return mod


def load_sdk(sdk):
    """Loads the SDK's record_pb2, serializer_utils and base_serializers from their files.

    The sagemaker package's __init__ pulls in boto3 and much else; these three modules need only
    record_pb2 and sagemaker.utils.DeferredError (used when scipy is missing), which a stub gives.
    """
    src = os.path.join(sdk, "src", "sagemaker")
    package("sagemaker")
    package("sagemaker.amazon")
    utils = types.ModuleType("sagemaker.utils")

    class DeferredError:  # stands in for sagemaker.utils.DeferredError
        def __init__(self, exception):
            self.exc = exception

        def __getattr__(self, name):
            raise self.exc

    utils.DeferredError = DeferredError
    sys.modules["sagemaker.utils"] = utils
    record_pb2 = load_file("sagemaker.amazon.record_pb2", os.path.join(src, "amazon", "record_pb2.py"))
    su = load_file("sagemaker.serializer_utils", os.path.join(src, "serializer_utils.py"))
    bs = load_file("sagemaker.base_serializers", os.path.join(src, "base_serializers.py"))
    return record_pb2, su, bs


def function_from(path, name, env):
    """Runs one top-level function definition of a source file in env and returns it."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
            exec(code, env)
            return env[name]
    raise SystemExit(f"{name} not found in {path}")


def rows_of(matrix, sparse):
    """The rows as JSON: a number, or None for a missing value (NaN, or absent when sparse)."""
    if sparse:
        m = csr_matrix(matrix)
        out = []
        for i in range(m.shape[0]):
            row = [None] * m.shape[1]
            r = m.getrow(i)
            for j, v in zip(r.indices, r.data):
                row[int(j)] = None if math.isnan(v) else float(v)
            out.append(row)
        return out
    return [[None if math.isnan(v) else float(v) for v in row] for row in np.asarray(matrix, dtype=np.float64)]


def container_reads(read_recordio_protobuf, body):
    try:
        features, _ = read_recordio_protobuf(body)
    except Exception as e:  # noqa: BLE001 - the container turns any of them into a 415
        return {"error": f"{type(e).__name__}: {e}"}
    sparse = scipy.sparse.issparse(features)
    return {"sparse": sparse, "rows": rows_of(features, sparse)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdk", required=True)
    ap.add_argument("--container", required=True)
    ap.add_argument("--container-head", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    record_pb2, su, bs = load_sdk(a.sdk)
    with open(os.path.join(a.out, "record_descriptor.pb"), "wb") as f:
        f.write(record_pb2.DESCRIPTOR.serialized_pb)

    # The container's reader imports sagemaker_containers.record_pb2: the same schema as the SDK's.
    package("sagemaker_containers")
    sys.modules["sagemaker_containers.record_pb2"] = record_pb2
    head_src = os.path.join(a.container_head, "src", "sagemaker_xgboost_container")
    rp = load_file("xgbc_recordio_protobuf", os.path.join(head_src, "recordio_protobuf.py"))

    nan = float("nan")
    wide = np.array([[0.1, -2.5, 1e-300, 123456.789], [nan, 0.0, -0.0, 3.3],
                     [1.0 / 3, 5e-324, 1.7976931348623157e308, -1.0]])
    narrow = np.array([[0.1, -2.5, 1e-30, 123456.789], [nan, 0.0, -0.0, 3.3],
                       [1.0 / 3, 1e-45, 3.4e38, -1.0]], dtype=np.float32)
    rng = np.random.default_rng(14)
    sparse64 = csr_matrix(np.array([[0.0, 1.5, 0.0, -2.0], [3.25, 0.0, 0.0, 0.0],
                                    [0.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.125, 1e-7]]))
    sparse_full = csr_matrix(np.array([[0.0, 1.5, 0.0, -2.0], [3.25, 0.0, 0.0, 0.0],
                                       [0.5, 0.25, 0.125, 1e-7]]))
    cases = [
        # name, what the SDK is given, how it encodes it
        ("dense_float64_1row", np.array([5.1, 3.5, 1.4, 0.2]), "RecordSerializer"),
        ("dense_float64", wide, "RecordSerializer"),
        ("dense_float32", narrow, "RecordSerializer"),
        ("dense_int", np.array([[1, 2, 3, 4], [-5, 0, 7, 2147483647]]), "RecordSerializer"),
        ("dense_float64_labels", wide, "write_numpy_to_dense_tensor+labels"),
        ("dense_float64_1000rows", rng.normal(size=(1000, 4)), "RecordSerializer"),
        ("sparse_float64", sparse64, "write_spmatrix_to_sparse_tensor+labels"),
        ("sparse_float32", sparse_full.astype(np.float32), "write_spmatrix_to_sparse_tensor"),
        ("sparse_float64_no_empty_row", sparse_full, "write_spmatrix_to_sparse_tensor"),
    ]
    for name, data, how in cases:
        buf = io.BytesIO()
        if how == "RecordSerializer":
            body = bs.RecordSerializer().serialize(data).read()
        elif how == "write_numpy_to_dense_tensor+labels":
            su.write_numpy_to_dense_tensor(buf, data, np.arange(data.shape[0], dtype=np.float64))
            body = buf.getvalue()
        elif how == "write_spmatrix_to_sparse_tensor+labels":
            su.write_spmatrix_to_sparse_tensor(buf, data, np.arange(data.shape[0], dtype=np.float64))
            body = buf.getvalue()
        else:
            su.write_spmatrix_to_sparse_tensor(buf, data)
            body = buf.getvalue()
        sparse = scipy.sparse.issparse(data)
        matrix = data if sparse or data.ndim == 2 else data.reshape(1, -1)
        with open(os.path.join(a.out, name + ".rec"), "wb") as f:
            f.write(body)
        record = {
            "sdk": "aws/sagemaker-python-sdk@v2.257.6",
            "encoder": how,
            "dtype": str(matrix.dtype),
            "sparse": sparse,
            "rows": rows_of(matrix, sparse),
            "container": container_reads(rp.read_recordio_protobuf, body),
            "container_source": "aws/sagemaker-xgboost-container@cb8df91:src/sagemaker_xgboost_container/recordio_protobuf.py",
        }
        with open(os.path.join(a.out, name + ".json"), "w") as f:
            json.dump(record, f, indent=1, allow_nan=False)
            f.write("\n")

    # libsvm: the algorithm-mode parser of the released container, run on each body as
    # parse_content_data runs it (payload.strip().decode(), then DMatrix of the CSR matrix).
    rel_src = os.path.join(a.container, "src", "sagemaker_xgboost_container")
    parse = function_from(os.path.join(rel_src, "algorithm_mode", "serve_utils.py"),
                          "_get_sparse_matrix_from_libsvm", {"np": np, "csr_matrix": csr_matrix})
    libsvm_cases = {
        "one_based": "0 1:0.5 2:1.5 4:-3\n",
        "zero_based": "1 0:2 3:4\n",
        "label_with_qid": "1 qid:3 1:2\n",
        "absent_is_missing": "0 0:1 3:2\n0 1:7\n",
        "duplicate_index": "0 1:1 1:2\n",
        "negative_index": "0 -1:1\n",
        "not_a_number": "0 1:abc\n",
        "nan_value": "0 1:nan 2:3\n",
        "tab_separated": "0\t1:1\t2:2\n",
        "label_only_last_line": "0 1:1\n0\n",
        "blank_line_between": "0 1:1\n\n0 2:2\n",
    }
    libsvm_out = {"container_source": "aws/sagemaker-xgboost-container@c988a0e:src/sagemaker_xgboost_container/algorithm_mode/serve_utils.py:94-139", "cases": {}}
    for name, body in libsvm_cases.items():
        try:
            m = parse(body.encode().strip().decode("utf-8"))
            verdict = {"rows": rows_of(m, True), "columns": int(m.shape[1])}
        except Exception as e:  # noqa: BLE001 - the container answers any of them with 415
            verdict = {"error": f"{type(e).__name__}: {e}"}
        libsvm_out["cases"][name] = {"body": body, "container": verdict}
    with open(os.path.join(a.out, "libsvm.json"), "w") as f:
        json.dump(libsvm_out, f, indent=1, allow_nan=False)
        f.write("\n")

    # libsvm again with the container's current parser (cb8df91, since 7eefe63), which shifts
    # every index down by one when no index of the request is 0: the same cases, and some that
    # show the per-request rule (a request whose rows never use index 0 is read shifted).
    head_parse = function_from(os.path.join(head_src, "algorithm_mode", "serve_utils.py"),
                               "_get_sparse_matrix_from_libsvm", {"np": np, "csr_matrix": csr_matrix})
    shift_cases = dict(libsvm_cases)
    shift_cases.update({
        "one_based_to_last_feature": "0 1:1 5:5\n",
        "zero_in_a_later_row": "0 1:1 2:2\n0 0:3\n",
        "zero_based_without_zero": "0 1:1 2:2\n0 3:3\n",
        "index_zero_only": "0 0:9\n",
        "label_only": "0\n",
        "shifted_beyond_after_zero": "0 0:1\n0 5:5\n",
    })
    head_out = {"container_source": "aws/sagemaker-xgboost-container@cb8df91:src/sagemaker_xgboost_container/algorithm_mode/serve_utils.py:94-118", "cases": {}}
    for name, body in shift_cases.items():
        try:
            m = head_parse(body.encode().strip().decode("utf-8"))
            verdict = {"rows": rows_of(m, True), "columns": int(m.shape[1])}
        except Exception as e:  # noqa: BLE001 - the container answers any of them with 415
            verdict = {"error": f"{type(e).__name__}: {e}"}
        head_out["cases"][name] = {"body": body, "container": verdict}
    with open(os.path.join(a.out, "libsvm_head.json"), "w") as f:
        json.dump(head_out, f, indent=1, allow_nan=False)
        f.write("\n")

    # Content types: the released container's get_content_type, which parse_content_data calls.
    class UserError(Exception):
        pass

    xgb_ct = load_file("xgb_content_types", os.path.join(rel_src, "constants", "xgb_content_types.py"))
    env = {"cgi": cgi, "exc": types.SimpleNamespace(UserError=UserError), "xgb_content_types": xgb_ct,
           "_content_types": types.SimpleNamespace(CSV="text/csv"),
           "CSV": "csv", "LIBSVM": "libsvm", "PARQUET": "parquet", "RECORDIO_PROTOBUF": "recordio-protobuf",
           "_get_invalid_content_type_error_msg": lambda ct: f"{ct} is not an accepted ContentType"}
    data_utils = os.path.join(rel_src, "data_utils.py")
    get_content_type = function_from(data_utils, "get_content_type", env)
    ct_out = {"container_source": "aws/sagemaker-xgboost-container@c988a0e:src/sagemaker_xgboost_container/data_utils.py:86-122", "cases": {}}
    for ct in ["text/csv", "text/csv;label_size=1", "text/csv; label_size=1; charset=utf-8", 'text/csv;label_size="1"',
               "text/csv;label_size=0", "text/csv;label_size=2", "text/csv;label_size=01", "TEXT/CSV;LABEL_SIZE=1",
               "text/libsvm", "text/x-libsvm", "application/x-recordio-protobuf", "application/jsonlines"]:
        try:
            ct_out["cases"][ct] = {"format": get_content_type(ct)}
        except UserError as e:
            ct_out["cases"][ct] = {"error": str(e)}
    with open(os.path.join(a.out, "content_types.json"), "w") as f:
        json.dump(ct_out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
