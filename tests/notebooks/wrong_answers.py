"""Common wrong answers to each graded exercise of the notebooks, and the one planted per notebook.

WRONG[notebook][grade_id] is a list of (what the student got wrong, the code that replaces the
solution block of the answer cell). tests/notebooks/test_grading.py grades each of them and
requires 0 points for that exercise (the visible or the hidden tests reject it); PLANTED names the
exercise whose first wrong answer is the planted error of the notebook's test submission.
"""

WRONG: dict[str, dict[str, list[tuple[str, str]]]] = {
    "00_setup.ipynb": {
        "00-ex1": [
            ("ci / cpu instead of cpu / ci",
             'ratio = load_config("toycity", ["profile=ci"]).train.max_iterations / '
             'load_config("toycity", ["profile=cpu"]).train.max_iterations'),
            ("the difference cpu − ci",
             'ratio = load_config("toycity", ["profile=cpu"]).train.max_iterations - '
             'load_config("toycity", ["profile=ci"]).train.max_iterations'),
            ("the batch sizes' ratio",
             'ratio = load_config("toycity", ["profile=cpu"]).train.batch_size / '
             'load_config("toycity", ["profile=ci"]).train.batch_size'),
        ],
        "00-ex2": [
            ("the source city",
             'twilight, _ = render_example("source", seed=1, night=0.5)\nday, _ = render_example("source", seed=1)\n'
             'night, _ = render_example("source", seed=1, night=1.0)\n'
             'fraction = (day.mean() - twilight.mean()) / (day.mean() - night.mean())'),
            ("twilight rendered at night=1.0",
             'twilight, _ = render_example("target", seed=1, night=1.0)\nday, _ = render_example("target", seed=1)\n'
             'night, _ = render_example("target", seed=1, night=1.0)\n'
             'fraction = (day.mean() - twilight.mean()) / (day.mean() - night.mean())'),
            ("fraction as the ratio of the means",
             'twilight, _ = render_example("target", seed=1, night=0.5)\nday, _ = render_example("target", seed=1)\n'
             'night, _ = render_example("target", seed=1, night=1.0)\nfraction = twilight.mean() / day.mean()'),
        ],
        "00-ex3": [
            ("an RGB label image",
             'label = fake / "gt/val/night/GOPR0356/GOPR0356_frame_000324_gt_labelTrainIds.png"\n'
             'label.parent.mkdir(parents=True, exist_ok=True)\n'
             'Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(label)'),
            ("16×8 instead of 8×16",
             'label = fake / "gt/val/night/GOPR0356/GOPR0356_frame_000324_gt_labelTrainIds.png"\n'
             'label.parent.mkdir(parents=True, exist_ok=True)\n'
             'Image.fromarray(np.zeros((16, 8), np.uint8)).save(label)'),
            ("values that are no trainId (100)",
             'label = fake / "gt/val/night/GOPR0356/GOPR0356_frame_000324_gt_labelTrainIds.png"\n'
             'label.parent.mkdir(parents=True, exist_ok=True)\n'
             'Image.fromarray(np.full((8, 16), 100, np.uint8)).save(label)'),
        ],
    },
    "01_day_night_data.ipynb": {
        "01-ex1": [
            ("the largest β below the gap, not the smallest",
             'betas = np.round(np.arange(1, 41) * 0.005, 3)\n'
             'best = max(b for b in betas if explorer.update(method="fda", beta=float(b))["gap_after"] < 2)'),
            ("the last β whose gap is still at least 2 (off by one)",
             'betas = np.round(np.arange(1, 41) * 0.005, 3)\n'
             'best = [b for b in betas if explorer.update(method="fda", beta=float(b))["gap_after"] >= 2][-1]'),
            ("a coarser grid (steps of 0.01)",
             'betas = np.round(np.arange(1, 21) * 0.01, 2)\n'
             'best = next(b for b in betas if explorer.update(method="fda", beta=float(b))["gap_after"] < 2)'),
        ],
        "01-ex2": [
            ("a percentage", 'm = 100 * np.mean([(s.label != paired_scene(s, seed=(0, i, 1)).label).mean() '
                             'for i, s in enumerate(sample_scene(seed=(0, i), city="target", size=(128, 256)) for i in range(8))])'),
            ("the agreeing pixels (1 − m)",
             'm = np.mean([(s.label == paired_scene(s, seed=(0, i, 1)).label).mean() '
             'for i, s in enumerate(sample_scene(seed=(0, i), city="target", size=(128, 256)) for i in range(8))])'),
            ("the source city",
             'm = np.mean([(s.label != paired_scene(s, seed=(0, i, 1)).label).mean() '
             'for i, s in enumerate(sample_scene(seed=(0, i), city="source", size=(128, 256)) for i in range(8))])'),
            ("the first pair only",
             's = sample_scene(seed=(0, 0), city="target", size=(128, 256))\n'
             'm = (s.label != paired_scene(s, seed=(0, 0, 1)).label).mean()'),
        ],
        "01-ex3": [
            ("larger = 'city'",
             'def lab_gap(a, b):\n'
             '    return np.mean([np.linalg.norm(lab_statistics(x)[0] - lab_statistics(y)[0]) for x, y in zip(a, b)])\n'
             'city_gap, night_gap = lab_gap(many["S_d"], many["T_d"]), lab_gap(many["S_d"], many["S_n"])\n'
             'larger = "city"'),
            ("the lightness L* only",
             'def lab_gap(a, b):\n'
             '    return np.mean([abs(lab_statistics(x)[0][0] - lab_statistics(y)[0][0]) for x, y in zip(a, b)])\n'
             'city_gap, night_gap = lab_gap(many["S_d"], many["T_d"]), lab_gap(many["S_d"], many["S_n"])\n'
             'larger = "illumination" if night_gap > city_gap else "city"'),
            ("illumination measured as S_d vs T_n",
             'def lab_gap(a, b):\n'
             '    return np.mean([np.linalg.norm(lab_statistics(x)[0] - lab_statistics(y)[0]) for x, y in zip(a, b)])\n'
             'city_gap, night_gap = lab_gap(many["S_d"], many["T_d"]), lab_gap(many["S_d"], many["T_n"])\n'
             'larger = "illumination" if night_gap > city_gap else "city"'),
        ],
    },
    "02_content_cosine_maps.ipynb": {
        "02-ex1": [
            ("still_zero = True",
             'same = (e["S_d"], e["S_d"], e["T_d"], e["T_d"])\n'
             'token_loss = cdc_loss(*same, granularity="token", grid=4).item()\n'
             'all_pairs_loss = cdc_loss(*same, illumination_pairs="all").item()\nstill_zero = True'),
            ("the all-pairs loss at token granularity",
             'same = (e["S_d"], e["S_d"], e["T_d"], e["T_d"])\n'
             'token_loss = cdc_loss(*same, granularity="token", grid=4).item()\n'
             'all_pairs_loss = cdc_loss(*same, granularity="token", grid=4, illumination_pairs="all").item()\nstill_zero = False'),
            ("the real night streams instead of night = day",
             'token_loss = cdc_loss(e["S_d"], e["S_n"], e["T_d"], e["T_n"], granularity="token", grid=4).item()\n'
             'all_pairs_loss = cdc_loss(e["S_d"], e["S_n"], e["T_d"], e["T_n"], illumination_pairs="all").item()\n'
             'still_zero = False'),
        ],
        "02-ex2": [
            ("the target pair",
             'means = {space: float(torch.tensor([cosine.update(x=x, y=y, pair="target", space=space)["at_query_night"] '
             'for x in (32, 96, 160, 224) for y in (16, 48, 80, 112)]).mean()) for space in ("features", "embeddings")}'),
            ("the day map at the query (always 1)",
             'means = {space: float(torch.tensor([cosine.update(x=x, y=y, pair="source", space=space)["at_query_day"] '
             'for x in (32, 96, 160, 224) for y in (16, 48, 80, 112)]).mean()) for space in ("features", "embeddings")}'),
            ("the best night cosine instead of the one at the query's cell",
             'means = {space: float(torch.tensor([cosine.update(x=x, y=y, pair="source", space=space)["best_night"] '
             'for x in (32, 96, 160, 224) for y in (16, 48, 80, 112)]).mean()) for space in ("features", "embeddings")}'),
        ],
        "02-ex3": [
            ("+ on the cross pairs",
             'p = {k: torch.softmax(torch.nn.functional.normalize(v.mean(dim=(2, 3)), dim=1) / 0.05, dim=1) for k, v in (("a", a), ("b", b))}\n'
             'mine = (2 * js_divergence(p["a"], p["a"]).mean() + 2 * js_divergence(p["a"], p["b"]).mean()).item()'),
            ("temperature 1 instead of 0.05",
             'p = {k: torch.softmax(torch.nn.functional.normalize(v.mean(dim=(2, 3)), dim=1), dim=1) for k, v in (("a", a), ("b", b))}\n'
             'mine = (2 * js_divergence(p["a"], p["a"]).mean() - 2 * js_divergence(p["a"], p["b"]).mean()).item()'),
            ("the softmax over the batch (dim 0)",
             'p = {k: torch.softmax(torch.nn.functional.normalize(v.mean(dim=(2, 3)), dim=1) / 0.05, dim=0) for k, v in (("a", a), ("b", b))}\n'
             'mine = (2 * js_divergence(p["a"], p["a"]).mean() - 2 * js_divergence(p["a"], p["b"]).mean()).item()'),
        ],
    },
    "03_gram_style.ipynb": {
        "03-gram": [
            ("no normalisation", "n, c, h, w = f.shape\nflat = f.reshape(n, c, h * w)\nreturn flat @ flat.transpose(1, 2)"),
            ("divided by H·W only", "n, c, h, w = f.shape\nflat = f.reshape(n, c, h * w)\nreturn flat @ flat.transpose(1, 2) / (h * w)"),
            ("the pixel Gram (HW × HW)", "n, c, h, w = f.shape\nflat = f.reshape(n, c, h * w)\nreturn flat.transpose(1, 2) @ flat / (c * h * w)"),
        ],
        "03-ex1": [
            ("one mean over everything, not per channel",
             'def centered_gram(f):\n    return gram_matrix(f - f.mean())\n\n'
             'centred = {s: centered_gram(F[s]) for s in ("S_d", "S_n")}\n'
             'raw_cor = style_correlation(G["S_d"], G["S_n"], pairs="aligned")\n'
             'centred_cor = style_correlation(centred["S_d"], centred["S_n"], pairs="aligned")'),
            ("all pairs instead of aligned",
             'def centered_gram(f):\n    return gram_matrix(f - f.mean(dim=(2, 3), keepdim=True))\n\n'
             'centred = {s: centered_gram(F[s]) for s in ("S_d", "S_n")}\n'
             'raw_cor = style_correlation(G["S_d"], G["S_n"], pairs="all")\n'
             'centred_cor = style_correlation(centred["S_d"], centred["S_n"], pairs="all")'),
            ("raw and centred swapped",
             'def centered_gram(f):\n    return gram_matrix(f - f.mean(dim=(2, 3), keepdim=True))\n\n'
             'centred = {s: centered_gram(F[s]) for s in ("S_d", "S_n")}\n'
             'centred_cor = style_correlation(G["S_d"], G["S_n"], pairs="aligned")\n'
             'raw_cor = style_correlation(centred["S_d"], centred["S_n"], pairs="aligned")'),
        ],
        "03-ex2": [
            ("the largest t, not the smallest",
             'half = style.update(night=1.0)["norm_T"] / 2\nfirst = 1.0'),
            ("the source's norm (norm_S)",
             'half = style.update(night=1.0)["norm_S"] / 2\n'
             'first = next(t for t in [round(0.05 * k, 2) for k in range(21)] if style.update(night=t)["norm_S"] > half)'),
            ("half of the value at t = 0",
             'half = style.update(night=0.0)["norm_T"] / 2\n'
             'first = next(t for t in [round(0.05 * k, 2) for k in range(21)] if style.update(night=t)["norm_T"] > half)'),
        ],
        "03-ex3": [
            ("invariant = 'difference'",
             'invariant = "difference"\nscales = (0.25, 0.5, 1.0, 2.0, 4.0)\n'
             'losses = {mode: [cds_loss(F["S_d"], F["S_n"], F["T_d"], s * F["T_n"], mode=mode).item() for s in scales] '
             'for mode in ("cosine", "difference")}'),
            ("invariant = 'both'",
             'invariant = "both"\nscales = (0.25, 0.5, 1.0, 2.0, 4.0)\n'
             'losses = {mode: [cds_loss(F["S_d"], F["S_n"], F["T_d"], s * F["T_n"], mode=mode).item() for s in scales] '
             'for mode in ("cosine", "difference")}'),
            ("F_Sn scaled instead of F_Tn",
             'invariant = "cosine"\nscales = (0.25, 0.5, 1.0, 2.0, 4.0)\n'
             'losses = {mode: [cds_loss(F["S_d"], s * F["S_n"], F["T_d"], F["T_n"], mode=mode).item() for s in scales] '
             'for mode in ("cosine", "difference")}'),
        ],
    },
    "04_training.ipynb": {
        "04-ex1": [
            ("the smallest share", "top = min(reports, key=lambda r: r.grad_share).term\ntells_miou = False"),
            ("the largest loss value instead of the gradient share",
             "top = max(reports, key=lambda r: abs(r.value * r.weight)).term\ntells_miou = False"),
            ("tells_miou = True", "top = max(reports, key=lambda r: r.grad_share).term\ntells_miou = True"),
        ],
        "04-ex2": [
            ("L_seg(P_Sn) (seg_night) instead of seg_day",
             'seg = read_log(full.folder / "log.csv")["seg_night"]\nfirst, last = seg[0], seg[-1]'),
            ("the smallest logged value as the last",
             'seg = read_log(full.folder / "log.csv")["seg_day"]\nfirst, last = seg[0], min(seg)'),
            ("the stage-1 run's log",
             'seg = read_log(source.folder / "log.csv")["seg_day"]\nfirst, last = seg[0], seg[-1]'),
        ],
        "04-ex3": [
            ("the rate of step t, not t − 1",
             'log = read_log(full.folder / "log.csv")\nt = int(log["iteration"][-1])\n'
             'expected = poly_lr(full_config.optim.lr, t, full_config.train.max_iterations, full_config.optim.poly_power)'),
            ("a linear decay (power 1)",
             'log = read_log(full.folder / "log.csv")\nt = int(log["iteration"][-1])\n'
             'expected = poly_lr(full_config.optim.lr, t - 1, full_config.train.max_iterations, 1.0)'),
            ("the base rate", 'log = read_log(full.folder / "log.csv")\nt = int(log["iteration"][-1])\nexpected = full_config.optim.lr'),
        ],
    },
    "05_evaluation.ipynb": {
        "05-ex1": [
            ("the argmin of the gain",
             'gain = results["full"]["per_class_iou"] - results["source-only"]["per_class_iou"]\n'
             'best = results["full"]["class_names"][int(np.nanargmin(gain))]'),
            ("the class index instead of its name",
             'gain = results["full"]["per_class_iou"] - results["source-only"]["per_class_iou"]\n'
             'best = int(np.nanargmax(gain))'),
        ],
        "05-ex2": [
            ("the val split (evaluate_run's default)",
             'test = {"source-only": evaluate_run(source), "full": evaluate_run(full)}'),
            ("the two runs swapped",
             'test = {"source-only": evaluate_run(full, split="test"), "full": evaluate_run(source, split="test")}'),
        ],
        "05-ex3": [
            ("t-SNE points instead of PCA",
             'last = view.update(method="tsne")\n'
             'scores = {name: silhouette_score(points, last["labels"]) for name, points in last["points"].items()}'),
            ("the domains as labels instead of the classes",
             'last = view.update(method="pca")\n'
             'scores = {name: silhouette_score(points, last["domain"]) for name, points in last["points"].items()}'),
        ],
        "05-ex4": [
            ("pseudo compared with source-only instead of full",
             'prediction = False\npseudo = train_or_load(nb.run_config("pseudo"))\n'
             'mine = {"pseudo": evaluate_run(pseudo)["miou"], "full": results["source-only"]["miou"]}\n'
             'beats = mine["full"] - mine["pseudo"] > 0.01'),
            ("the full run loaded as `pseudo`",
             'prediction = False\npseudo = train_or_load(nb.run_config("full"))\n'
             'mine = {"pseudo": evaluate_run(pseudo)["miou"], "full": results["full"]["miou"]}\n'
             'beats = mine["full"] - mine["pseudo"] > 0.01'),
            ("a prediction that is not True/False",
             'prediction = "no"\npseudo = train_or_load(nb.run_config("pseudo"))\n'
             'mine = {"pseudo": evaluate_run(pseudo)["miou"], "full": results["full"]["miou"]}\n'
             'beats = mine["full"] - mine["pseudo"] > 0.01'),
        ],
    },
    "06_ablation_lab.ipynb": {
        "06-ex1": [
            ("the gains reversed (source_only − pseudo)",
             'gain_static = compare(collected, "source_only", "pseudo", "static").mean\n'
             'gain_dynamic = compare(collected, "source_only", "pseudo", "dynamic").mean\n'
             'larger = "static" if gain_static > gain_dynamic else "dynamic"'),
            ("in points instead of fractions",
             'gain_static = 100 * compare(collected, "pseudo", "source_only", "static").mean\n'
             'gain_dynamic = 100 * compare(collected, "pseudo", "source_only", "dynamic").mean\n'
             'larger = "static" if gain_static > gain_dynamic else "dynamic"'),
            ("full instead of pseudo",
             'gain_static = compare(collected, "full", "source_only", "static").mean\n'
             'gain_dynamic = compare(collected, "full", "source_only", "dynamic").mean\n'
             'larger = "static" if gain_static > gain_dynamic else "dynamic"'),
            ("larger = 'dynamic'",
             'gain_static = compare(collected, "pseudo", "source_only", "static").mean\n'
             'gain_dynamic = compare(collected, "pseudo", "source_only", "dynamic").mean\nlarger = "dynamic"'),
        ],
        "06-ex2": [
            ("the population std (ddof=0)", "d = np.asarray(pair.differences)\nt = d.mean() / (d.std() / np.sqrt(len(d)))"),
            ("without the sqrt(n)", "d = np.asarray(pair.differences)\nt = d.mean() / d.std(ddof=1)"),
            ("pseudo − full (the sign)", "d = -np.asarray(pair.differences)\nt = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))"),
        ],
        "06-ex3": [
            ("the one-sided 5 % point", "n = len(pair.differences)\nneeded = student_t.ppf(0.95, n - 1) * pair.std / np.sqrt(n)"),
            ("the normal 1.96", "n = len(pair.differences)\nneeded = 1.96 * pair.std / np.sqrt(n)"),
            ("n degrees of freedom", "n = len(pair.differences)\nneeded = student_t.ppf(0.975, n) * pair.std / np.sqrt(n)"),
        ],
    },
}

PLANTED = {
    "00_setup.ipynb": "00-ex2",
    "01_day_night_data.ipynb": "01-ex1",
    "02_content_cosine_maps.ipynb": "02-ex1",
    "03_gram_style.ipynb": "03-ex2",
    "04_training.ipynb": "04-ex3",
    "05_evaluation.ipynb": "05-ex2",
    "06_ablation_lab.ipynb": "06-ex1",
}
