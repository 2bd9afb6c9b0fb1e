"""The notebook author's short calls (issue 8, acceptance 1; ccdistill/workflow/): the five tasks
each take at most three library calls after the imports, through the public API only, under the
ci profile in a temporary folder. Each task's calls are numbered in a comment so they can be
counted; the rest of each test only checks what they returned."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ccdistill.config import load_config
from ccdistill.models import CCDistillModel
from ccdistill.workflow import (
    LiveLossCurves, config_from_run, embedding_view, evaluate_run, paper_recipe, plot_loss_curves,
    prediction_browser, read_log, toy_cosine_maps, toy_features, toy_style, train_or_load,
)

TOY_SIZE = (128, 256)


@pytest.fixture(scope="module")
def toycity_root(tmp_path_factory):
    from ccdistill.toycity import generate_toycity

    root = tmp_path_factory.mktemp("toycity")
    generate_toycity(root, size=TOY_SIZE, seed=0, n_train=8, n_val=4, n_test=4, progress=False)
    return root


def ci_config(root, output, *overrides):
    return load_config("toycity", ["profile=ci", f"data.root={root}", f"output={output}", *overrides])


@pytest.fixture(scope="module")
def runs(toycity_root, tmp_path_factory):
    """A finished ci run of full and of source_only (about 2 s each)."""
    folder = tmp_path_factory.mktemp("runs")
    return {variant: train_or_load(ci_config(toycity_root, folder / variant, f"variant={variant}"), live=False)
            for variant in ("source_only", "full")}


# ---------------------------------------------------------------------------------- the five tasks


def test_task_pair_features_in_three_calls():
    model = CCDistillModel.from_config(load_config("toycity", ["profile=ci"]))  # calls 1, 2
    features = toy_features(model)                                             # call 3
    day, night = features["S_d"], features["S_n"]
    assert day.ndim == 4 and day.shape == night.shape and day.shape[0] == 1
    stride = model.deploy().output_stride
    assert day.shape[-2:] == (-(-TOY_SIZE[0] // stride), -(-TOY_SIZE[1] // stride))
    assert not torch.allclose(day, night)  # the night rendering moves the features


def test_task_cosine_map_at_an_image_pixel_in_three_calls():
    model = CCDistillModel.from_config(load_config("toycity", ["profile=ci"]))  # calls 1, 2
    maps = toy_cosine_maps(model, (100, 40))                                   # call 3
    assert maps["at_query_day"] == pytest.approx(1.0, abs=1e-5)  # the query pixel with itself
    assert maps["night_image_map"].shape == TOY_SIZE
    assert np.all(np.abs(maps["night_map"]) <= 1 + 1e-5)
    stride = model.deploy().output_stride
    assert maps["cell"] == (40 // stride, 100 // stride)


def test_task_gram_difference_in_three_calls():
    model = CCDistillModel.from_config(load_config("toycity", ["profile=ci"]))  # calls 1, 2
    style = toy_style(model)                                                   # call 3
    delta = style["delta_S"]
    assert delta.ndim == 2 and delta.shape[0] == delta.shape[1]
    np.testing.assert_allclose(delta, delta.T, atol=1e-5)  # G_Sd − G_Sn is symmetric
    assert style["norm_S"] == pytest.approx(float(np.linalg.norm(delta)), rel=1e-4) and style["norm_S"] > 0


def test_task_short_training_in_two_calls(toycity_root, tmp_path):
    config = load_config("toycity", ["profile=ci", f"data.root={toycity_root}", f"output={tmp_path / 'run'}"])  # 1
    run = train_or_load(config)                                                                                 # 2
    assert not run.loaded and run.deploy_path.is_file()
    assert run.meta["iteration"] == config.train.max_iterations == 20
    assert any("starting a new run" in m for m in run.messages)
    assert {"seg_day", "seg_night", "pseudo", "cdc", "js", "cds", "total"} <= set(read_log(run.folder / "log.csv"))
    # The cell run again loads the finished run, and says so.
    again = train_or_load(config)
    assert again.loaded and "loaded deploy.pt without training" in again.messages[-1]
    first, second = run.segmenter.state_dict(), again.segmenter.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_task_evaluation_of_the_deployed_model_in_one_call(runs, tmp_path):
    result = evaluate_run(runs["full"].folder, split="val")  # call 1
    assert 0.0 <= result["miou"] <= 1.0 and result["confusion"].shape == (19, 19)
    assert result["num_pixels"] > 0 and result["variant"] == "full" and len(result["class_names"]) == 19
    # The same numbers as `ccdistill eval` on the same checkpoint and split.
    from ccdistill.cli import main

    folder = runs["full"].folder
    status = main(["eval", "--checkpoint", str(folder / "deploy.pt"), "--config", "toycity", "--split", "val",
                   "--output", str(tmp_path / "eval"), "profile=ci", f"data.root={runs['full'].config.data.root}"])
    assert status == 0
    cli = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert cli["miou"] == pytest.approx(result["miou"], abs=1e-9)


# ---------------------------------------------------------------------------------- train_or_load


def test_changed_configuration_goes_to_the_trainer_which_names_the_key(runs):
    from ccdistill.runfolder.resume import ResumeConfigError

    changed = ci_config(runs["full"].config.data.root, runs["full"].folder, "optim.lr=0.02")
    with pytest.raises(ResumeConfigError, match="optim.lr"):
        train_or_load(changed, live=False)


def test_resume_fresh_trains_again(toycity_root, tmp_path):
    train_or_load(ci_config(toycity_root, tmp_path / "run", "train.max_iterations=4"), live=False)
    again = train_or_load(ci_config(toycity_root, tmp_path / "run", "train.max_iterations=4", "train.resume=fresh"),
                          live=False)
    assert not again.loaded and any("moved the previous run" in m for m in again.messages)


def test_a_longer_run_resumes_the_finished_one(toycity_root, tmp_path):
    train_or_load(ci_config(toycity_root, tmp_path / "run", "train.max_iterations=4", "train.checkpoint_every=2"),
                  live=False)
    longer = train_or_load(ci_config(toycity_root, tmp_path / "run", "train.max_iterations=6",
                                     "train.checkpoint_every=2"), live=False)
    assert not longer.loaded and longer.meta["iteration"] == 6
    assert any("resumed from" in m and "at iteration 4 of 6" in m for m in longer.messages)


def test_config_from_run_is_the_trained_config(runs):
    for run in runs.values():
        assert config_from_run(run.folder) == run.config


def test_config_from_a_folder_without_history_says_what_to_pass(tmp_path):
    from ccdistill.errors import InputError

    with pytest.raises(InputError, match="config="):
        config_from_run(tmp_path)


# ---------------------------------------------------------------------------------- loss curves


def test_loss_curves_one_panel_per_term(runs):
    log = read_log(runs["full"].folder / "log.csv")
    figure = plot_loss_curves(log, max_iterations=20)
    titled = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titled[0].startswith("total") and set(titled[1:]) == {"seg_day", "seg_night", "pseudo", "cdc", "js", "cds"}
    assert all(ax.get_xlim() == (0.0, 20.0) for ax in figure.axes if ax.get_title())
    only_source = read_log(runs["source_only"].folder / "log.csv")
    assert {"seg_day", "total"} <= set(only_source)


def test_live_curves_redraw_only_when_the_log_grew(tmp_path):
    log = tmp_path / "log.csv"
    curves = LiveLossCurves(log, max_iterations=10, min_seconds=0.0, show=False)
    curves("after_step")
    assert curves.frames == 1  # the empty log: "nothing logged yet"
    curves("after_step")
    assert curves.frames == 1  # nothing new
    log.write_text("iteration,seg_day,total,lr,seconds\n5,1.0,1.0,0.01,0.1\n")
    curves("after_backward")
    assert curves.frames == 1  # other events are ignored
    curves("after_step")
    assert curves.frames == 2 and curves.figure.axes[0].lines[0].get_xdata().tolist() == [5.0]
    curves.finish()
    assert curves.frames == 3


# ---------------------------------------------------------------------------------- comparisons


def test_prediction_browser_from_two_run_folders(runs, toycity_root):
    pytest.importorskip("ipywidgets")
    browser = prediction_browser({"source-only": runs["source_only"].folder, "CCDistill": runs["full"].folder},
                                 toycity_root)  # one call
    last = browser.update(index=1, domain="night")
    assert set(last["miou"]) == {"source-only", "CCDistill"} and last["index"] == 1
    assert last["predictions"]["CCDistill"].shape == last["label"].shape
    assert browser.update(domain="day")["miou"] == {}  # day references are not scored


def test_embedding_view_from_two_runs(runs):
    pytest.importorskip("ipywidgets")
    view = embedding_view({"before": runs["source_only"], "after": runs["full"].folder}, n=2)  # one call
    last = view.update(colour="domain", method="pca")
    assert set(last["points"]) == {"before", "after"}
    assert all(points.shape[1] == 2 for points in last["points"].values())
    assert set(np.unique(last["domain"])) == {0, 1}  # S_d and T_n


def test_paper_recipe_names_what_is_missing(tmp_path):
    recipe = paper_recipe(project=tmp_path)
    assert not recipe.ready and len(recipe.missing) == 2
    assert str(tmp_path / "data" / "cityscapes") in recipe.missing[0]
    assert "no usable cityscapes" in recipe.reason and recipe.reason.endswith("ToyCity profile instead.")
    assert "variant=source_only" in recipe.commands[0]
    assert "model.init_checkpoint=runs/cityscapes_darkzurich_source_only/deploy.pt" in recipe.commands[1]


def test_live_curves_show_one_output_and_replace_it_in_place(tmp_path, monkeypatch):
    import ccdistill.workflow.curves as curves_module

    shown = []

    class Handle:
        def update(self, figure):
            shown.append(("update", figure))

    def display(figure, display_id=False):
        assert display_id is True  # so that later frames replace this output
        shown.append(("display", figure))
        return Handle()

    monkeypatch.setattr(curves_module, "_display", lambda: display)
    log = tmp_path / "log.csv"
    log.write_text("iteration,total\n5,2.0\n")
    curves = LiveLossCurves(log, max_iterations=10, min_seconds=0.0)
    curves("after_step")
    log.write_text("iteration,total\n5,2.0\n10,1.0\n")
    curves("after_step")
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert shown[1][1].axes[0].lines[0].get_ydata().tolist() == [2.0, 1.0]
