"""End to end: GP, Metis, SMAC, DNGO, RegularizedEvolutionTuner and PBT from a YAML config.

Real manager, real trial processes. PBT's trials write and read checkpoints in the directories the
tuner hands them, across generations, and the population survives a stop and a resume.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .conftest import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SUM_TRIAL = textwrap.dedent('''
    import nni
    params = nni.get_next_parameter()
    def number(value):
        if isinstance(value, dict):  # NAS decision: {"_value": ..., "_idx": ...}
            idx = value["_idx"]
            return sum(idx) if isinstance(idx, list) else idx
        return float(value)
    nni.report_final_result(sum(number(v) for v in params.values()))
''')

PBT_TRIAL = textwrap.dedent('''
    import json, os, time
    import nni
    params = nni.get_next_parameter()
    load = os.path.join(params["load_checkpoint_dir"], "ckpt.json")
    step, lineage = 0, []
    if os.path.exists(load):
        with open(load) as f:
            state = json.load(f)
        step, lineage = state["step"], state["lineage"]
    time.sleep(float(os.environ.get("PBT_TRIAL_SLEEP", "0")))
    step += 1
    lineage = lineage + [params["save_checkpoint_dir"]]
    os.makedirs(params["save_checkpoint_dir"], exist_ok=True)
    with open(os.path.join(params["save_checkpoint_dir"], "ckpt.json"), "w") as f:
        json.dump({"step": step, "lineage": lineage}, f)
    with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "pbt.json"), "w") as f:
        json.dump({"loaded_step": step - 1, "save": params["save_checkpoint_dir"], "load": params["load_checkpoint_dir"]}, f)
    nni.report_final_result(step + params["lr"])
''')

BO_SPACE = {
    "c": {"_type": "choice", "_value": [1, 2, 4]},
    "r": {"_type": "randint", "_value": [0, 5]},
    "u": {"_type": "uniform", "_value": [0, 1]},
    "q": {"_type": "quniform", "_value": [0, 10, 2]},
}
NAS_SPACE = {
    "conv": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]},
    "skip": {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c"], "n_chosen": 2}},
}

TUNERS = {
    "GP": ({"optimize_mode": "maximize", "cold_start_num": 3, "selection_num_warm_up": 1000,
            "selection_num_starting_points": 10}, BO_SPACE),
    "Metis": ({"optimize_mode": "maximize", "cold_start_num": 3, "selection_num_starting_points": 10}, BO_SPACE),
    "SMAC": ({"optimize_mode": "maximize"}, BO_SPACE),
    "DNGO": ({"optimize_mode": "maximize", "sample_size": 200, "trials_per_update": 3,
              "num_epochs_per_training": 50}, BO_SPACE),
    "RegularizedEvolutionTuner": ({"optimize_mode": "maximize", "population_size": 3, "sample_size": 2}, NAS_SPACE),
}  # fmt: skip


def _write_yaml(tmp_path: Path, workdir: Path, tuner: str, class_args: dict[str, Any], space: dict[str, Any],
                trial: str, trials: int, concurrency: int) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "trial.py").write_text(trial)
    (tmp_path / "space.json").write_text(json.dumps(space))
    config = {
        "searchSpaceFile": "space.json",
        "trialCommand": f"{sys.executable} trial.py",
        "trialCodeDirectory": str(code),
        "trialConcurrency": concurrency,
        "maxTrialNumber": trials,
        "experimentWorkingDirectory": str(workdir),
        "tuner": {"name": tuner, "classArgs": class_args},
        "trainingService": {"platform": "local"},
    }
    path = tmp_path / "config.yml"
    import yaml

    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("tuner", list(TUNERS))
def test_model_tuner_experiment_runs_to_done(tuner: str, tmp_path: Path, workdir: Path) -> None:
    from nni.experiment import Experiment
    from nni.experiment.config import ExperimentConfig

    class_args, space = TUNERS[tuner]
    path = _write_yaml(tmp_path, workdir, tuner, class_args, space, SUM_TRIAL, trials=6, concurrency=2)
    experiment = Experiment(ExperimentConfig.load(path))
    try:
        assert experiment.run(free_port()) is True
        assert experiment.get_status() == "DONE"
        trials = experiment.list_trial_jobs()
        assert len(trials) == 6 and {t.status for t in trials} == {"SUCCEEDED"}
        results = experiment.export_data()
        keys = {json.dumps(r.parameter, sort_keys=True) for r in results}
        assert len(keys) == 6  # no configuration ran twice
        for result in results:
            assert set(result.parameter) == set(space)
    finally:
        experiment.stop()


def test_unsupported_space_fails_before_anything_starts(tmp_path: Path, workdir: Path) -> None:
    from nni.experiment.config import ExperimentConfig

    space = {"x": {"_type": "normal", "_value": [0, 1]}}
    path = _write_yaml(tmp_path, workdir, "GP", {}, space, SUM_TRIAL, trials=2, concurrency=1)
    with pytest.raises(ValueError, match='x: type "normal" is not supported by GP'):
        ExperimentConfig.load(path).validate()
    assert not any(workdir.iterdir())


def _pbt_records(experiment: Any) -> list[dict[str, Any]]:
    records = []
    for trial in experiment.list_trial_jobs():
        if trial.status != "SUCCEEDED":
            continue
        out = Path(trial.logPath.replace("file://localhost:", "")) if trial.logPath else None
        assert out is not None
        data = json.loads((out / "pbt.json").read_text())
        save = Path(data["save"])
        data["member"], data["generation"] = int(save.parent.name), int(save.name)
        records.append(data)
    return records


def test_pbt_trains_across_generations_and_resumes(tmp_path: Path, workdir: Path, monkeypatch) -> None:
    from nni.experiment import Experiment, RunMode
    from nni.experiment.config import ExperimentConfig

    checkpoints = tmp_path / "checkpoints"
    class_args = {"optimize_mode": "maximize", "population_size": 3, "fraction": 0.34,
                  "all_checkpoint_dir": str(checkpoints), "seed": 0}
    space = {"lr": {"_type": "uniform", "_value": [0, 0.5]}, "bs": {"_type": "choice", "_value": [16, 32]}}
    path = _write_yaml(tmp_path, workdir, "PBT", class_args, space, PBT_TRIAL, trials=9, concurrency=2)
    monkeypatch.setenv("PBT_TRIAL_SLEEP", "0.7")  # slow enough to stop in the middle of generation 1

    experiment = Experiment(ExperimentConfig.load(path))
    experiment.start(free_port(), run_mode=RunMode.Detach)
    try:
        wait_for(lambda: sum(t.status == "SUCCEEDED" for t in experiment.list_trial_jobs()) >= 4, timeout=60)
    finally:
        experiment.stop()
    before = _pbt_records(experiment)
    assert 4 <= len(before) < 9

    resumed = Experiment(None, id=experiment.id)
    resumed.load_checkpoint()
    resumed._action = "resume"
    monkeypatch.setenv("PBT_TRIAL_SLEEP", "0")
    resumed.start(free_port(), run_mode=RunMode.Detach)
    try:
        assert wait_for(lambda: resumed.get_status() == "DONE", timeout=90)
        records = _pbt_records(resumed)
    finally:
        resumed.stop()

    pairs = [(r["member"], r["generation"]) for r in records]
    assert len(pairs) == len(set(pairs)), pairs  # no member ran a generation twice
    assert sorted(pairs) == [(m, g) for m in range(3) for g in range(3)]  # 3 full generations
    saves = {r["save"] for r in records}
    for record in records:
        # every trial loaded the checkpoint of the generation before (its own member's or a better one's)
        assert record["loaded_step"] == record["generation"]
        if record["generation"] > 0:
            assert record["load"] in saves
            assert Path(record["load"]).name == str(record["generation"] - 1)
        assert Path(record["save"]).parent.parent == checkpoints


MO_TRIAL = textwrap.dedent('''
    import math
    import nni
    p = nni.get_next_parameter()
    g = 1 + 9 * p["y"]
    err, size = p["x"], g * (1 - math.sqrt(p["x"] / g))
    nni.report_final_result({"default": err, "err": err, "size": size})
''')


def test_multi_objective_tpe_keeps_the_pareto_front(tmp_path: Path, workdir: Path, nni_home: Path) -> None:
    import os
    import subprocess

    from nni.common.objectives import pareto_front
    from nni.experiment import Experiment, rest
    from nni.experiment.config import ExperimentConfig

    space = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
    class_args = {"optimize_mode": {"err": "minimize", "size": "minimize"}, "seed": 0,
                  "tpe_args": {"n_startup_jobs": 4}}
    path = _write_yaml(tmp_path, workdir, "TPE", class_args, space, MO_TRIAL, trials=10, concurrency=2)
    experiment = Experiment(ExperimentConfig.load(path))
    port = free_port()
    try:
        assert experiment.run(port) is True
        results = experiment.export_data()
        expected = pareto_front([(r.trialJobId, (r.value["err"], r.value["size"])) for r in results])
        front = rest.get(port, "/pareto-front")
        assert front["objectives"] == [{"name": "err", "mode": "minimize"}, {"name": "size", "mode": "minimize"}]
        assert sorted(t["trialJobId"] for t in front["trials"]) == sorted(expected)
        assert 1 <= len(expected) < 10
        assert experiment.get_pareto_front() == front
    finally:
        experiment.stop()
    # a stopped experiment's front: read from its database
    assert sorted(t["trialJobId"] for t in experiment.get_pareto_front()["trials"]) == sorted(expected)
    # the same front from the stopped experiment's database, through nnictl
    done = subprocess.run([sys.executable, "-m", "nni.tools.nnictl", "experiment", "pareto", experiment.id, "--json"],
                          capture_output=True, text=True, env={**os.environ, "NNI_HOME_DIR": str(nni_home)})
    assert done.returncode == 0, done.stderr
    assert sorted(t["trialJobId"] for t in json.loads(done.stdout)["trials"]) == sorted(expected)
