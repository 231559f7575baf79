"""The benchmark's tiny setting runs, so the script cannot silently rot."""

import importlib
import json

import numpy as np
import pytest


def _load(name: str):
    """A benchmark, `benchmarks.NAME`, the module `python3 tasks.py bench NAME` runs (the repository's root is on
    the tests' path: pyproject.toml's pythonpath)."""
    return importlib.import_module(f"benchmarks.{name}")


benchmark = _load("benchmark")


@pytest.mark.slow
def test_smoke_run_prints_a_table_and_writes_json(tmp_path, capsys):
    out = benchmark.main(["--smoke", "--no-notebooks", "--out", str(tmp_path / "r.json")])
    printed = capsys.readouterr().out
    assert "| write-up recipe (baseline) |" in printed and "| default recipe |" in printed
    assert "time ratio default / baseline" in printed
    stored = json.loads((tmp_path / "r.json").read_text())
    assert stored["smoke"] is True and set(stored["rows"]) == set(out["rows"])
    for row in stored["rows"].values():
        assert 0 <= row["in_support"] <= 1 and row["sliced_w2"] >= 0 and 0 <= row["hist_tv"] <= 1
    assert stored["rows"]["exact marginal field (limit)"]["in_support"] > 0.95
    assert stored["speed"]["slider"]["median_ms"] > 0
    # a smoke run is far from the goal, and the table says so
    assert "**not met**" in printed
    # --report-only measures nothing and prints the same table from the JSON
    benchmark.main(["--report-only", "--out", str(tmp_path / "r.json")])
    assert capsys.readouterr().out.strip() == benchmark.table(stored)


def test_the_baseline_sampler_is_the_checkerboard():
    x = benchmark.numpy_checkerboard(np.random.default_rng(0), 5000)
    cell = np.floor(x + 2).astype(int)
    assert x.dtype == np.float32 and x.shape == (5000, 2)
    assert ((cell.sum(1) % 2) == 1).all() and np.abs(x).max() <= 2


@pytest.mark.slow
def test_likelihood_smoke_run_prints_its_tables(tmp_path, capsys):
    module = _load("likelihood")
    out = module.main(["--smoke", "--out", str(tmp_path / "l.json")])
    printed = capsys.readouterr().out
    assert "| 0.9 | rk4 |" in printed and "| default recipe | 4 |" in printed and "goal" in printed
    rk4 = [r["mae"] for r in out["validation"] if r["solver"] == "rk4" and r["t"] == 0.5]
    assert rk4[1] < rk4[0]  # more steps, less error
    assert all(r["kl"] > 0 and r["se"] > 0 for r in out["kl"])
    assert "| learned | 2 | diffusion's g(t), last step noise-free |" in printed and "noise floor" in printed
    assert {r["sampler"] for r in out["sde"]["rows"]} == set(module.SAMPLERS)
    assert all(len(r["board"]) == 2 and 0 <= min(r["edge"]) <= max(r["edge"]) <= 1 for r in out["sde"]["rows"])


@pytest.mark.slow
def test_straight_smoke_run_prints_its_table(tmp_path, capsys):
    module = _load("straight")
    out = module.main(["--smoke", "--out", str(tmp_path / "s.json")])
    printed = capsys.readouterr().out
    methods = [r["method"] for r in out["rows"]]
    assert methods[0] == "exact field, independent coupling" and "reflow (fm.REFLOW_RECIPE)" in methods
    assert "| minibatch OT (blocks of 128) |" in printed and "goal" in printed
    assert out["rows"][0]["scores"]["1"]["in_support"] == 0.0  # one step of the exact field: all on the mean (JSON keys)
    assert all(r["straightness"] >= 0 for r in out["rows"])
    assert out["assignment"]["blocks of 128"]["cost"] < out["assignment"]["independent"]["cost"]
    module.main(["--table", "--out", str(tmp_path / "s.json")])
    assert "| reflow, second round |" in capsys.readouterr().out


@pytest.mark.slow
def test_meanflow_smoke_run_prints_its_table(tmp_path, capsys):
    module = _load("meanflow")
    out = module.main(["--smoke", "--out", str(tmp_path / "m.json")])
    printed = capsys.readouterr().out
    assert "| mean flow (fm.MEANFLOW_RECIPE) |" in printed and "**not met**" in printed
    assert set(out["rows"]["default model, Euler"]["scores"]) == {"1", "2", "4"}
    assert out["ratio"] > 0
    assert "ceiling check: the independent recipe with the exact v* as v" in out["rows"]
    assert "mean flow, independent pairs (fm.INDEPENDENT_MEANFLOW_RECIPE)" in out["rows"]
    assert out["recipe"]["coupling"] == "ot"
    direct = [name for name in out["rows"] if name.startswith("diagnostic:")]
    assert len(direct) == 1 and set(out["rows"][direct[0]]["scores"]) == {"1"}  # trained for (0, 1) only
    assert "| - | - |" in printed
    module.main(["--table", "--out", str(tmp_path / "m.json")])
    assert "| reflow (notebook 07 checkpoint), Euler |" in capsys.readouterr().out


@pytest.mark.slow
def test_digits_smoke_run_prints_its_table(tmp_path, capsys):
    module = _load("digits")
    out = module.main(["--smoke", "--out", str(tmp_path / "d.json")])
    printed = capsys.readouterr().out
    assert "| judged as their label, w = 1 |" in printed and "| guidance w |" in printed
    assert out["ratio"] > 0 and out["megabytes"] < 5 and len(out["seeds"]) == 2
    for row in out["seeds"].values():
        assert 0 <= row["accuracy"] <= 1 and row["frechet"] > 0 and row["frechet_real"] > 0
        assert row["nearest_exact_max"] < 1e-6 < row["nearest_held_out"]  # the exact field lands on training digits
    assert set(out["guidance"]) == {"0.0", "1.0", "2.0", "3.0"} and out["notebook_seconds"] is None
    module.main(["--table", "--out", str(tmp_path / "d.json")])
    assert capsys.readouterr().out.strip() == module.table(out)


def test_exercises_smoke_run_times_a_check_and_the_homework_runs(capsys):
    module = _load("exercises")
    assert module.main(["--smoke", "--only", "check_is_black"]) == 0
    printed = capsys.readouterr().out
    assert "| 01.1 | `check_is_black` |" in printed and "| yes |" in printed
    assert "04.1: section 3's loop regressing on x_1, 20 iterations" in printed
    assert "time_sampling='late'" in printed


def test_guidance_smoke_run_prints_its_table(tmp_path, capsys):
    module = _load("guidance")
    out = module.main(["--smoke", "--out", str(tmp_path / "g.json")])
    printed = capsys.readouterr().out
    assert "| 2 | exact (midpoint, 4 steps) |" in printed and "| 4 | learned (Euler, T = 5) |" in printed
    assert set(out["learned"]) == set(out["exact"]) == {"0.0", "0.5", "1.0", "2.0", "4.0"}
    assert all(e < 1e-6 for e in out["identity"].values())  # the identity is exact, even on the smoke grid
    assert out["exact"]["1.0"]["own_cell"] > 0.9 and out["ratio"] > 0
    assert "**not met**" in printed  # 10 training steps are far from the goals
    module.main(["--table", "--out", str(tmp_path / "g.json")])
    assert capsys.readouterr().out.strip() == module.table(out)


@pytest.mark.slow
def test_diffusion_smoke_run_prints_its_table(tmp_path, capsys):
    module = _load("diffusion")
    out = module.main(["--smoke", "--out", str(tmp_path / "f.json")])
    printed = capsys.readouterr().out
    assert set(out["runs"]) == {f"{p}/{path}" for path in ("linear", "trig") for p in ("velocity", "noise", "data", "score")}
    assert out["runs"]["velocity/linear"]["ratio"] == 1.0 and set(out["exact"]) == {"linear", "trig"}
    assert out["goals"]["conversions"] and out["goals"]["ddim"]  # the identities hold whatever the training
    assert "| noise/linear | clamp t_eps = 0.001 |" in printed and "**not met**" in printed  # 30 steps are far from 0.97
    module.main(["--table", "--out", str(tmp_path / "f.json")])


def test_discrete_smoke_run_prints_its_tables(tmp_path, capsys):
    module = _load("discrete")
    out = module.main(["--smoke", "--out", str(tmp_path / "d.json")])
    printed = capsys.readouterr().out
    assert "| T | source |" in printed and "| likelihood (nats) | value |" in printed
    assert out["goals"]["exactness"] and out["goals"]["control"]  # exact even on the smoke settings
    assert set(out["learned"]) == set(out["exact"]) == {"mask", "uniform"} and out["notebook_seconds"] is None
    assert abs(out["elbo"]["exact"] - out["entropy"]) < 1e-9 and out["exact"]["mask"]["1"]["law_tv"] > 0.49
    assert "**not met**" in printed  # 30 training steps are far from the goals
    module.main(["--table", "--out", str(tmp_path / "d.json")])
    assert capsys.readouterr().out.strip() == module.table(out)
