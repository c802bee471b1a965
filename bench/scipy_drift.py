#!/usr/bin/python3
"""The usual hand-written drift check, per column, for comparison with
`mlops drift MODEL -i CUR --reference REF`:

    scipy_drift.py REF.csv CUR.csv [--exclude COLS]

Reads both files with pandas.read_csv.  Numeric columns: two-sample
Kolmogorov-Smirnov (scipy.stats.ks_2samp, drift when p < 0.05) and PSI
over the reference deciles (numpy).  String columns: PSI over the level
frequencies (drift when PSI > 0.1; ks_2samp does not apply).  Prints one
line per column and, last, flagged=COLS.
"""
import argparse

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

EPS = 1e-4


def psi(e, a):
    e = np.maximum(e / e.sum(), EPS)
    a = np.maximum(a / a.sum(), EPS)
    return float(np.sum((a - e) * np.log(a / e)))


ap = argparse.ArgumentParser()
ap.add_argument("ref")
ap.add_argument("cur")
ap.add_argument("--exclude", default="id,y")
a = ap.parse_args()
exclude = set(c for c in a.exclude.split(",") if c)
ref = pd.read_csv(a.ref)
cur = pd.read_csv(a.cur)
flagged = []
for c in ref.columns:
    if c in exclude or c not in cur.columns:
        continue
    r, k = ref[c].dropna(), cur[c].dropna()
    if r.dtype == object:
        levels = sorted(set(r.unique()) | set(k.unique()))
        rc = r.value_counts().reindex(levels, fill_value=0).to_numpy(float)
        kc = k.value_counts().reindex(levels, fill_value=0).to_numpy(float)
        p = psi(rc, kc)
        drift = p > 0.1
        print("%-12s categorical psi=%.4f %s" % (c, p, "DRIFT" if drift else "ok"))
    else:
        rv, kv = r.to_numpy(float), k.to_numpy(float)
        stat, pval = ks_2samp(rv, kv)
        edges = np.unique(np.quantile(rv, np.linspace(0.1, 0.9, 9)))
        rb = np.bincount(np.searchsorted(edges, rv, side="right"),
                         minlength=len(edges) + 1)
        kb = np.bincount(np.searchsorted(edges, kv, side="right"),
                         minlength=len(edges) + 1)
        p = psi(rb.astype(float), kb.astype(float))
        drift = pval < 0.05
        print("%-12s numeric ks=%.4f p=%.3g psi=%.4f %s"
              % (c, stat, pval, p, "DRIFT" if drift else "ok"))
    if drift:
        flagged.append(c)
print("flagged=" + (",".join(flagged) or "none"))
