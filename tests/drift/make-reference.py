#!/usr/bin/python3
"""SciPy's drift statistics for tests/cli/t4100-drift-scipy.sh.

For each case of make-data.sh, per numeric column: scipy.stats.ks_2samp
(method 'auto') D and p-value, and scipy.stats.wasserstein_distance over
the reference's standard deviation (ddof 0, floored at 0.001, as
Evidently); for c1, scipy.stats.chi2_contingency(correction=False) on the
two count vectors.  Writes tests/drift/reference.txt, one line per value:

    CASE COLUMN STATISTIC VALUE

Regenerate (Debian 12: python3-scipy python3-pandas; use the system
Python) from the source tree, with a built gen-data:

    /usr/bin/python3 tests/drift/make-reference.py BUILD/examples/gen-data

A second argument writes elsewhere (the CLI test does, to check the
committed file against SciPy where it is installed).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["small", "shifted", "large", "bigcur"]


def main():
    gen = os.path.abspath(sys.argv[1])
    lines = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["sh", os.path.join(HERE, "make-data.sh"), gen,
                            case], cwd=tmp, check=True)
            ref = pd.read_csv(os.path.join(tmp, "ref.csv"))
            cur = pd.read_csv(os.path.join(tmp, "cur.csv"))
        for col in ["x1", "x2", "k1", "k2"]:
            r = ref[col].dropna().to_numpy(float)
            c = cur[col].dropna().to_numpy(float)
            ks = stats.ks_2samp(r, c)
            w = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
            lines.append(f"{case} {col} ks {ks.statistic!r}")
            lines.append(f"{case} {col} ks_p {ks.pvalue!r}")
            lines.append(f"{case} {col} wasserstein {w!r}")
        levels = sorted(set(ref["c1"].dropna()) | set(cur["c1"].dropna()))
        table = [[int((ref["c1"] == v).sum()) for v in levels],
                 [int((cur["c1"] == v).sum()) for v in levels]]
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        lines.append(f"{case} c1 chi2 {chi2!r}")
        lines.append(f"{case} c1 chi2_p {p!r}")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE,
                                                              "reference.txt")
    with open(out, "w") as f:
        f.write("# scipy %s, numpy %s: see make-reference.py\n"
                % (stats.__name__ and __import__("scipy").__version__,
                   np.__version__))
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
