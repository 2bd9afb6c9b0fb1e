"""The figures of docs/RESULTS.md, made from the registry's runs and result files.

    python -m ccdistill.experiments figures            # all of them, into docs/figures/results/

- `predictions.png`: target-night test images, ground truth, and the predictions of
  `source_only`, `pseudo`, `full` and `oracle` (seed 0 deploy.pt files);
- `loss_curves.png`: every logged loss term against the iteration (log.csv), mean over seeds;
- `correlations.png`: the four CDC correlations and the two Gram style correlations of one
  fixed ToyCity batch, for the initial model and the trained `full` model (its last checkpoint);
- `per_class_iou.png`: per-class IoU of `source_only`, `pseudo`, `full`, `oracle` (result files).

A figure whose runs are missing still renders, with the missing panels saying which file is
missing, and the command lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from ccdistill.config import Config
from ccdistill.errors import ConfigError
from ccdistill.experiments.analysis import stream_batch
from ccdistill.experiments.registry import Run
from ccdistill.experiments.runner import Runner
from ccdistill.runfolder.log import read_log
from ccdistill.runfolder.names import CHECKPOINT_GLOB, DEPLOY_NAME, LOG_NAME

DEFAULT_FIGURES_DIR = Path("docs/figures/results")
COMPARED_ROWS: tuple[str, ...] = ("source_only", "pseudo", "full", "oracle")
FIGURE_SEED = 0
BATCH_SIZE = 4  # images per stream in the correlation batch
DPI = 110


def _run(runner: Runner, row: str, seed: int = FIGURE_SEED) -> tuple[Run, Config]:
    run = Run(runner.registry.row(row), seed)
    return run, runner.config(run)


def _known(runner: Runner, rows: Sequence[str]) -> tuple[list[str], list[str]]:
    """(rows of the registry, 'row (not in the registry)' for the others)."""
    ids = {row.id for row in runner.registry.rows}
    return [r for r in rows if r in ids], [f"{r} (not in the registry)" for r in rows if r not in ids]


def _missing_panel(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=7, wrap=True, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


# ------------------------------------------------------------------------------ predictions
def predictions_figure(runner: Runner, rows: Sequence[str] = COMPARED_ROWS, images: Sequence[int] = (0, 1, 2),
                       seed: int = FIGURE_SEED) -> tuple[Figure, list[str]]:
    """Grid: one target-night test image per figure row; columns = image, ground truth, then
    the deployed model of each registry row (seed `seed`). Returns (figure, missing files)."""
    from ccdistill.runfolder.checkpoint import load_deployed
    from ccdistill.evaluation import predict
    from ccdistill.experiments.evaluation import night_dataset
    from ccdistill.labels import colorize

    known, missing = _known(runner, rows)
    if not known:
        raise ConfigError(f"none of the rows {list(rows)} is in the registry {runner.registry.path}")
    _, config = _run(runner, known[0], seed)
    dataset = night_dataset(config, "test")
    models = {}
    for row in known:
        _, row_config = _run(runner, row, seed)
        path = Path(row_config.output) / DEPLOY_NAME
        if path.is_file():
            models[row] = load_deployed(path)[0]
        else:
            missing.append(str(path))
    columns = ["T_n (test)", "ground truth", *rows]
    figure = Figure(figsize=(2.4 * len(columns), 1.45 * len(images) + 0.4), layout="constrained")
    axes = figure.subplots(len(images), len(columns), squeeze=False)
    for r, index in enumerate(images):
        raw, sample = dataset.load(index), dataset[index]
        panels = {"T_n (test)": raw["image"], "ground truth": colorize(raw["label"])}
        for row, model in models.items():
            probabilities = predict(model, sample["image"].unsqueeze(0), size=config.data.eval_size,
                                    output_size=tuple(raw["label"].shape))
            panels[row] = colorize(probabilities.argmax(1)[0].numpy())
        for c, column in enumerate(columns):
            ax = axes[r, c]
            if column in panels:
                ax.imshow(panels[column])
                ax.set_axis_off()
            else:
                _missing_panel(ax, f"missing run\n{column}__seed{seed}/{DEPLOY_NAME}")
            if r == 0:
                ax.set_title(column if column in ("T_n (test)", "ground truth") else f"{column} (seed {seed})",
                             fontsize=9)
    return figure, missing


# ------------------------------------------------------------------------------ loss curves
def loss_curves_figure(runner: Runner, rows: Sequence[str] | None = None) -> tuple[Figure, list[str]]:
    """One panel per logged loss term; one line per registry row (mean over its seeds' log.csv,
    on the iterations all of them logged)."""
    from ccdistill.losses import TERMS

    terms = ["total", *TERMS]
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {t: {} for t in terms}
    missing = []
    for row in runner.registry.select(rows):
        logs, absent = [], []
        for seed in row.seeds:
            _, config = _run(runner, row.id, seed)
            path = Path(config.output) / LOG_NAME
            if path.is_file() and path.stat().st_size:
                logs.append(read_log(path))
            else:
                absent.append(str(seed))
        if absent:
            missing.append(f"{runner.runs_dir}/{row.id}__seed{{{','.join(absent)}}}/{LOG_NAME}")
        for term in terms:
            with_term = [log for log in logs if term in log and len(log["iteration"])]
            if not with_term:
                continue
            common = sorted(set.intersection(*(set(log["iteration"].tolist()) for log in with_term)))
            values = [np.asarray([dict(zip(log["iteration"].tolist(), log[term].tolist()))[i] for i in common])
                      for log in with_term]
            curves[term][f"{row.id} ({len(with_term)} seed{'s' if len(with_term) > 1 else ''})"] = (
                np.asarray(common), np.mean(values, axis=0))
    shown = [t for t in terms if curves[t]]
    figure = Figure(figsize=(4.2 * min(4, max(1, len(shown))), 3.0 * max(1, -(-len(shown) // 4)) + 0.6),
                    layout="constrained")
    if not shown:
        _missing_panel(figure.subplots(), f"no {LOG_NAME} found under the runs dir")
        return figure, missing
    axes = figure.subplots(-(-len(shown) // 4), min(4, len(shown)), squeeze=False).ravel()
    colours = {row.id: f"C{i % 10}" for i, row in enumerate(runner.registry.rows)}
    styles = {row.id: ("-" if i < 10 else "--") for i, row in enumerate(runner.registry.rows)}
    for ax, term in zip(axes, shown):
        for label, (x, y) in curves[term].items():
            row_id = label.split(" ")[0]
            ax.plot(x, y, styles[row_id], color=colours[row_id], label=label, linewidth=1.2, marker=".",
                    markersize=3)
        ax.set_title(f"{term} (unweighted)" if term != "total" else "total (weighted sum)", fontsize=9)
        ax.set_xlabel("iteration")
    for ax in axes[len(shown):]:
        ax.set_axis_off()
    handles, labels = [], []
    for ax in axes[: len(shown)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="outside lower center", ncols=min(6, len(labels)), fontsize=7)
    return figure, missing


# ------------------------------------------------------------------------------ correlations
CORRELATIONS: tuple[tuple[str, str, str], ...] = (
    ("Cor_in_d = Cor(S_d, T_d)", "S_d", "T_d"),
    ("Cor_in_n = Cor(S_n, T_n)", "S_n", "T_n"),
    ("Cor_illu_S = Cor(S_d, S_n)", "S_d", "S_n"),
    ("Cor_illu_T = Cor(T_d, T_n)", "T_d", "T_n"),
)
STYLE_CORRELATIONS: tuple[tuple[str, str, str], ...] = (
    ("Cor_GS = Cor_G(S_d, S_n)", "S_d", "S_n"),
    ("Cor_GT = Cor_G(T_d, T_n)", "T_d", "T_n"),
)


@torch.no_grad()
def correlation_matrices(model, batch: dict[str, torch.Tensor], config: Config) -> dict[str, np.ndarray]:
    """The six N×N matrices of the CDC and CDS losses for `batch`, model in eval mode:
    content correlations of the joint embeddings (`embed_streams`, the configured granularity)
    and cosines between the Gram matrices of the features F."""
    from ccdistill.losses import content_correlation, gram_matrix, style_correlation

    model.eval()
    features = {s: model.segmenter_for(s)(x).features for s, x in batch.items()}
    embeddings = model.embed_streams(features)
    d = config.distill
    out = {name: content_correlation(embeddings[a], embeddings[b], d.granularity, d.grid).numpy()
           for name, a, b in CORRELATIONS}
    grams = {s: gram_matrix(f, center=d.gram_center) for s, f in features.items()}
    out.update({name: style_correlation(grams[a], grams[b], mode="cosine").numpy() for name, a, b in STYLE_CORRELATIONS})
    return out


def _model(config: Config):
    from ccdistill.models import CCDistillModel

    m = config.model
    torch.manual_seed(config.train.seed)  # the Trainer seeds before it builds the model
    return CCDistillModel(m.arch, m.num_classes, weights=m.weights, share_weights=m.share_weights,
                          projection=m.projection, embedding_dim=m.embedding_dim)


def correlations_figure(runner: Runner, row: str = "full", seed: int = FIGURE_SEED) -> tuple[Figure, list[str]]:
    """Rows: the initial model and the trained `row` model; columns: the six correlation
    matrices of one fixed batch (image granularity: N×N, entry (i, j) = image i vs image j)."""
    from ccdistill.runfolder.checkpoint import TRAIN_FORMAT, read_checkpoint
    from ccdistill.runfolder.names import checkpoint_name
    from ccdistill.runfolder.resume import newest_checkpoint_iteration

    _, config = _run(runner, row, seed)
    batch = stream_batch(config, BATCH_SIZE)
    folder = Path(config.output)
    states: list[tuple[str, dict[str, np.ndarray] | None]] = [
        ("initial model", correlation_matrices(_model(config), batch, config))]
    missing = []
    iteration = newest_checkpoint_iteration(folder)
    if iteration:
        trained = _model(config)
        trained.load_state_dict(read_checkpoint(folder / checkpoint_name(iteration), TRAIN_FORMAT)["model"])
        states.append((f"{row}, iteration {iteration}", correlation_matrices(trained, batch, config)))
    else:
        missing.append(str(folder / CHECKPOINT_GLOB))
        states.append((f"{row} (missing)", None))
    names = [name for name, _, _ in (*CORRELATIONS, *STYLE_CORRELATIONS)]
    figure = Figure(figsize=(2.6 * len(names), 2.5 * 2 + 0.7), layout="constrained")
    axes = figure.subplots(2, len(names), squeeze=False)
    for r, (label, matrices) in enumerate(states):
        for c, name in enumerate(names):
            ax = axes[r, c]
            if matrices is None:
                _missing_panel(ax, f"missing run\n{folder}")
                continue
            image = ax.imshow(matrices[name], vmin=-1, vmax=1, cmap="coolwarm")
            for (i, j), value in np.ndenumerate(matrices[name] if matrices[name].size <= 64 else []):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6)
            ax.set_xticks(range(matrices[name].shape[1]))
            ax.set_yticks(range(matrices[name].shape[0]))
            ax.set_title(name, fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
        if matrices is not None:
            figure.colorbar(image, ax=axes[r, -1], shrink=0.8)
    # Summary numbers the loss matches: |Cor_in_d − Cor_in_n|, |Cor_illu_S − Cor_illu_T|, |Cor_GS − Cor_GT|.
    lines = []
    for label, m in states:
        if m is None:
            continue
        gaps = (np.abs(m[names[0]] - m[names[1]]).mean(), np.abs(np.diag(m[names[2]]) - np.diag(m[names[3]])).mean(),
                np.abs(np.diag(m[names[4]]) - np.diag(m[names[5]])).mean())
        lines.append(f"{label}: mean |in_d − in_n| = {gaps[0]:.3f}, |illu_S − illu_T| (aligned) = {gaps[1]:.3f}, "
                     f"|G_S − G_T| (aligned) = {gaps[2]:.3f}")
    figure.suptitle("\n".join(lines), fontsize=8)
    return figure, missing


# ------------------------------------------------------------------------------ per-class IoU
def per_class_figure(runner: Runner, rows: Sequence[str] = COMPARED_ROWS) -> tuple[Figure, list[str]]:
    """Grouped per-class IoU bars (target-night test, mean over seeds) from the result files."""
    from ccdistill.evaluation import plot_per_class_iou
    from ccdistill.experiments.table import collect

    known, missing = _known(runner, rows)
    results = {}
    for row in collect(runner.registry, runner.results_dir, known):
        if not row.results:
            missing.append(f"{runner.results_dir}/{row.row.id}__seed*.json")
            continue
        ious = np.asarray([[np.nan if v is None else v for v in r["metrics"]["test"]["per_class_iou"]]
                           for r in row.results.values()], dtype=np.float64)
        # Mean over the seeds that score a class; NaN where none does (no bar is drawn).
        counts = (~np.isnan(ious)).sum(axis=0)
        per_class = np.where(counts > 0, np.nansum(ious, axis=0) / np.maximum(counts, 1), np.nan)
        mious = [r["metrics"]["test"]["miou"] for r in row.results.values()]
        results[f"{row.row.id} ({len(mious)} seed{'s' if len(mious) > 1 else ''})"] = {
            "per_class_iou": per_class, "miou": float(np.mean(mious))}
    if not results:
        figure = Figure(figsize=(6, 2))
        _missing_panel(figure.subplots(), "no result files yet")
        return figure, missing
    return plot_per_class_iou(results), missing


MAKERS = {
    "predictions": predictions_figure,
    "loss_curves": loss_curves_figure,
    "correlations": correlations_figure,
    "per_class_iou": per_class_figure,
}


def save_figures(runner: Runner, out_dir: str | Path = DEFAULT_FIGURES_DIR,
                 which: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Write the chosen figures as PNG into `out_dir`; returns {figure name: missing files}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in which or list(MAKERS):
        figure, missing = MAKERS[name](runner)
        figure.savefig(out_dir / f"{name}.png", dpi=DPI)
        report[name] = missing
    return report
