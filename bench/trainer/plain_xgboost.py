"""The floor: only the seed demo's steps in plain pandas + xgboost (no validation, no export).

Read the CSV, drop the same columns, one-hot Geography/Gender, map Card Type, the same
stratified 10% test split and validation fold, fit the same hyperparameters, score the test set.
"""

from __future__ import annotations

import sys

import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

CARD = {"SILVER": 0, "GOLD": 1, "PLATINUM": 2, "DIAMOND": 3}


def main(path: str) -> None:
    df = pd.read_csv(path)
    y = (df.pop("Exited") == 1).astype(int)
    x = df.drop(columns=["RowNumber", "CustomerId", "Surname", "Complain"])
    x = pd.get_dummies(x, columns=["Geography", "Gender"], dtype=float)
    x["Card Type"] = x["Card Type"].map(CARD)
    x = x.astype("float32")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.1, random_state=42, stratify=y
    )
    x_train, _, y_train, _ = train_test_split(
        x_rest, y_rest, test_size=0.1, random_state=42, stratify=y_rest
    )
    model = xgb.XGBClassifier(
        n_estimators=300,
        max_depth=3,
        learning_rate=0.05,
        min_child_weight=5,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        scale_pos_weight=(y_train == 0).sum() / (y_train == 1).sum(),
        random_state=42,
    )
    model.fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"plain ROC-AUC {auc:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
