"""Learning curves of examples/ppo.py runs: episode return against emulated frames, the
mean over seeds as a line and the lowest to highest seed as a band, one colour per backend.

    python examples/plot_curves.py runs/ --game boxing --out docs/learning/boxing.png

Reads ``<runs>/<game>_<backend>_seed<N>/episodes.csv`` (columns frames, return, ...), or
copies of them named ``<runs>/<game>_<backend>_seed<N>.csv`` (as committed in docs/learning).
Each seed's episodes are averaged in windows of ``--window`` frames first, so that seeds
with different episode counts are compared at the same frames. Also prints, per backend,
the mean return of the last window and its spread over seeds.
"""

from __future__ import annotations

import argparse
import csv
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import numpy as np

COLOURS = {"mame": "tab:blue", "ale": "tab:orange"}
LABELS = {"mame": "gym_mame (MAME)", "ale": "ALE"}


def read_runs(runs: Path, game: str) -> dict[str, dict[int, np.ndarray]]:
    """backend -> seed -> array of (frames, return) rows."""
    found: dict[str, dict[int, np.ndarray]] = {}
    for path in sorted(runs.glob(f"{game}_*_seed*")):
        match = re.fullmatch(rf"{re.escape(game)}_(\w+?)_seed(\d+)(\.csv)?", path.name)
        table = path if path.suffix == ".csv" else path / "episodes.csv"
        if not match or not table.is_file():
            continue
        with table.open() as f:
            rows = [(float(r["frames"]), float(r["return"])) for r in csv.DictReader(f)]
        if rows:
            found.setdefault(match[1], {})[int(match[2])] = np.array(rows)
    return found


def windowed(rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean return of the episodes that ended in each window (NaN where none did)."""
    which = np.digitize(rows[:, 0], edges) - 1
    return np.array([rows[which == i, 1].mean() if np.any(which == i) else np.nan
                     for i in range(len(edges) - 1)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", type=Path, help="the --out folder of examples/ppo.py")
    p.add_argument("--game", default="boxing", help="game name in the run folders")
    p.add_argument("--window", type=float, default=100_000, help="frames per averaging window")
    p.add_argument("--out", type=Path, default=Path("learning_curves.png"), help="image file")
    args = p.parse_args()

    runs = read_runs(args.runs, args.game)
    if not runs:
        raise SystemExit(f"no {args.game}_<backend>_seed<N>/episodes.csv under {args.runs}")
    last = max(rows[-1, 0] for seeds in runs.values() for rows in seeds.values())
    edges = np.arange(0, last + args.window, args.window)
    centres = (edges[:-1] + edges[1:]) / 2

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for backend, seeds in sorted(runs.items()):
        curves = np.array([windowed(rows, edges) for rows in seeds.values()])
        with warnings.catch_warnings():  # windows where no seed ended an episode
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
            low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
        colour = COLOURS.get(backend)
        ax.plot(centres, mean, color=colour,
                label=f"{LABELS.get(backend, backend)}, {len(seeds)} seed"
                      + ("s" if len(seeds) > 1 else ""))
        ax.fill_between(centres, low, high, color=colour, alpha=0.2, linewidth=0)
        finals = curves[:, -1]
        print(f"{backend}: seeds {sorted(seeds)}; return over the last {args.window:,.0f} "
              f"frames: mean {np.nanmean(finals):.1f}, seeds {np.round(finals, 1).tolist()}")
    ax.set_xlabel("emulated frames")
    ax.set_ylabel("episode return")
    inputs = "integration variables" if args.game == "pong-ttl" else "RAM observations"
    ax.set_title(f"PPO on {args.game} ({inputs}): mean and range over seeds")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
