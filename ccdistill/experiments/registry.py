"""The experiment registry: rows (id, config, variant, overrides, seeds, paper claim) read from a
YAML file, and the run config of each (row, seed).

    registry = load_registry()                      # ccdistill/experiments/registry.yaml
    for run in registry.runs():                     # 11 rows × 3 seeds
        config = run_config(run, runs_dir="runs/experiments")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from ccdistill.config import CONFIG_DIR, Config, load_config
from ccdistill.config.schema import VARIANTS
from ccdistill.errors import ConfigError
from ccdistill.runfolder.names import DEPLOY_NAME

REGISTRY_FILE = Path(__file__).resolve().with_name("registry.yaml")
RUN_SEPARATOR = "__seed"  # run id = <row>__seed<k>, also the run folder and result file stem
ROW_KEYS = frozenset({"id", "variant", "config", "overrides", "seeds", "paper", "profile", "init_from"})


@dataclass(frozen=True)
class Row:
    """One registry row: a variant with extra overrides, run with each seed."""

    id: str
    variant: str
    config: str
    profile: str
    seeds: tuple[int, ...]
    overrides: tuple[str, ...] = ()
    paper: str = ""
    init_from: str = ""  # a row whose run of the same seed warm-starts M_d and M_n (stage 1)


@dataclass(frozen=True)
class Run:
    """One (row, seed): what `run` trains and what one result file holds."""

    row: Row
    seed: int

    @property
    def id(self) -> str:
        return f"{self.row.id}{RUN_SEPARATOR}{self.seed}"


@dataclass
class Registry:
    """The rows of a registry file, in file order."""

    path: Path
    rows: list[Row] = field(default_factory=list)

    def row(self, row_id: str) -> Row:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise ConfigError(f"registry {self.path} has no row {row_id!r}; rows: {', '.join(r.id for r in self.rows)}")

    def select(self, rows: Sequence[str] | None = None) -> list[Row]:
        """The named rows in registry order (all rows when `rows` is empty or None)."""
        if not rows:
            return list(self.rows)
        wanted = {self.row(name).id for name in rows}  # unknown names fail here
        return [row for row in self.rows if row.id in wanted]

    def runs(self, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> list[Run]:
        """Every (row, seed) of the selected rows, seed-major (a whole table of seed 0 comes
        first) and in row order within a seed; `seeds` restricts each row's seeds. A row's
        `init_from` run of the same seed always comes before it, selected or not."""
        selected = self.select(rows)
        order = sorted({seed for row in selected for seed in row.seeds if not seeds or seed in set(seeds)})
        runs: list[Run] = []
        for seed in order:
            for row in selected:
                if seed not in row.seeds:
                    continue
                if row.init_from and Run(self.row(row.init_from), seed) not in runs:
                    runs.append(Run(self.row(row.init_from), seed))
                if Run(row, seed) not in runs:
                    runs.append(Run(row, seed))
        return runs


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and "=" in item for item in value):
        raise ConfigError(f"{where} must be a list of 'key=value' strings, got {value!r}")
    return tuple(value)


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
        raise ConfigError(f"{where} must be a non-empty list of seeds (integers >= 0), got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where} repeats a seed: {value}")
    return tuple(value)


def _row(entry: Any, defaults: dict[str, Any], path: Path, index: int) -> Row:
    where = f"registry {path}, row {index + 1}"
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ConfigError(f"{where} must be a mapping with an 'id' string, got {entry!r}")
    unknown = set(entry) - ROW_KEYS
    if unknown:
        raise ConfigError(f"{where} ({entry['id']}) has unknown keys {sorted(unknown)}; allowed: {sorted(ROW_KEYS)}")
    if RUN_SEPARATOR in entry["id"] or "/" in entry["id"] or not entry["id"]:
        raise ConfigError(f"{where}: id {entry['id']!r} may not be empty or contain '/' or '{RUN_SEPARATOR}'")
    variant = entry.get("variant", entry["id"])
    if variant not in VARIANTS:
        raise ConfigError(f"{where} ({entry['id']}): unknown variant {variant!r}; valid: {', '.join(VARIANTS)}")
    return Row(
        id=entry["id"], variant=variant,
        config=str(entry.get("config", defaults.get("config", "toycity.yaml"))),
        profile=str(entry.get("profile", defaults.get("profile", ""))),
        seeds=_seeds(entry.get("seeds", defaults.get("seeds", [0])), f"{where} ({entry['id']}) seeds"),
        overrides=(_string_list(defaults.get("overrides"), f"registry {path} defaults.overrides")
                   + _string_list(entry.get("overrides"), f"{where} ({entry['id']}) overrides")),
        paper=str(entry.get("paper", "")),
        init_from=str(entry.get("init_from", defaults.get("init_from", "")) or ""),
    )


def load_registry(path: str | Path | None = None) -> Registry:
    """Read a registry YAML file (default: the one shipped in the package).

    The file holds `defaults` (config, profile, seeds, overrides applied to every row) and
    `rows`, each with an `id` and optionally variant (default: the id), config, profile, seeds,
    overrides (appended to the defaults' ones) and `paper` (the claim or table row it tests).
    """
    path = Path(path) if path is not None else REGISTRY_FILE
    if not path.is_file():
        raise ConfigError(f"registry file {path} does not exist; the shipped one is {REGISTRY_FILE}")
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"registry file {path} is not valid YAML: {error}") from None
    if not isinstance(tree, dict) or not isinstance(tree.get("rows"), list) or not tree["rows"]:
        raise ConfigError(f"registry file {path} must be a mapping with a non-empty 'rows' list")
    defaults = tree.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"registry {path}: 'defaults' must be a mapping, got {defaults!r}")
    rows = [_row(entry, defaults, path, i) for i, entry in enumerate(tree["rows"])]
    ids = [row.id for row in rows]
    for row in rows:
        if row.init_from and (row.init_from not in ids or next(r for r in rows if r.id == row.init_from).init_from):
            raise ConfigError(f"registry {path}: row {row.id!r} has init_from {row.init_from!r}, which must name "
                              "a row without an init_from of its own (the stage-1 run)")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(f"registry {path} repeats row ids {repeated}")
    return Registry(path=path, rows=rows)


def resolve_config_path(name: str, registry_path: Path | None = None) -> Path:
    """A row's `config` as a file: an existing path as given, else next to the registry file,
    else in the package's config folder (`ccdistill.config.CONFIG_DIR`, wherever it lives)."""
    candidates = [Path(name)]
    if registry_path is not None:
        candidates.append(Path(registry_path).parent / name)
    candidates.append(Path(CONFIG_DIR) / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"config {name!r} of the registry was not found; looked at "
                      f"{', '.join(str(c) for c in candidates)}")


def run_overrides(run: Run, runs_dir: str | Path, profile: str | None = None,
                  extra: Sequence[str] = ()) -> list[str]:
    """The `key=value` overrides of one run, later ones winning: profile, variant, the row's
    overrides, the seed, the output folder, then `extra` (e.g. data.root=...)."""
    stage_one = []
    if run.row.init_from:  # the two-stage recipe: warm-start from stage 1, pseudo labels at full weight
        stage_one = [f"model.init_checkpoint={Path(runs_dir) / f'{run.row.init_from}{RUN_SEPARATOR}{run.seed}' / DEPLOY_NAME}",
                     "loss.pseudo_warmup_fraction=0"]
    return [f"profile={profile if profile is not None else run.row.profile}", f"variant={run.row.variant}",
            *stage_one, *run.row.overrides, f"train.seed={run.seed}", f"output={Path(runs_dir) / run.id}", *extra]


def run_config(run: Run, runs_dir: str | Path, profile: str | None = None, extra: Sequence[str] = (),
               registry_path: Path | None = None) -> Config:
    """The resolved Config of one run (`profile` replaces the row's profile when given)."""
    path = resolve_config_path(run.row.config, registry_path)
    return load_config(path, run_overrides(run, runs_dir, profile, extra))


def train_command(run: Run, runs_dir: str | Path = "runs/experiments", profile: str | None = None,
                  registry_path: Path | None = None) -> str:
    """The `ccdistill train` command line that trains this run by hand (what `run` does before
    it evaluates), with the config path relative to the working folder when it is below it."""
    path = resolve_config_path(run.row.config, registry_path).resolve()
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    return " ".join(["ccdistill train --config", str(shown), *run_overrides(run, runs_dir, profile)])
