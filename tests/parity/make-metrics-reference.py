#!/usr/bin/python3
"""Reference values of sklearn.metrics for tests/unit/test-metrics.c.

Writes tests/parity/metrics.json: a few labelled sets of predicted
probabilities (fixed seed) and what scikit-learn computes on them, so the
C test compares mlops's metrics.c with sklearn without Python:

    /usr/bin/python3 tests/parity/make-metrics-reference.py   # Debian python3-sklearn

The cases:

- "planets": like seaborn's planets table, target `method`, 10 classes
  the model knows, two of them absent from the true labels: one the
  model still predicts for a few rows (it counts in the macro averages,
  with precision 0), one it never predicts (it does not count).  Macro
  precision, recall and F1 average over the labels present in y_true or
  y_pred (sklearn's labels=None); ROC AUC one-vs-rest is undefined
  (roc_auc_score raises), which mlops reports as null with the class.
- "planets-present": the same rows scored by a model knowing only the
  eight present classes: every metric defined, AUC one-vs-rest macro.
- "binary-one-class": binary, every true label positive: AUC undefined.

Each case holds the classes, the true class of each row (an index), the
probability rows, and the sklearn values (null where sklearn raises, with
its message).
"""

import json
import os
import re
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261203

PLANETS = ["Astrometry", "Eclipse Timing Variations", "Imaging",
           "Microlensing", "Orbital Brightness Modulation", "Pulsar Timing",
           "Pulsation Timing Variations", "Radial Velocity", "Transit",
           "Transit Timing Variations"]
# Shares of the true labels (planets' own, roughly); Astrometry and
# Pulsation Timing Variations are absent.
SHARES = {"Eclipse Timing Variations": 9, "Imaging": 38, "Microlensing": 23,
          "Orbital Brightness Modulation": 3, "Pulsar Timing": 5,
          "Radial Velocity": 553, "Transit": 397,
          "Transit Timing Variations": 4}


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def metrics(classes, y, prob, binary=False):
    """sklearn's numbers on y (indices) and prob (n x K, or n for binary)."""
    labels = np.arange(len(classes))
    if binary:
        pred = (prob > 0.5).astype(int)
        kw = {"average": "binary", "zero_division": 0}
        proba2 = np.column_stack([1 - prob, prob])
    else:
        pred = prob.argmax(1)
        kw = {"average": "macro", "zero_division": 0}
        proba2 = prob
    out = {"accuracy": accuracy_score(y, pred),
           "precision": precision_score(y, pred, **kw),
           "recall": recall_score(y, pred, **kw),
           "f1": f1_score(y, pred, **kw),
           "logloss": log_loss(y, proba2, labels=labels)}
    try:
        if binary:
            out["auc"] = roc_auc_score(y, prob)
        else:
            out["auc"] = roc_auc_score(y, prob, multi_class="ovr",
                                       average="macro", labels=labels)
    except ValueError as e:
        out["auc"] = None
        out["auc_error"] = str(e)
    return {k: (float(v) if isinstance(v, (float, np.floating)) else v)
            for k, v in out.items()}


def case(name, classes, y, prob, binary=False):
    return {"name": name, "task": "binary" if binary else "multiclass",
            "classes": classes, "y": [int(v) for v in y],
            "prob": prob.tolist(),
            "sklearn": metrics(classes, y, prob, binary)}


def main():
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(SEED)
    present = list(SHARES)
    share = np.array([SHARES[c] for c in present], float)
    n = 400
    y_names = rng.choice(present, size=n, p=share / share.sum())
    y = np.array([PLANETS.index(c) for c in y_names])

    # Scores with signal for the true class, noise, and a pull towards
    # Astrometry on a few rows, so that it is predicted though absent.
    z = rng.normal(0, 1.0, (n, len(PLANETS)))
    z[np.arange(n), y] += 1.6
    z[:, PLANETS.index("Radial Velocity")] += 0.8
    z[:, PLANETS.index("Pulsation Timing Variations")] -= 6
    pull = rng.choice(n, 6, replace=False)
    z[pull, PLANETS.index("Astrometry")] += 5
    # Six decimals keep the file small; both sides read the same values.
    prob = np.round(softmax(z), 6)
    cases = [case("planets", PLANETS, y, prob)]

    keep = [PLANETS.index(c) for c in PLANETS if c in SHARES]
    prob8 = np.round(softmax(z[:, keep]), 6)
    y8 = np.array([keep.index(v) for v in y])
    cases.append(case("planets-present", [PLANETS[k] for k in keep], y8,
                      prob8))

    p = np.round(1 / (1 + np.exp(-rng.normal(0.5, 1.5, 50))), 6)
    cases.append(case("binary-one-class", ["no", "yes"], np.ones(50, int),
                      p, binary=True))

    ref = {"generator": "tests/parity/make-metrics-reference.py",
           "seed": SEED, "sklearn": sklearn.__version__,
           "numpy": np.__version__, "cases": cases}
    # One line per innermost list of numbers (a probability row, the
    # labels): the file stays readable and short.
    text = re.sub(r"\[([^\[\]{}\"]*)\]",
                  lambda m: "[" + " ".join(m.group(1).split()) + "]",
                  json.dumps(ref, indent=1))
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        f.write(text + "\n")
    for c in cases:
        print(c["name"], c["sklearn"])
    pred = prob.argmax(1)
    for k in (0, 6):
        print("%s: %d true, %d predicted" % (PLANETS[k], (y == k).sum(),
                                            (pred == k).sum()))


if __name__ == "__main__":
    main()
