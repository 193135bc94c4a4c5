"""The `balkansim` command line.

    balkansim run [SCENARIO] [--seed N] [--days N] [--out DIR]   run one scenario (default: baseline)
    balkansim rerun RUN_DIR [--out DIR]                           rerun from a manifest, check it is identical
    balkansim compare [SCENARIO ...] [--replicates N] [--workers K] [--scheduler ADDRESS] [--out DIR]
                                                                  scenarios side by side over replicates
    balkansim sweep FILE [--workers K] [--scheduler ADDRESS] [--out DIR]   a parameter sweep
    balkansim validate FILE                                       check a scenario, sweep, targets or network file
    balkansim report BATCH_DIR [--out FILE.pdf]                   a short PDF briefing from a comparison batch
    balkansim calibrate [TARGETS] [--quick] [--workers K] [--out DIR]   fit behaviour parameters, then validate
    balkansim validate-fit [TARGETS] [--quick] [--out DIR]        rerun the fitted ensembles, report the fit
    balkansim sensitivity [FILE] [--workers K] [--out DIR]        Morris or Sobol indices from a sweep file

Exit codes: 0 done; 1 some runs of a batch failed (the rest finished); 2 bad input or an output
folder that would be overwritten; 130 interrupted (re-run the same command to resume).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .errors import InputError, RunWriteError
from .resources import InsufficientMemory

EXIT_RUNS_FAILED = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except (FileExistsError, InsufficientMemory, RunWriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balkansim",
        description="Agent-based simulation of migration along the Western Balkan route.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write its results under runs/")
    run.add_argument("scenario", nargs="?", help="scenario TOML file (default: the bundled scenarios/baseline.toml)")
    run.add_argument("--seed", type=_non_negative, help="seed (default: the scenario's)")
    run.add_argument("--days", type=_positive, help="simulate only the first N days of the period")
    run.add_argument("--out", help="run folder to create (default: runs/<scenario>-seed<seed>-<time>); never overwritten")
    run.add_argument("--force", action="store_true",
                     help="replace an existing --out folder (only once the new run is completely written)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    run.set_defaults(handler=_run)

    rerun = commands.add_parser("rerun", help="rerun a finished run from its manifest and check it is bit for bit the same")
    rerun.add_argument("run_dir", help="a run folder (with manifest.json), e.g. runs/baseline-seed20150701-...")
    rerun.add_argument("--out", help="folder for the rerun (default: RUN_DIR-rerun); never overwritten")
    rerun.add_argument("--quiet", action="store_true", help="no progress bar")
    rerun.set_defaults(handler=_rerun)

    compare = commands.add_parser(
        "compare", help="run scenarios side by side over replicates and tabulate the differences from the first")
    compare.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                         help="scenario TOML files, the first being the baseline (default: the bundled baseline "
                              "and partnership scenarios)")
    compare.add_argument("--replicates", type=_positive,
                         help="replicates per scenario; replicate i uses seed + i in every scenario "
                              "(default: the scenarios' own `replicates`)")
    compare.add_argument("--seed", type=_non_negative, help="seed of replicate 0 (default: the baseline's)")
    compare.add_argument("--days", type=_positive, help="simulate only the first N days of each scenario")
    _batch_options(compare, "runs/compare-<hash>")
    compare.set_defaults(handler=_compare)

    sweep = commands.add_parser("sweep", help="run a parameter sweep file (TOML)")
    sweep.add_argument("file", help="sweep file, e.g. scenarios/sweeps/serbia_anti_smuggling.toml")
    sweep.add_argument("--days", type=_positive, help="simulate only the first N days of each run")
    _batch_options(sweep, "runs/sweep-<name>-<hash>")
    sweep.set_defaults(handler=_sweep)

    calibrate = commands.add_parser(
        "calibrate", help="fit the behaviour parameters to observed series (an ensemble of fits), then validate")
    calibrate.add_argument("targets", nargs="?", help="targets file (default: calibration/targets.toml)")
    calibrate.add_argument("--quick", action="store_true",
                           help="the targets file's [quick] ensemble: the whole pipeline in minutes, not for conclusions")
    calibrate.add_argument("--workers", type=_positive, help="runs in parallel (default: one per CPU core)")
    calibrate.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster instead")
    calibrate.add_argument("--out", help="calibration folder (default: calibration/fitted, or "
                                         "runs/calibration-quick with --quick); an interrupted calibration resumes")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bars")
    calibrate.set_defaults(handler=_calibrate)

    validate_fit = commands.add_parser(
        "validate-fit", help="rerun the fitted ensembles and report the fit per series (part of calibrate)")
    for argument, options in (("targets", {"nargs": "?", "help": "targets file (default: calibration/targets.toml)"}),
                              ("--quick", {"action": "store_true", "help": "the calibration was made with --quick"}),
                              ("--workers", {"type": _positive, "help": "runs in parallel"}),
                              ("--scheduler", {"metavar": "ADDRESS", "help": "a Dask cluster's scheduler"}),
                              ("--out", {"help": "calibration folder (as given to calibrate)"}),
                              ("--quiet", {"action": "store_true", "help": "no progress bar"})):
        validate_fit.add_argument(argument, **options)
    validate_fit.set_defaults(handler=_validate_fit)

    report = commands.add_parser("report", help="a short PDF briefing from a comparison batch folder")
    report.add_argument("batch", metavar="BATCH_DIR", help="a folder written by `balkansim compare`")
    report.add_argument("--out", metavar="FILE.pdf",
                        help="the PDF to write (default: BATCH_DIR/briefing.pdf); figures go beside it as PNG and SVG")
    report.add_argument("--calibration", metavar="FILE",
                        help="calibration-fit table (default: calibration/fitted/validation.parquet in BATCH_DIR or "
                             "the current folder, when it exists)")
    report.add_argument("--sensitivity", metavar="FILE",
                        help="sensitivity-index table (default: sensitivity.parquet in BATCH_DIR or the current "
                             "folder, when it exists)")
    report.set_defaults(handler=_report)

    sensitivity = commands.add_parser(
        "sensitivity", help="Morris or Sobol indices of the headline measures from a sweep file (SALib)")
    sensitivity.add_argument("file", nargs="?", help="a sweep file with a morris or sobol design (default: "
                                                     "scenarios/sweeps/sensitivity_morris.toml)")
    sensitivity.add_argument("--days", type=_positive, help="simulate only the first N days of each run")
    _batch_options(sensitivity, "runs/sweep-<name>-<hash>")
    sensitivity.set_defaults(handler=_sensitivity)

    validate = commands.add_parser("validate", help="check a scenario or sweep (.toml) or network (.csv) file")
    validate.add_argument("file", help="scenario TOML, or places.csv / edges.csv of a network")
    validate.set_defaults(handler=_validate)
    return parser


def _batch_options(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument("--workers", type=_positive,
                        help="local worker processes, one Numba thread each (default: one per CPU core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a Dask distributed cluster instead, e.g. tcp://10.0.0.5:8786; the output "
                             "folder must be on storage that every worker can reach")
    parser.add_argument("--out", help=f"batch folder (default: {default_out}, named by what is run, so the same "
                                      "command resumes); a folder holding another batch is refused")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0 or value >= 2**63:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 2**63 - 1")
    return value


def _run(args: argparse.Namespace) -> int:
    from . import DEFAULT_SCENARIO
    from .results import TABLES, simulate
    from .scenario import load_scenario

    scenario_file = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    scenario = load_scenario(scenario_file)
    seed = scenario.seed if args.seed is None else args.seed
    if args.out:
        out = Path(args.out)
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{scenario.name}-seed{seed}-{stamp}"
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} already exists; choose another --out, or --force to replace it "
                              "(nothing was written)")
    if not args.quiet:
        print(f"Running '{scenario.name}' from {scenario_file}: {scenario.start} for "
              f"{args.days or scenario.days} days, seed {seed}", file=sys.stderr)
    result = simulate(scenario, seed=seed, days=args.days, progress=not args.quiet)
    result.save(out, force=args.force)
    if not args.quiet:
        print(result.summary().to_string(index=False))
        print(f"\nResults in {out}/ ({', '.join(TABLES)} as Parquet; manifest.json); "
              f"{result.wall_seconds:.1f} s")
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from .rerun import rerun

    outcome = rerun(args.run_dir, out=args.out, progress=not args.quiet)
    if outcome.ok:
        print(f"identical: all {len(outcome.identical)} tables of {args.run_dir} came out bit for bit the same in "
              f"{outcome.folder}/")
        return 0
    print(f"DIFFERENT: {', '.join(outcome.different)} differ between {args.run_dir} and {outcome.folder}/ "
          f"({len(outcome.identical)} identical)", file=sys.stderr)
    for name, (before, now) in outcome.version_changes.items():
        print(f"  {name}: {before} then, {now} now", file=sys.stderr)
    return EXIT_RUNS_FAILED


def _compare(args: argparse.Namespace) -> int:
    from .compare import Comparison, comparison_batch, default_scenarios

    scenarios = [Path(s) for s in args.scenarios] or default_scenarios()
    batch = comparison_batch(scenarios, replicates=args.replicates, out=args.out, seed=args.seed, days=args.days)
    definition = batch.definition
    if not args.quiet:
        print(f"Comparing {len(scenarios)} scenarios x {definition['replicates']} replicates "
              f"(seeds {definition['root_seed']}..{definition['root_seed'] + definition['replicates'] - 1}; "
              f"baseline '{definition['baseline']}') in {batch.folder}/", file=sys.stderr)
    outcome = batch.run(workers=args.workers, scheduler=args.scheduler, progress=not args.quiet)
    comparison = Comparison(batch.measures(), definition["baseline"], folder=batch.folder, outcome=outcome)
    if not comparison.measures.empty and comparison.baseline in comparison.scenarios:
        comparison.to_parquet(batch.folder / "comparison.parquet")
        print(comparison.table_text())
    return _finish(outcome, batch, "the summary table is comparison.parquet beside it")


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import load_sweep

    sweep = load_sweep(args.file)
    batch = sweep.batch(out=args.out, days=args.days)
    if not args.quiet:
        print(f"Sweep '{sweep.spec.name}': {len(sweep.design)} design points ({sweep.spec.design.kind}) x "
              f"{sweep.spec.replicates} replicates over {', '.join(sweep.keys)}, in {batch.folder}/", file=sys.stderr)
    outcome = batch.run(workers=args.workers, scheduler=args.scheduler, progress=not args.quiet)
    return _finish(outcome, batch, "one row per run and measure, with the parameter values as columns")


def _finish(outcome, batch, what: str) -> int:
    from .compare import describe_outcome

    print(f"\n{describe_outcome(outcome, len(batch.tasks))}.\nMeasures of every run: {batch.folder}/measures/ "
          f"(one Parquet dataset; {what}); run folders in {batch.folder}/runs/", file=sys.stderr)
    if outcome.interrupted:
        print("Interrupted: finished runs are kept; run the same command again to do the rest.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.failures:
        print(f"{len(outcome.failures)} runs failed (listed in {batch.folder}/failures.json); re-run the same "
              "command to retry them.", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from . import SCENARIO_DIR
    from .sensitivity import ranking_text, run_sensitivity

    file = Path(args.file) if args.file else SCENARIO_DIR / "sweeps" / "sensitivity_morris.toml"
    table, batch, outcome = run_sensitivity(file, out=args.out, workers=args.workers, scheduler=args.scheduler,
                                            progress=not args.quiet, days=args.days)
    if table is not None:
        print(ranking_text(table))
        print(f"\nIndices: {batch.folder}/sensitivity.parquet", file=sys.stderr)
    return _finish(outcome, batch, "one row per run and measure, with the parameter values as columns")


def _calibration_inputs(args: argparse.Namespace):
    from . import REPO_DIR
    from .targets import load_targets

    targets = load_targets(Path(args.targets) if args.targets else REPO_DIR / "calibration" / "targets.toml")
    default = Path("runs") / "calibration-quick" if args.quick else REPO_DIR / "calibration" / "fitted"
    return targets, Path(args.out) if args.out else default


def _calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrate

    targets, folder = _calibration_inputs(args)
    settings = targets.spec.quick if args.quick else targets.spec.ensemble
    if not args.quiet:
        print(f"Calibrating {len(targets.keys)} parameters of '{targets.scenario.name}' against "
              f"{len(targets.spec.targets)} series and {sum(t.weight > 0 for t in targets.spec.totals)} weighted "
              f"totals: {settings.members} members x {settings.trials} runs per fit, "
              f"in {folder}/ (re-run the same command to resume)", file=sys.stderr)
    calibrate(targets, folder, quick=args.quick, workers=args.workers, scheduler=args.scheduler,
              progress=not args.quiet)
    print((folder / "report.md").read_text(encoding="utf-8"))
    return 0


def _validate_fit(args: argparse.Namespace) -> int:
    from .validation import validate_fit

    targets, folder = _calibration_inputs(args)
    validate_fit(targets, folder, quick=args.quick, workers=args.workers, scheduler=args.scheduler,
                 progress=not args.quiet)
    print((folder / "report.md").read_text(encoding="utf-8"))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import make_report

    batch = Path(args.batch)
    if not (batch / "batch.json").exists():
        print(f"error: {batch} is not a batch folder (no batch.json); make one with `balkansim compare`",
              file=sys.stderr)
        return EXIT_INPUT_ERROR
    briefing = make_report(batch, out=args.out, calibration=args.calibration, sensitivity=args.sensitivity)
    print(f"Briefing: {briefing.pdf} ({briefing.pages} pages); figures as PNG and SVG beside it: "
          f"{', '.join(briefing.figures)}")
    for what, path in (("calibration", briefing.calibration), ("sensitivity", briefing.sensitivity)):
        print(f"  {what}: {path if path else 'no table found, page left out'}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .network import EDGE_COLUMNS, load_network
    from .scenario import load_scenario
    from .tables import read_text

    path = Path(args.file)
    kind = _toml_kind(path) if path.suffix.lower() == ".toml" else None
    if kind == "targets":
        from .targets import load_targets

        targets = load_targets(path)
        print(f"OK: targets for scenario '{targets.scenario.name}': {len(targets.spec.targets)} series, "
              f"{len(targets.spec.totals)} totals, "
              f"{len(targets.keys)} parameters, fit {targets.spec.fit.months[0]} to {targets.spec.fit.months[1]}")
        return 0
    if kind == "sweep":
        from .sweep import load_sweep

        sweep = load_sweep(path)
        batch = sweep.batch()
        print(f"OK: sweep '{sweep.spec.name}' of {len(sweep.design)} design points x {sweep.spec.replicates} "
              f"replicates = {len(batch.tasks)} runs, on base scenario '{sweep.base.name}'")
        return 0
    if path.suffix.lower() == ".toml":
        scenario = load_scenario(path)
        network = scenario.network
        print(f"OK: scenario '{scenario.name}' ({scenario.start}, {scenario.days} days, "
              f"{len(scenario.spec.groups)} groups) on a network of {network.n_places} places and {network.n_edges} edges")
        return 0
    if path.suffix.lower() == ".csv":
        header = read_text(path).splitlines()[0] if read_text(path).strip() else ""
        is_edges = "from_place" in header and all(c in header for c in EDGE_COLUMNS[:3])
        places = path.with_name("places.csv") if is_edges else path
        edges = path if is_edges else path.with_name("edges.csv")
        network = load_network(places, edges)
        print(f"OK: network of {network.n_places} places ({len(network.entries)} entries, "
              f"{len(network.destinations)} destinations) and {network.n_edges} edges ({places.name}, {edges.name})")
        return 0
    raise InputError(path, "file name", "a .toml scenario or a .csv network file", path.suffix or "no suffix")


def _toml_kind(path: Path) -> str:
    """'sweep', 'targets' or 'scenario', by the file's top-level keys (a file that does not
    parse is left to the scenario loader, which reports the syntax error)."""
    import tomllib

    from .tables import read_text

    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError:
        return "scenario"
    if "design" in data and "base" in data:
        return "sweep"
    if "targets" in data and "parameters" in data:
        return "targets"
    return "scenario"


if __name__ == "__main__":
    sys.exit(main())
