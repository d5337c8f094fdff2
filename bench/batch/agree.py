"""Do the runtime's part files and the Python peer's file say the same thing per customer?

usage: python bench/batch/agree.py RUNTIME_OUT_DIR PEER.parquet K
Joins both on the id column and prints one JSON line: rows compared, the largest probability
difference, the share of rows whose top-K driver names agree in order, and the largest
contribution difference where they do. A benchmark peer that computes something else is not a
peer, so bench/batch/run.mjs prints this beside the speeds.
"""

from __future__ import annotations

import glob
import json
import sys

import numpy as np
import pyarrow.parquet as pq


def main(runtime_dir: str, peer_file: str, k: int) -> None:
    parts = sorted(glob.glob(f"{runtime_dir}/**/*.parquet", recursive=True))
    ours = pq.ParquetDataset(parts).read().to_pandas()
    peer = pq.read_table(peer_file).to_pandas()
    id_column = ours.columns[0]
    ours[id_column] = ours[id_column].astype(str)
    joined = ours.merge(peer, on=id_column, suffixes=("", "_peer"))
    prob_gap = float(np.max(np.abs(joined["probability"] - joined["probability_peer"])))
    same = np.ones(len(joined), dtype=bool)
    for j in range(1, k + 1):
        same &= (joined[f"driver{j}"] == joined[f"driver{j}_peer"]).to_numpy()
    gaps = [
        np.abs(joined[f"driver{j}Contribution"] - joined[f"driver{j}Contribution_peer"])[same]
        for j in range(1, k + 1)
    ]
    print(
        json.dumps(
            {
                "rowsCompared": len(joined),
                "rowsOnlyOneSide": len(ours) + len(peer) - 2 * len(joined),
                "maxProbabilityDiff": prob_gap,
                "sameDriversShare": float(same.mean()) if len(joined) else 0.0,
                "maxContributionDiff": float(max(g.max() if len(g) else 0.0 for g in gaps)),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
