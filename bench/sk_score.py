#!/usr/bin/python3
"""scikit-learn's equivalent of `mlops score-batch MODEL -i IN -o OUT --keep id`
for a binary model from sk_train.py: pandas.read_csv, predict_proba,
DataFrame.to_csv of the same columns mlops writes (id, prediction,
proba_0, proba_1).

    sk_score.py MODEL.pkl IN.csv OUT.csv
"""
import pickle
import sys

import pandas as pd

model_path, data, out = sys.argv[1:4]
with open(model_path, "rb") as f:
    m = pickle.load(f)
pipe = m["pipeline"]
df = pd.read_csv(data)
P = pipe.predict_proba(df.drop(columns=[m["target"]] + m["exclude"],
                               errors="ignore"))
res = pd.DataFrame({"id": df["id"]})
res["prediction"] = pipe.classes_[P.argmax(1)]
for j, c in enumerate(pipe.classes_):
    res["proba_%s" % c] = P[:, j]
res.to_csv(out, index=False)
