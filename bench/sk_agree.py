#!/usr/bin/python3
"""How closely an mlops model agrees with scikit-learn at the optimum.

    sk_agree.py MODEL TRAIN.csv TEST.csv TARGET MLOPS_SCORES.csv [--exclude COLS]

Fits bench/sk_train.py's pipeline (SimpleImputer + StandardScaler /
OneHotEncoder, LogisticRegression(C=1)) on TRAIN.csv, but solved tightly
(newton-cg, tol 1e-10, as tests/parity does) so that sklearn sits at the
optimum and the figure measures mlops alone; at most 1000 steps, since
newton-cg may keep failing its line search that close to the optimum.  MLOPS_SCORES.csv is `mlops
score-batch MODEL.json -i TEST.csv -o FILE` of a model trained with
`--holdout 0` on TRAIN.csv.  Prints test accuracy and log loss of both,
their differences, and the largest difference between their
probabilities.
"""
import argparse

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ap = argparse.ArgumentParser()
ap.add_argument("model", choices=["logistic", "softmax"])
ap.add_argument("train")
ap.add_argument("test")
ap.add_argument("target")
ap.add_argument("scores")
ap.add_argument("--exclude", default="")
a = ap.parse_args()

exclude = [c for c in a.exclude.split(",") if c]
tr, te = pd.read_csv(a.train), pd.read_csv(a.test)
X, y = tr.drop(columns=[a.target] + exclude), tr[a.target].astype(str)
Xt, yt = te.drop(columns=[a.target] + exclude), te[a.target].astype(str)
strings = [c for c in X.columns if X[c].dtype == object]
numbers = [c for c in X.columns if c not in strings]
prep = ColumnTransformer(
    [("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numbers),
     ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                           OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
      strings)], sparse_threshold=0.0)
est = LogisticRegression(solver="newton-cg", C=1.0, tol=1e-10, max_iter=1000,
                         multi_class="multinomial" if a.model == "softmax" else "auto")
pipe = make_pipeline(prep, est).fit(X, y)
classes = [str(c) for c in pipe.classes_]
p_sk = pipe.predict_proba(Xt)

ml = pd.read_csv(a.scores)
if len(classes) == 2 and "probability" in ml.columns:
    p1 = ml["probability"].to_numpy()
    p_ml = np.column_stack([1 - p1, p1])
else:
    p_ml = ml[["proba_" + c for c in classes]].to_numpy()
acc_sk = accuracy_score(yt, np.array(classes)[p_sk.argmax(1)])
acc_ml = accuracy_score(yt, np.array(classes)[p_ml.argmax(1)])
ll_sk = log_loss(yt, p_sk, labels=classes)
ll_ml = log_loss(yt, p_ml, labels=classes)
print("sklearn (tol 1e-10): accuracy %.6f  logloss %.8f  (%d iterations)"
      % (acc_sk, ll_sk, int(np.max(est.n_iter_))))
print("mlops:               accuracy %.6f  logloss %.8f" % (acc_ml, ll_ml))
print("difference:          accuracy %.2g  logloss %.2g  max |p| %.2g"
      % (acc_ml - acc_sk, ll_ml - ll_sk, np.abs(p_ml - p_sk).max()))
