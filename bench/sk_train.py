#!/usr/bin/python3
"""scikit-learn's equivalent of `mlops train --holdout 0`, end to end.

    sk_train.py MODEL TRAIN.csv TARGET OUT.pkl [--exclude COLS] [--C C] [--alpha A]

MODEL is logistic, softmax, linear or ridge.  Reads the CSV with
pandas.read_csv, then, column by column: numbers SimpleImputer(mean) +
StandardScaler, strings SimpleImputer(most_frequent) +
OneHotEncoder(handle_unknown="ignore"), and fits LogisticRegression
(lbfgs, C), LinearRegression or Ridge(alpha).  mlops minimises
sum(loss) + |w|^2 / (2 C), sklearn C * sum(loss) + |w|^2 / 2: the same
minimiser.  Saves the fitted pipeline with pickle; bench/tools.py
eval-sklearn scores it on the test file, untimed.
"""
import argparse
import pickle

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ap = argparse.ArgumentParser()
ap.add_argument("model", choices=["logistic", "softmax", "linear", "ridge"])
ap.add_argument("train")
ap.add_argument("target")
ap.add_argument("out")
ap.add_argument("--exclude", default="")
ap.add_argument("--C", type=float, default=1.0)
ap.add_argument("--alpha", type=float, default=1.0)
a = ap.parse_args()

exclude = [c for c in a.exclude.split(",") if c]
df = pd.read_csv(a.train)
X = df.drop(columns=[a.target] + exclude)
y = df[a.target].to_numpy()
del df
strings = [c for c in X.columns if X[c].dtype == object]
numbers = [c for c in X.columns if c not in strings]
prep = ColumnTransformer(
    [("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numbers),
     ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                           OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
      strings)],
    sparse_threshold=0.0)
if a.model == "logistic":
    est = LogisticRegression(solver="lbfgs", C=a.C, max_iter=1000)
elif a.model == "softmax":
    est = LogisticRegression(solver="lbfgs", C=a.C, max_iter=1000,
                             multi_class="multinomial")
elif a.model == "linear":
    est = LinearRegression()
else:
    est = Ridge(alpha=a.alpha)
pipe = make_pipeline(prep, est)
pipe.fit(X, y)
task = "regression" if a.model in ("linear", "ridge") else "classification"
with open(a.out, "wb") as f:
    pickle.dump({"pipeline": pipe, "target": a.target, "exclude": exclude,
                 "task": task}, f)
