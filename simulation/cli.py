"""The `balkansim` command line.

    balkansim run [SCENARIO] [--seed N] [--days N] [--out DIR]   run one scenario (default: baseline)
    balkansim validate FILE                                       check a scenario or network file
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .errors import InputError

EXIT_INPUT_ERROR = 2


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
    except FileExistsError as error:
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
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", help="check a scenario (.toml) or network (.csv) file")
    validate.add_argument("file", help="scenario TOML, or places.csv / edges.csv of a network")
    validate.set_defaults(handler=_validate)
    return parser


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
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose another --out (nothing was written)")
    if not args.quiet:
        print(f"Running '{scenario.name}' from {scenario_file}: {scenario.start} for "
              f"{args.days or scenario.days} days, seed {seed}", file=sys.stderr)
    result = simulate(scenario, seed=seed, days=args.days, progress=not args.quiet)
    result.save(out)
    if not args.quiet:
        print(result.summary().to_string(index=False))
        print(f"\nResults in {out}/ ({', '.join(TABLES)} as Parquet; manifest.json); "
              f"{result.wall_seconds:.1f} s")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .network import EDGE_COLUMNS, load_network
    from .scenario import load_scenario
    from .tables import read_text

    path = Path(args.file)
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


if __name__ == "__main__":
    sys.exit(main())
