#!/usr/bin/python3
"""Generate the scikit-learn parity data for tests/unit/test-train.c.

Writes three small, well-conditioned datasets as CSV (binary, multiclass,
regression; numeric columns with missing values and one categorical column
with missing values, placed mid-table), fits the scikit-learn pipelines
that mlops's training is meant to equal on ALL rows (mlops with holdout 0),
and writes their coefficients, intercepts, preprocessing and in-sample
log loss / R^2 to reference.json.  The C test needs no Python; rerun this
only to change the data:

    /usr/bin/python3 tests/parity/make-reference.py   # Debian python3-sklearn

The pipeline per column, in the CSV's column order (mlops's feature order):
numeric SimpleImputer(mean) + StandardScaler (ddof 0); categorical
SimpleImputer(most_frequent) + OneHotEncoder(handle_unknown='ignore') with
the levels sorted.  Models: LogisticRegression(C=1) (binary), the same
with multi_class='multinomial' (mlops softmax), LinearRegression, and
Ridge(alpha=1).  LinearRegression is fitted twice: on the numeric
columns alone, and on all of them, where the one-hot design is rank-
deficient and the reference is the minimum-norm least-squares solution
(see MinNormLeastSquares for why not sklearn's own).  mlops minimises sum(loss) + |w|^2 / (2 C), which has the
same minimiser as scikit-learn's C * sum(loss) + |w|^2 / 2.
"""

import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240501
REGIONS = ["north", "south", "east", "west"]


def numeric_columns(rng, n, k):
    """k numeric columns with different centres and scales."""
    centre = rng.uniform(-5, 50, k)
    scale = rng.uniform(0.5, 10, k)
    return centre + scale * rng.standard_normal((n, k)), centre, scale


def with_missing(rng, x, rate):
    x = x.copy()
    x[rng.uniform(size=x.shape[0]) < rate] = np.nan
    return x


def make_frame(rng, n, k):
    """Columns x1..xk with 'region' after x2; missing in x2, x4, region."""
    x, centre, scale = numeric_columns(rng, n, k)
    z = (x - centre) / scale
    region = rng.choice(REGIONS, size=n, p=[0.4, 0.3, 0.2, 0.1])
    cols = {}
    for j in range(k):
        v = x[:, j]
        if j in (1, 3):
            v = with_missing(rng, v, 0.05)
        cols["x%d" % (j + 1)] = np.round(v, 4)
        if j == 1:
            r = region.astype(object)
            r[rng.uniform(size=n) < 0.04] = None
            cols["region"] = r
    effect = np.select([region == "north", region == "south",
                        region == "east"], [0.5, -0.3, 0.2], -0.4)
    return pd.DataFrame(cols), z, effect


def write_csv(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, na_rep="", float_format="%.4f",
              lineterminator="\n")
    # Fit on the file as read back, exactly as mlops sees it.
    return pd.read_csv(path, float_precision="round_trip",
                       keep_default_na=False, na_values=[""])


def preprocessor(df, target):
    parts = []
    for c in df.columns:
        if c == target:
            continue
        if df[c].dtype == object:
            parts.append((c, make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore")), [c]))
        else:
            parts.append((c, make_pipeline(
                SimpleImputer(strategy="mean"), StandardScaler()), [c]))
    return ColumnTransformer(parts)


def design_names(ct):
    names = []
    for name, pipe, cols in ct.transformers_:
        if name == "remainder":
            continue
        last = pipe[-1]
        if isinstance(last, OneHotEncoder):
            names += ["%s=%s" % (cols[0], v) for v in last.categories_[0]]
        else:
            names.append(cols[0])
    return names


def preprocessing(ct):
    out = []
    for name, pipe, cols in ct.transformers_:
        if name == "remainder":
            continue
        imp, last = pipe[0], pipe[-1]
        if isinstance(last, OneHotEncoder):
            out.append({"name": cols[0], "type": "categorical",
                        "levels": [str(v) for v in last.categories_[0]],
                        "impute": str(imp.statistics_[0])})
        else:
            out.append({"name": cols[0], "type": "numeric",
                        "impute": float(imp.statistics_[0]),
                        "center": float(last.mean_[0]),
                        "scale": float(last.scale_[0])})
    return out


class MinNormLeastSquares:
    """LinearRegression's intended answer on a rank-deficient design.

    With every one-hot level and an intercept, the centred design has a
    null direction.  LinearRegression solves with scipy's lstsq, whose
    default cutoff (machine epsilon times the largest singular value) sits
    just below the round-off left in that direction, so scikit-learn 1.2
    returns coefficients near 1e13 that cancel -- and a lower in-sample
    R^2 than the least-squares optimum.  This computes the minimum-norm
    least-squares solution of the centred problem with a cutoff of 1e-10,
    which is what mlops documents (and sklearn means).
    """

    def fit(self, X, y):
        xbar, ybar = X.mean(0), y.mean()
        w = np.linalg.lstsq(X - xbar, y - ybar, rcond=1e-10)[0]
        self.coef_, self.intercept_ = w, ybar - xbar @ w
        return self

    def predict(self, X):
        return X @ self.coef_ + self.intercept_


def fit(df, target, model, name, algo, features=None):
    if features:
        df = df[features + [target]]
    ct = preprocessor(df, target)
    X = ct.fit_transform(df)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    y = df[target].to_numpy()
    model.fit(X, y)
    entry = {"data": name, "target": target, "algorithm": algo,
             "solver": type(model).__name__,
             "n_rows": int(len(df)), "design": design_names(ct),
             "preprocessing": preprocessing(ct),
             "coefficients": np.atleast_2d(model.coef_).tolist(),
             "intercepts": np.atleast_1d(model.intercept_).tolist()}
    if features:
        entry["features"] = features
    if algo in ("logistic", "softmax"):
        p = model.predict_proba(X)
        entry["classes"] = [str(c) for c in model.classes_]
        entry["logloss"] = float(log_loss(y, p))
        entry["n_iter"] = int(np.max(model.n_iter_))
        # The reference must sit at the optimum: check the gradient of
        # sum(loss) + |w|^2 / (2 C) (intercept not penalised).
        Y = (y[:, None] == model.classes_[None, :]).astype(float)
        if algo == "logistic":
            Y, p = Y[:, 1:], p[:, 1:]
        W = np.atleast_2d(model.coef_)
        g = np.hstack([(p - Y).T @ X + W / model.C,
                       (p - Y).sum(0)[:, None]])
        entry["max_abs_gradient"] = float(np.abs(g).max())
        assert entry["max_abs_gradient"] < 1e-6 * len(df), entry
    else:
        entry["r2"] = float(r2_score(y, model.predict(X)))
    return entry


def main():
    # newton-cg cannot always make the last line search at tol=1e-10 and
    # says so; the gradient check in fit() is what vouches for the result.
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(SEED)
    ref = {"generator": "tests/parity/make-reference.py",
           "seed": SEED, "sklearn": sklearn.__version__,
           "numpy": np.__version__, "models": []}

    # Binary: 2000 rows, 5 numeric + region.
    df, z, effect = make_frame(rng, 2000, 5)
    logit = 0.2 + z @ np.array([1.0, -0.8, 0.5, 0.0, 0.3]) + effect
    df["y"] = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-logit))
               ).astype(int)
    df = write_csv(df, "binary.csv")
    ref["models"].append(fit(df, "y", LogisticRegression(
        C=1.0, tol=1e-10, max_iter=10000, solver="newton-cg"),
        "binary.csv", "logistic"))

    # Multiclass: 1200 rows, 4 numeric + region, labels as text.
    df, z, effect = make_frame(rng, 1200, 4)
    scores = np.column_stack([
        z @ np.array([1.0, 0.0, -0.5, 0.2]) + effect,
        z @ np.array([-0.5, 0.8, 0.3, 0.0]) - effect,
        z @ np.array([0.0, -0.6, 0.4, -0.3])])
    p = np.exp(scores - scores.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    u = rng.uniform(size=len(df))[:, None]
    cls = (u > np.cumsum(p, 1)).sum(1)
    df["species"] = np.array(["gamma", "alpha", "beta"])[cls]
    df = write_csv(df, "multiclass.csv")
    ref["models"].append(fit(df, "species", LogisticRegression(
        C=1.0, tol=1e-10, max_iter=10000, solver="newton-cg",
        multi_class="multinomial"), "multiclass.csv", "softmax"))

    # Regression: 800 rows, 5 numeric + region; linear and ridge.
    df, z, effect = make_frame(rng, 800, 5)
    df["value"] = np.round(10 + z @ np.array([3.0, -2.0, 0.5, 1.0, 0.0])
                           + 4 * effect + rng.standard_normal(len(df)), 4)
    df = write_csv(df, "regression.csv")
    numeric = ["x1", "x2", "x3", "x4", "x5"]
    ref["models"].append(fit(df, "value", LinearRegression(),
                             "regression.csv", "linear", numeric))
    entry = fit(df, "value", MinNormLeastSquares(), "regression.csv",
                "linear")
    entry["sklearn_r2"] = fit(df, "value", LinearRegression(),
                              "regression.csv", "linear")["r2"]
    assert entry["r2"] >= entry["sklearn_r2"]
    ref["models"].append(entry)
    ref["models"].append(fit(df, "value", Ridge(alpha=1.0),
                             "regression.csv", "ridge"))

    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    for m in ref["models"]:
        print("%-15s %-8s logloss/r2 %s" % (m["data"], m["algorithm"],
              m.get("logloss", m.get("r2"))), file=sys.stderr)


if __name__ == "__main__":
    main()
