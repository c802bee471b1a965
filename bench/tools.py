#!/usr/bin/python3
"""Untimed helpers for bench/run.sh and bench/realdata.sh.

Nothing here is measured: it prepares data and judges the results.

    tools.py split IN TRAIN TEST TEST_FRAC SEED   shuffled split of a CSV (lines)
    tools.py libsvm IN OUT TARGET [EXCLUDE...]    CSV -> liblinear's text format
    tools.py eval-sklearn PKL TEST                test metrics of a sk_train.py model
    tools.py eval-liblinear PRED TEST TARGET      test metrics of liblinear-predict -b 1
    tools.py mlops-metrics < validate.json        metrics of `mlops --json validate`
    tools.py mlops-drift < drift.json             flagged columns of `mlops --json drift`
    tools.py compare-scores A.csv B.csv           largest |difference| of the last column
    tools.py report RESULTS                       the summary table

Metrics are printed as one line of key=value tokens, which run.sh stores
in its results file and `report` formats.
"""

import csv
import json
import math
import random
import sys


def is_number(s):
    if s in ("", "NA", "NaN"):
        return True
    try:
        float(s)
        return True
    except ValueError:
        return False


# ---- data preparation ----

def split(src, train, test, frac, seed):
    with open(src, newline="") as f:
        header = f.readline()
        lines = f.readlines()
    idx = list(range(len(lines)))
    random.Random(int(seed)).shuffle(idx)
    n_test = int(round(len(lines) * float(frac)))
    test_idx = sorted(idx[:n_test])
    train_idx = sorted(idx[n_test:])
    for path, rows in ((train, train_idx), (test, test_idx)):
        with open(path, "w", newline="") as out:
            out.write(header)
            out.writelines(lines[i] for i in rows)


def libsvm(src, dst, target, *exclude):
    """One-hot categorical columns (levels from a first pass), 1-based
    indices, numeric columns as they are (liblinear does not standardise),
    missing values left out (read as 0)."""
    with open(src, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        cols = [j for j, c in enumerate(header) if c != target and c not in exclude]
        ti = header.index(target)
        sample = [row for _, row in zip(range(2000), r)]
    numeric = {j: all(is_number(row[j]) for row in sample) for j in cols}
    levels = {j: set() for j in cols if not numeric[j]}
    if levels:
        with open(src, newline="") as f:
            r = csv.reader(f)
            next(r)
            for row in r:
                for j in levels:
                    levels[j].add(row[j])
    index = {}
    k = 1
    for j in cols:
        if numeric[j]:
            index[j] = k
            k += 1
        else:
            index[j] = {v: k + i for i, v in enumerate(sorted(levels[j]))}
            k += len(levels[j])
    with open(src, newline="") as f, open(dst, "w") as out:
        r = csv.reader(f)
        next(r)
        for row in r:
            parts = [row[ti]]
            for j in cols:
                v = row[j]
                if numeric[j]:
                    if v not in ("", "NA", "NaN") and float(v) != 0.0:
                        parts.append("%d:%s" % (index[j], v))
                elif v in index[j]:
                    parts.append("%d:1" % index[j][v])
            out.write(" ".join(parts) + "\n")


# ---- quality ----

def fmt(metrics):
    return " ".join("%s=%.10g" % (k, v) for k, v in metrics.items()
                    if v is not None)


def classification_metrics(y, P, classes):
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
    classes = list(classes)
    pred = np.asarray(classes, dtype=object)[P.argmax(1)]
    y = np.asarray(y, dtype=object)
    m = {"accuracy": accuracy_score(y.astype(str), pred.astype(str)),
         "logloss": log_loss(y.astype(str), P, labels=[str(c) for c in classes])}
    if len(classes) == 2:
        pos = classes[1]
        yb = (y.astype(str) == str(pos)).astype(int)
        m["auc"] = roc_auc_score(yb, P[:, 1])
        m["f1"] = f1_score(yb, (pred.astype(str) == str(pos)).astype(int))
    else:
        present = sorted(set(y.astype(str)))
        if len(present) == len(classes):
            m["auc"] = roc_auc_score(y.astype(str), P, multi_class="ovr",
                                     average="macro",
                                     labels=[str(c) for c in classes])
        m["f1"] = f1_score(y.astype(str), pred.astype(str), average="macro")
    return m


def regression_metrics(y, p):
    import numpy as np
    from sklearn.metrics import r2_score
    y = np.asarray(y, dtype=float)
    return {"r2": r2_score(y, p), "rmse": float(np.sqrt(np.mean((y - p) ** 2)))}


def eval_sklearn(pkl, test):
    import pickle
    import pandas as pd
    with open(pkl, "rb") as f:
        m = pickle.load(f)
    df = pd.read_csv(test)
    X = df.drop(columns=[m["target"]] + m["exclude"])
    y = df[m["target"]].to_numpy()
    model = m["pipeline"]
    if m["task"] == "regression":
        print(fmt(regression_metrics(y, model.predict(X))))
    else:
        print(fmt(classification_metrics(y, model.predict_proba(X),
                                         model.classes_)))


def eval_liblinear(pred, test, target):
    import numpy as np
    import pandas as pd
    with open(pred) as f:
        head = f.readline().split()
        assert head[0] == "labels", "liblinear-predict -b 1 output expected"
        labels = head[1:]
        P = np.array([[float(v) for v in line.split()[1:]] for line in f])
    order = sorted(range(len(labels)), key=lambda i: float(labels[i]))
    P = P[:, order]
    labels = [labels[i] for i in order]
    y = pd.read_csv(test)[target].to_numpy()
    classes = [int(float(v)) if float(v).is_integer() else v for v in labels]
    print(fmt(classification_metrics(y, P, classes)))


def mlops_metrics():
    doc = json.load(sys.stdin)
    m = doc["metrics"]
    keep = ("accuracy", "logloss", "auc", "f1", "r2", "rmse")
    print(fmt({k: m[k] for k in keep if k in m and m[k] is not None}))


def mlops_drift():
    doc = json.load(sys.stdin)
    flagged = [f["column"] for f in doc["features"] if f.get("drift")]
    print("flagged=" + (",".join(flagged) or "none"))


def compare_scores(a, b):
    worst = 0.0
    n = 0
    with open(a) as fa, open(b) as fb:
        ha, hb = fa.readline(), fb.readline()
        for la, lb in zip(fa, fb):
            pa = float(la.rsplit(",", 1)[1])
            pb = float(lb.rsplit(",", 1)[1])
            worst = max(worst, abs(pa - pb))
            n += 1
        if fa.readline() or fb.readline():
            sys.exit("compare-scores: %s and %s differ in length" % (a, b))
    print("max_abs_diff=%.3g rows=%d" % (worst, n))


# ---- the summary ----

def parse_q(s):
    out = {}
    for tok in s.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def show_quality(q, base):
    """Metrics, with the difference from mlops' where both have one."""
    parts = []
    for k, v in q.items():
        try:
            x = float(v)
        except ValueError:
            parts.append("%s=%s" % (k, v))
            continue
        if k in ("rows", "matrix_mb"):
            continue
        if k == "max_abs_diff":
            parts.append("max|dp|=%.2g" % x)
            continue
        s = "%s=%.6f" % (k, x)
        if base is not None and k in base and k in ("logloss", "r2", "auc"):
            try:
                d = x - float(base[k])
                s += "(%+.1e)" % d
            except ValueError:
                pass
        parts.append(s)
    return " ".join(parts)


def report(path):
    rows = []
    with open(path) as f:
        for line in f:
            f_ = line.rstrip("\n").split("\t")
            if len(f_) < 8:
                continue
            case, data, tool, nrows, wall, rss, quality, note = f_[:8]
            rows.append(dict(case=case, data=data, tool=tool, nrows=int(nrows),
                             wall=float(wall), rss=float(rss) / 1024.0,
                             q=parse_q(quality), note=note))
    base = {}
    for r in rows:
        if r["tool"].startswith("mlops") and (r["case"], r["data"]) not in base:
            base[(r["case"], r["data"])] = r
    hdr = "%-17s %-11s %-18s %8s %8s %7s %7s  %s" % (
        "case", "data", "tool", "wall_s", "peak_MB", "t/mlops", "m/mlops",
        "quality (difference from mlops)")
    print(hdr)
    print("-" * len(hdr))
    last = None
    for r in rows:
        key = (r["case"], r["data"])
        if last is not None and key != last:
            print()
        last = key
        b = base.get(key)
        tr = "%.2fx" % (r["wall"] / b["wall"]) if b and b["wall"] > 0 else "-"
        mr = "%.2fx" % (r["rss"] / b["rss"]) if b and b["rss"] > 0 else "-"
        bq = b["q"] if b is not None and b is not r else None
        q = show_quality(r["q"], bq)
        if r["note"]:
            q = (q + "  [" + r["note"] + "]").strip()
        print("%-17s %-11s %-18s %8.2f %8.1f %7s %7s  %s" % (
            r["case"], r["data"], r["tool"], r["wall"], r["rss"], tr, mr, q))
    print()
    print("t/mlops, m/mlops: the tool's wall time and peak RSS divided by mlops' "
          "(the first mlops row of the case);")
    print("above 1 means mlops is faster / smaller.")
    before_after(rows)
    goals(rows, base)


def before_after(rows):
    """With MLOPS_BASE: each mlops row beside the baseline's ("before")."""
    pairs = []
    for i, r in enumerate(rows):
        if r["tool"] != "before":
            continue
        # the mlops row just before it, of the same case and data
        for m in reversed(rows[:i]):
            if (m["case"], m["data"]) == (r["case"], r["data"]) and \
                    m["tool"].startswith("mlops"):
                pairs.append((m, r))
                break
    if not pairs:
        return
    print()
    print("Before and after (MLOPS_BASE is before; runs taking turns; "
          "now/before below 1 means faster now):")
    hdr = "  %-17s %-11s %-17s %8s %8s %10s %10s  %s" % (
        "case", "data", "tool", "now_s", "before_s", "now/before",
        "RSS n/b", "outputs")
    print(hdr)
    for m, b in pairs:
        tr = "%.3f" % (m["wall"] / b["wall"]) if b["wall"] > 0 else "-"
        mr = "%.3f" % (m["rss"] / b["rss"]) if b["rss"] > 0 else "-"
        print("  %-17s %-11s %-17s %8.3f %8.3f %10s %10s  %s" % (
            m["case"], m["data"], m["tool"], m["wall"], b["wall"], tr, mr,
            b["note"]))
    walls = [m["wall"] / b["wall"] for m, b in pairs if b["wall"] > 0]
    if walls:
        geo = 1.0
        for w in walls:
            geo *= w
        geo **= 1.0 / len(walls)
        same = sum(1 for _, b in pairs if b["note"] == "outputs identical")
        print("  geometric mean of now/before: %.3f over %d cases; outputs "
              "identical in %d of %d" % (geo, len(walls), same, len(pairs)))


def goals(rows, base):
    """The issues' "Must show" figures, measured."""
    def find(case, data, tool):
        for r in rows:
            if r["case"] == case and r["data"] == data and r["tool"] == tool:
                return r
        return None

    lines = []
    datas = []
    for r in rows:
        if r["data"] not in datas:
            datas.append(r["data"])

    def check(label, value, ok, unit="x"):
        lines.append("  %-72s %10s  %s" % (label, ("%.2f" % value) + unit,
                                          "ok" if ok else "MISSED"))

    for d in datas:
        for case, peer, goal in (("train binary", "sklearn", 10),
                                 ("train linear", "sklearn linear", 10),
                                 ("train ridge", "sklearn ridge", 10),
                                 ("score", "sklearn", 25),
                                 ("drift", "scipy", 20)):
            m, p = base.get((case, d)), find(case, d, peer)
            if m and p:
                v = p["wall"] / m["wall"]
                check("%s %s: %s / mlops wall (goal >= %dx)" % (case, d, peer, goal),
                      v, v >= goal)
        m, dl = base.get(("score", d)), find("score", d, "C parse+dot")
        if m and dl:
            v = m["wall"] / dl["wall"]
            check("score %s: mlops / bare C loop wall (goal <= 1.5x)" % d, v, v <= 1.5)
        m = find("train binary", d, "mlops")
        if m and "matrix_mb" in m["q"]:
            v = m["rss"] / float(m["q"]["matrix_mb"])
            check("train binary %s: mlops peak RSS / dense float64 matrix (<= 1.5x)" % d,
                  v, v <= 1.5)
        for case, tool in (("score", "mlops"), ("score big", "mlops"),
                           ("drift", "mlops")):
            m = find(case, d, tool)
            if m:
                check("%s %s: mlops peak RSS (goal < 64 MiB)" % (case, d),
                      m["rss"], m["rss"] < 64, " MiB")
        m = find("drift", d, "mlops")
        if m and "flagged" in m["q"]:
            ok = sorted(m["q"]["flagged"].split(",")) == ["c1", "x1", "x2"]
            lines.append("  %-72s %10s  %s" % (
                "drift %s: mlops flags exactly x1,x2,c1" % d,
                m["q"]["flagged"], "ok" if ok else "MISSED"))
    if lines:
        print()
        print("Goals of issues 3 and 4 (they are stated for 1000000x50; "
              "smaller data only previews them):")
        for line in lines:
            print(line)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "split":
        split(*args)
    elif cmd == "libsvm":
        libsvm(*args)
    elif cmd == "eval-sklearn":
        eval_sklearn(*args)
    elif cmd == "eval-liblinear":
        eval_liblinear(*args)
    elif cmd == "mlops-metrics":
        mlops_metrics()
    elif cmd == "mlops-drift":
        mlops_drift()
    elif cmd == "compare-scores":
        compare_scores(*args)
    elif cmd == "report":
        report(*args)
    else:
        sys.exit("tools.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main()
