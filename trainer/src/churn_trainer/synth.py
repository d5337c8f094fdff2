"""Synthetic churn data sets with signal, for demos and tests that must not need the seed file.

`bank`: the seed file's columns and rough marginals, with a churn mechanism modelled on the
seed's (age, country, activity, product count) and its leaky Complain column. `telecom`: a
differently shaped schema whose labels and categories are Yes/No words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SURNAMES = [
    "Hargrave",
    "Hill",
    "Onio",
    "Boni",
    "Mitchell",
    "Chu",
    "Bartlett",
    "Obinna",
    "He",
    "Bearce",
    "Andrews",
    "Kay",
    "Chin",
    "Scott",
    "Goforth",
    "Romeo",
    "Henderson",
    "Muldrow",
    "Hao",
    "McDonald",
    "Dellucci",
    "Gerasimov",
    "Mosman",
    "Yen",
    "Maclean",
    "Young",
    "Nebechi",
    "McWilliams",
    "Lucciano",
    "Azikiwe",
    "Odinakachukwu",
    "Sanderson",
    "Maggard",
    "Clements",
    "Lombardo",
    "Watson",
    "Lorenzo",
    "Armstrong",
    "Cameron",
    "Hsiung",
    "Tomlinson",
    "Hou",
    "Sun",
    "Lu",
    "Fiore",
    "Kovalyov",
    "Wang",
    "Ho",
    "Ferri",
]
TARGET_RATE = 0.204
SIGNAL = 1.4  # scales the mechanism: ROC-AUC ~0.88 for xgboost, like the seed


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _bank_customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The seed file's customer columns up to EstimatedSalary, with its rough marginals."""
    geography = rng.choice(["France", "Germany", "Spain"], size=n, p=[0.50, 0.25, 0.25])
    gender = rng.choice(["Male", "Female"], size=n, p=[0.545, 0.455])
    age = np.clip(np.round(rng.lognormal(np.log(37.5), 0.26, n)), 18, 92).astype(int)
    credit = np.clip(np.round(rng.normal(650, 96.5, n)), 350, 850).astype(int)
    tenure = rng.integers(0, 11, n)
    has_balance = rng.random(n) < np.where(geography == "Germany", 0.99, 0.52)
    balance = np.where(
        has_balance, np.round(np.clip(rng.normal(119_800, 30_000, n), 3_700, 251_000), 2), 0.0
    )
    return {
        "CreditScore": credit,
        "Geography": geography,
        "Gender": gender,
        "Age": age,
        "Tenure": tenure,
        "Balance": balance,
        "NumOfProducts": rng.choice([1, 2, 3, 4], size=n, p=[0.508, 0.459, 0.027, 0.006]),
        "HasCrCard": (rng.random(n) < 0.705).astype(int),
        "IsActiveMember": (rng.random(n) < 0.515).astype(int),
        "EstimatedSalary": np.round(rng.uniform(11.58, 199_992.48, n), 2),
    }


def _bank_loyalty(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The seed file's last three columns, which follow the target and Complain."""
    return {
        "Satisfaction Score": rng.integers(1, 6, n),
        "Card Type": rng.choice(["SILVER", "GOLD", "PLATINUM", "DIAMOND"], size=n),
        "Point Earned": rng.integers(119, 1001, n),
    }


def _bank_logit(c: dict[str, np.ndarray], satisfaction: np.ndarray) -> np.ndarray:
    """The churn mechanism modelled on the seed's: age, country, activity, product count."""
    age, products = c["Age"], c["NumOfProducts"]
    age_effect = 3.4 * np.exp(-(((age - 54) / 11.0) ** 2)) - 1.0
    product_effect = np.select(
        [products == 1, products == 2, products == 3], [0.0, -1.6, 2.6], default=5.0
    )
    return SIGNAL * (
        age_effect
        + 0.8 * (c["Geography"] == "Germany")
        + 0.5 * (c["Gender"] == "Female")
        + 1.0 * (1 - c["IsActiveMember"])
        + product_effect
        + 0.25 * (c["Balance"] > 0)
        - 0.0012 * (c["CreditScore"] - 650)
        + 0.03 * (satisfaction == 1)
    )


def _intercept(logit: np.ndarray, rate: float) -> float:
    """The intercept giving a mean churn probability of `rate`, by bisection."""
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(logit + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return lo


def synthetic_frame(rows: int, seed: int) -> pd.DataFrame:
    """`rows` synthetic customers with the seed file's 18 columns, deterministic in `seed`."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    rng = np.random.default_rng(seed)
    n = rows
    # the order of the draws is part of the output: a seed must keep giving the same file
    customers = _bank_customers(rng, n)
    loyalty = _bank_loyalty(rng, n)
    logit = _bank_logit(customers, loyalty["Satisfaction Score"])
    exited = (rng.random(n) < _sigmoid(logit + _intercept(logit, TARGET_RATE))).astype(int)
    # the seed's Complain column is a near-copy of the target (a leak the trainer must catch)
    complain = np.where(rng.random(n) < 0.996, exited, 1 - exited)
    return pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "CustomerId": 15_565_701 + rng.permutation(n),
            "Surname": rng.choice(SURNAMES, size=n),
            **customers,
            "Exited": exited,
            "Complain": complain,
            **loyalty,
        }
    )


CONTRACTS = ["Month-to-month", "One year", "Two year"]


def telecom_frame(rows: int, seed: int) -> pd.DataFrame:
    """`rows` synthetic telecom customers, deterministic in `seed`: string ids, a Yes/No target
    (`Churn`), Yes/No categorical and boolean columns (the words YAML 1.1 turns into booleans),
    a third "No phone service" category, missing and blank cells, and a free-text column."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    rng = np.random.default_rng(seed)
    n = rows
    contract = rng.choice(CONTRACTS, n, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.35, 0.45, 0.2])
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n)
    tenure = rng.integers(0, 73, n)
    monthly = np.round(rng.uniform(18, 120, n), 2)
    senior = rng.random(n) < 0.16
    partner = rng.choice(["Yes", "No"], n)
    dependents = np.where(rng.random(n) < np.where(partner == "Yes", 0.5, 0.1), "Yes", "No")
    phone = rng.random(n) < 0.9
    lines = np.where(phone, rng.choice(["Yes", "No"], n), "No phone service")
    paperless = rng.random(n) < 0.6
    logit = (
        -1.2
        + 1.6 * (contract == "Month-to-month")
        - 1.0 * (contract == "Two year")
        + 0.9 * (internet == "Fiber optic")
        + 0.7 * (payment == "Electronic check")
        - 0.045 * tenure
        + 0.5 * senior
        - 0.4 * (dependents == "Yes")
        + 0.3 * paperless
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customerID": [f"{i:04d}-{''.join(rng.choice(list('ABCDEFGH'), 5))}" for i in range(n)],
            "SeniorCitizen": senior.astype(int),
            "Partner": partner,
            "Dependents": dependents,
            "tenure": tenure,
            "PhoneService": np.where(phone, "Yes", "No"),
            "MultipleLines": lines,
            "InternetService": internet,
            "Contract": contract,
            "PaperlessBilling": np.where(paperless, "Yes", "No"),
            "PaymentMethod": payment,
            "MonthlyCharges": monthly,
            "TotalCharges": np.round(monthly * np.maximum(tenure, 1), 2),
            "Notes": "free text the schema drops",
            "Churn": np.where(churn, "Yes", "No"),
        }
    )
    frame = frame.astype(
        {"MonthlyCharges": object, "TotalCharges": object, "InternetService": object}
    )
    frame.loc[rng.random(n) < 0.05, "MonthlyCharges"] = ""
    frame.loc[rng.random(n) < 0.03, "TotalCharges"] = " "
    frame.loc[rng.random(n) < 0.04, "InternetService"] = ""
    return frame


SHAPES = {"bank": (synthetic_frame, ","), "telecom": (telecom_frame, ";")}


def write_synthetic(rows: int, seed: int, output: Path, shape: str = "bank") -> Path:
    """Writes a synthetic CSV of `shape` (bank: comma-separated, the seed file's columns;
    telecom: semicolon-separated) to `output` (parent folders created); returns the path."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    make, sep = SHAPES[shape]
    frame = make(rows, seed)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    frame.to_csv(tmp, index=False, sep=sep)
    tmp.replace(output)
    return output
