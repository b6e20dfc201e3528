"""Load the M4 competition's CSV files (one row per series, padded with empty cells)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "m4"

#: frequency -> (horizon, seasonality) as the M4 competition defines them
SPECS = {"Hourly": (48, 24)}


def load(frequency: str = "Hourly", data_dir: Path | None = None):
    """Return ``(ids, train, test)``: series ids and two lists of 1-D float arrays."""
    data_dir = Path(data_dir) if data_dir else DATA_DIR
    ids, train = _read(data_dir / f"{frequency}-train.csv")
    test_ids, test = _read(data_dir / f"{frequency}-test.csv")
    if ids != test_ids:
        raise ValueError("train and test files list different series")
    return ids, train, test


def _read(path: Path) -> tuple[list[str], list[np.ndarray]]:
    ids, values = [], []
    with open(path) as fh:
        next(fh)  # header: "V1","V2",...
        for line in fh:
            cells = line.rstrip("\n").split(",")
            ids.append(cells[0].strip('"'))
            row = [float(c.strip('"')) for c in cells[1:] if c.strip('"') not in ("", "NA")]
            values.append(np.asarray(row, dtype=float))
    return ids, values
