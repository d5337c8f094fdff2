"""Bagged fold models (`model.search.refit: bagFolds`): the search's k cross-validation models
for the best candidate, averaged in the margin.

The average of k tree ensembles' margins is itself one tree ensemble (export.py bagged_trees),
so the served graph keeps its single TreeEnsemble, TreeSHAP stays exact, and calibration and
the parity gate apply unchanged. `Bag` is the xgboost side of that graph: the same predictions
as the graph's trees, for the parity check, the calibration fit and reference.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb


@dataclass
class Bag:
    """k boosters whose margins (and SHAP contributions) are averaged."""

    boosters: list[xgb.Booster]

    def predict(
        self, dm: xgb.DMatrix, output_margin: bool = False, pred_contribs: bool = False
    ) -> np.ndarray:
        """Booster.predict's margin, contributions or probability, of the average."""
        outs = [
            b.predict(dm, output_margin=not pred_contribs, pred_contribs=pred_contribs)
            for b in self.boosters
        ]
        mean = np.mean(np.asarray(outs, dtype=np.float64), axis=0)
        if output_margin or pred_contribs:
            return mean
        return 1.0 / (1.0 + np.exp(-mean))

    def num_boosted_rounds(self) -> int:
        """Trees in the averaged ensemble."""
        return sum(b.num_boosted_rounds() for b in self.boosters)
