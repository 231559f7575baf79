#!/usr/bin/env python3
"""Retrain the model the notebooks load, with the project's default recipe, and save it.

    python3 tasks.py checkpoint        (writes notebooks/checkpoints/velocity_mlp.pt)
"""

from pathlib import Path

import fmhelpers as fm

ROOT = Path(__file__).resolve().parents[1]

PATH = ROOT / "notebooks" / "checkpoints" / "velocity_mlp.pt"
SNAPSHOT_EVERY = 1000

if __name__ == "__main__":
    ckpt = fm.load_or_train(PATH, retrain=True, snapshot_every=SNAPSHOT_EVERY)
    print(f"saved {PATH.relative_to(ROOT)}: {ckpt.recipe}, trained in {ckpt.meta['seconds']:.1f} s")
