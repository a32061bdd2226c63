"""Turns bench/run's results file into bench/RESULTS.md, prints it, and puts its headline table
into the README between the bench:begin and bench:end markers.

Usage: report.py RESULTS.txt RESULTS.md README.md
"""
import collections
import re
import sys

src, out, readme = sys.argv[1:4]
kv, http, batch, start, proxy = {}, collections.defaultdict(list), collections.defaultdict(list), collections.defaultdict(list), {}
for line in open(src):
    f = line.split()
    if not f:
        continue
    if f[0] == "http" and len(f) == 7:  # http SYSTEM BODY ROUND RPS P50 P99
        http[(f[1], f[2])].append(tuple(float(v) for v in f[4:7]))
    elif f[0] == "batch" and f[1] == "ours":
        batch[("ours", f[2])].append((float(f[4]), None))
    elif f[0] == "batch" and f[1] == "xgboost":  # rows_per_s=N max_abs_diff=D
        vals = dict(v.split("=") for v in f[4:])
        batch[("xgboost", f[2])].append((float(vals["rows_per_s"]), float(vals["max_abs_diff"])))
    elif f[0] == "start":  # start SYSTEM ROUND MS RSS_KIB
        start[f[1]].append((float(f[3]), float(f[4])))
    elif f[0] == "proxy":  # proxy NAME NS/OP B/OP ALLOCS/OP
        proxy[f[1]] = f[2:5]
    else:
        kv[f[0]] = line[len(f[0]):].strip()


def best(runs):
    """The round with the most requests/s, and its latencies."""
    return max(runs) if runs else (float("nan"),) * 3


def ratio(a, b):
    return "%.2f×" % (a / b) if b else "n/a"


names = {"ours": "inferstack (Go)", "peer": "FastAPI + uvicorn + XGBoost", "ceiling": "net/http ceiling (decode, constant answer)"}
bodies = {"row": "single-row JSON", "batch100": "100-row CSV"}
lines = []
w = lines.append
w("# Benchmark results")
w("")
w("Written by `bench/run` on %s; commit %s; %s; load average %s at the start, %s at the end; took %s s." % (
    kv.get("date"), kv.get("commit"), kv.get("settings"), kv.get("load_start"), kv.get("load_end"), kv.get("elapsed_s")))
w("")
w("- Machine: %s" % kv.get("machine"))
w("- Go %s, wrk %s, Python %s; %s (all from Debian 12)" % (kv.get("go"), kv.get("wrk"), kv.get("python"), kv.get("pylibs")))
w("- Every figure is the best of the rounds, the systems alternating; ratios are to the peer (or to XGBoost) measured in this run.")
w("")
w("## HTTP, one core each")
w("")
w("Server pinned to one CPU with `taskset`, `wrk -t1` on the other, 32 connections, the 100-tree depth-6 "
  "binary:logistic model over 20 features (5% missing). The peer is `bench/peer/app.py`: a pydantic request model, "
  "`xgb.DMatrix`, `Booster.predict`, on uvicorn with uvloop and httptools.")
w("")
w("| request | system | requests/s | p50 ms | p99 ms | vs peer |")
w("|---|---|---:|---:|---:|---:|")
headline = []
for body in ("row", "batch100"):
    peer = best(http[("peer", body)])
    for sys_ in ("ours", "peer", "ceiling"):
        rps, p50, p99 = best(http[(sys_, body)])
        w("| %s | %s | %.0f | %.2f | %.2f | %s |" % (bodies[body], names[sys_], rps, p50, p99, ratio(rps, peer[0])))
        if sys_ == "ours":
            headline.append("| %s, requests/s on one core | %.0f | %.0f | %s |" % (bodies[body], rps, peer[0], ratio(rps, peer[0])))
w("")
w("## Batch: 1000-row CSV through our HTTP path vs XGBoost's own predict")
w("")
w("Rows/s of 1000-row CSV requests to our server on one core (wrk, 4 connections: parsing, prediction, the CSV answer "
  "and HTTP included) against `Booster.inplace_predict` of XGBoost %s with `nthread=1` on the same rows, already in a "
  "float32 array, pinned to the same core (no HTTP, no parsing); both are rows over a whole DURATION-second run, and the table keeps each side's best round. *max diff* is the largest "
  "difference between our answers and XGBoost's for those rows." % (kv.get("pylibs", "").split(",")[0].replace("xgboost ", "")))
w("")
w("| model | inferstack rows/s | XGBoost inplace_predict rows/s | ratio | max diff |")
w("|---|---:|---:|---:|---:|")
models = {"binary": "binary:logistic, 100 trees of depth 6, 20 features, 5% missing", "iris": "multi:softprob iris (the embedded default: 30 trees, 3 classes, 4 features)"}
for model in ("binary", "iris"):
    ours = max(r for r, _ in batch[("ours", model)]) if batch[("ours", model)] else float("nan")
    xr = batch[("xgboost", model)]
    xgb = max(r for r, _ in xr) if xr else float("nan")
    diff = max(d for _, d in xr) if xr else float("nan")
    w("| %s | %.0f | %.0f | %s | %.2g |" % (models[model], ours, xgb, ratio(ours, xgb), diff))
    if model == "binary":
        headline.append("| 1000-row CSV batches, rows/s on one core (vs XGBoost's own `inplace_predict`, nthread=1) | %.0f | %.0f | %s |" % (ours, xgb, ratio(ours, xgb)))
w("")
w("LightGBM: %s" % ("Debian packages python3-lightgbm: not measured by this version of bench/run." if kv.get("lightgbm") == "available"
                   else "Debian 12 has no python3-lightgbm package, so there is no LightGBM peer to compare with."))
w("")
w("## Start and size")
w("")
so, sp = start["ours"], start["peer"]
st_o, st_p = min(s for s, _ in so), min(s for s, _ in sp)
rss_o, rss_p = min(r for _, r in so) / 1024, min(r for _, r in sp) / 1024
binary = int(kv.get("binary_bytes", 0)) / 1e6
closure = int(kv.get("peer_closure_kib", 0) or 0) / 1024
w("| | inferstack | peer | ratio |")
w("|---|---:|---:|---:|")
w("| process start to the first 200 on /ping | %.0f ms | %.0f ms | %s |" % (st_o, st_p, ratio(st_o, st_p)))
w("| RSS after 10k single-row requests | %.1f MiB | %.1f MiB | %s |" % (rss_o, rss_p, ratio(rss_o, rss_p)))
w("| server binary | %.1f MB | | |" % binary)
w("| image contents beyond the base | %.1f MB (`/server`, plus the model directory if baked in) | %.0f MiB (installed size of the peer's Debian packages and their dependency closure) | |" % (binary, closure))
w("")
w("The image estimate reads the Dockerfile's final stage (`static`): `gcr.io/distroless/static-debian12:nonroot` "
  "plus `/server` and `/opt/ml/model`; the base layer cannot be pulled here, so it is not in the figure.")
headline.append("| start to first 200 on /ping | %.0f ms | %.0f ms | %s |" % (st_o, st_p, ratio(st_o, st_p)))
headline.append("| RSS after 10k requests | %.1f MiB | %.1f MiB | %s |" % (rss_o, rss_p, ratio(rss_o, rss_p)))
w("")
w("## The Lambda proxy")
w("")
w("The whole handler, in process (`go test -bench 'BenchmarkHandle(CacheHit|MissLocal)$' ./lambda/proxy/`):")
w("")
w("| benchmark | ns/op | B/op | allocs/op |")
w("|---|---:|---:|---:|")
for name, (ns, b, a) in sorted(proxy.items()):
    w("| %s | %s | %s | %s |" % (name, ns, b, a))
if "BenchmarkHandleCacheHit" in proxy and "BenchmarkHandleMissLocal" in proxy:
    hit, miss = float(proxy["BenchmarkHandleCacheHit"][0]), float(proxy["BenchmarkHandleMissLocal"][0])
    w("")
    w("A cache hit costs %s of a miss." % ratio(hit, miss))
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)

table = ["_From `bench/RESULTS.md`, %s, %s (`bench/run`)._" % (kv.get("date"), kv.get("machine")), "",
         "| | inferstack | FastAPI + XGBoost | ratio |", "|---|---:|---:|---:|"] + headline
r = open(readme).read()
new, n = re.subn(r"(<!-- bench:begin -->\n).*?(<!-- bench:end -->)", lambda m: m.group(1) + "\n".join(table) + "\n" + m.group(2), r, flags=re.S)
if n != 1:
    sys.exit("report.py: %s has no <!-- bench:begin --> / <!-- bench:end --> markers" % readme)
open(readme, "w").write(new)
