"""A batch of runs in one folder: resumable, on local processes or a Dask cluster.

    <batch>/batch.json        what the batch is (its kind, definition and runs); written once
    <batch>/runs/<run_id>/    one run folder each (Parquet tables, measures.parquet, manifest.json)
    <batch>/measures/         every finished run's measures as one Parquet dataset (hive-partitioned)
    <batch>/failures.json     runs that failed in the last attempt, with scenario, seed and error

Never losing work: a run folder only gets its name when it is complete (tasks.run_task via
RunResult.save), so on a re-run a folder whose manifest matches the run's key and whose files
match their hashes is kept, a half-written folder (".partial-...") is removed and redone, and a
folder that does not verify is moved aside (renamed ".stale-...") and redone. A batch folder
holding a different batch is refused, never overwritten.

Executors: local worker processes (spawned; one Numba thread each) by default, or a Dask
distributed cluster given its scheduler address. Either way each task is plain data (tasks.py)
and the result that comes back is small; the run folders are written by the workers, so on a
cluster the batch folder must be on storage every worker can reach."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from tqdm import tqdm

from . import atomic
from .atomic import swap_in
from .results import PARTIAL_PREFIX
from .tasks import read_manifest, read_measures, run_task, verify_run

BATCH_FILE = "batch.json"
LOCK_FILE = ".lock"  # held while a process runs the batch: two at once would redo each other's runs
STALE_PREFIX = ".stale-"


class BatchConflict(FileExistsError):
    """The output folder exists and holds something other than this batch."""


@dataclass
class BatchOutcome:
    folder: Path
    completed: list[str] = field(default_factory=list)  # run ids finished in this attempt
    reused: list[str] = field(default_factory=list)  # run ids already complete before it
    failures: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted


class Batch:
    """Runs given as tasks (tasks.make_task) under one folder."""

    def __init__(self, folder: str | Path, kind: str, definition: dict[str, Any], tasks: list[dict[str, Any]]):
        self.folder = Path(folder)
        self.kind = kind
        self.definition = definition
        self.tasks = tasks
        ids = [t["run_id"] for t in tasks]
        if len(set(ids)) != len(ids):
            raise ValueError("run ids in a batch must be unique")
        self.key = hashlib.sha256(json.dumps(
            {"kind": kind, "runs": sorted(t["run_key"] for t in tasks)}, sort_keys=True).encode()).hexdigest()

    @classmethod
    def in_folder(cls, out: str | Path | None, default_name: str, kind: str, definition: dict[str, Any],
                  tasks: list[dict[str, Any]]) -> "Batch":
        """The batch in `out`, or by default in runs/<default_name>-<hash of its runs> (named by what
        is run, so the same command resumes); each task is pointed at its run folder."""
        key = hashlib.sha256("".join(sorted(t["run_key"] for t in tasks)).encode()).hexdigest()[:10]
        batch = cls(Path(out) if out else Path("runs") / f"{default_name}-{key}", kind, definition, tasks)
        for task in tasks:
            task["folder"] = str(batch.run_folder(task["run_id"]).resolve())
        return batch

    # ------------------------------------------------------------ folder
    def run_folder(self, run_id: str) -> Path:
        return self.folder / "runs" / run_id

    def prepare(self) -> None:
        """Create the batch folder, or check that an existing one holds this same batch."""
        description = self.folder / BATCH_FILE
        if self.folder.exists():
            if not description.is_file():
                if any(self.folder.iterdir()):
                    raise BatchConflict(f"{self.folder} exists and is not a batch folder; choose another --out "
                                        "(nothing was written)")
            else:
                try:
                    existing = json.loads(description.read_text(encoding="utf-8"))
                except ValueError:
                    raise BatchConflict(f"{description} is not readable JSON; choose another --out") from None
                if existing.get("batch_key") != self.key:
                    raise BatchConflict(
                        f"{self.folder} holds a different batch (other scenarios, seeds, replicates or data); "
                        "choose another --out (nothing was written)")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "runs").mkdir(exist_ok=True)
        if not description.is_file():
            runs = [{"run_id": t["run_id"], "run_key": t["run_key"], "seed": t["seed"], "days": t["days"],
                     "labels": t["labels"]} for t in self.tasks]
            _write_atomically(description, {
                "kind": self.kind, "batch_key": self.key, "created_utc": _now(), "definition": self.definition,
                "runs": runs})

    def pending(self) -> tuple[list[dict[str, Any]], list[str]]:
        """(tasks still to run, run ids already complete and verified). Call it holding the
        batch's lock: it removes what a killed run left half-written."""
        for leftover in (self.folder / "runs").glob(f"{PARTIAL_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)  # a run killed while writing: never complete
        todo, done = [], []
        for task in self.tasks:
            folder = self.run_folder(task["run_id"])
            if verify_run(folder, task["run_key"]):
                done.append(task["run_id"])
                continue
            if folder.exists():  # incomplete, corrupted, or another run's: keep it aside, redo
                folder.rename(folder.with_name(f"{STALE_PREFIX}{folder.name}.{dt.datetime.now():%Y%m%d-%H%M%S}"))
            todo.append(task)
        return todo, done

    # --------------------------------------------------------------- run
    def run(self, workers: int | None = None, scheduler: str | None = None, progress: bool = True) -> BatchOutcome:
        started = time.perf_counter()
        self.prepare()
        with _exclusive(self.folder / LOCK_FILE):
            return self._run(workers, scheduler, progress, started)

    def _run(self, workers: int | None, scheduler: str | None, progress: bool, started: float) -> BatchOutcome:
        todo, done = self.pending()
        outcome = BatchOutcome(self.folder, reused=done)
        if done and progress:
            print(f"{len(done)} of {len(self.tasks)} runs already complete in {self.folder}; running the other "
                  f"{len(todo)}", file=sys.stderr)
        by_id = {t["run_id"]: t for t in todo}
        bar = tqdm(total=len(self.tasks), initial=len(done), desc=f"{self.kind} runs", unit="run",
                   disable=not progress or not todo, smoothing=0.1)
        try:
            for result in task_results(todo, workers=workers, scheduler=scheduler):
                task = by_id[result["run_id"]]
                if result["ok"]:
                    outcome.completed.append(result["run_id"])
                else:
                    failure = {"run_id": task["run_id"], "scenario": task["scenario"]["name"],
                               "scenario_file": task["scenario"]["file"], "seed": task["seed"],
                               "labels": task["labels"], "error": result["error"],
                               "traceback": result.get("traceback")}
                    outcome.failures.append(failure)
                    bar.write(f"run {task['run_id']} failed (scenario {failure['scenario']}, seed {task['seed']}): "
                              f"{result['error']}", file=sys.stderr)
                bar.update(1)
                bar.set_postfix(failed=len(outcome.failures), refresh=False)
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            bar.close()
        outcome.wall_seconds = time.perf_counter() - started
        _write_atomically(self.folder / "failures.json", outcome.failures)
        self.write_dataset()
        return outcome

    # ----------------------------------------------------------- results
    def measures(self) -> pd.DataFrame:
        """Measures of every complete run, with the run's labels as columns."""
        frames = []
        for task in self.tasks:
            folder = self.run_folder(task["run_id"])
            manifest = read_manifest(folder)
            if manifest is None or manifest.get("run_key") != task["run_key"]:
                continue
            table = read_measures(folder)
            for column, value in reversed(list(task["labels"].items())):
                table.insert(0, column, value)
            table.insert(0, "seed", task["seed"])
            table.insert(0, "run_id", task["run_id"])
            frames.append(table)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def write_dataset(self, partition_by: str | None = None) -> Path | None:
        """All complete runs' measures as one Parquet dataset under <batch>/measures/,
        partitioned by the batch's first label (scenario for a comparison, design point for
        a sweep). Replaced as a whole: written aside, then swapped in."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        table = self.measures()
        if table.empty:
            return None
        partition_by = partition_by or next(iter(self.tasks[0]["labels"]))
        target = self.folder / "measures"
        staging = self.folder / f".measures.writing-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        ds.write_dataset(pa.Table.from_pandas(table, preserve_index=False), staging, format="parquet",
                         partitioning=[partition_by], partitioning_flavor="hive",
                         basename_template="part-{i}.parquet")
        swap_in(staging, target, self.folder / f".measures.old-{os.getpid()}")
        return target


@contextlib.contextmanager
def task_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[concurrent.futures.Executor]:
    """A concurrent.futures executor: local worker processes (spawned, not forked: a fork of a
    process whose Numba threads have started is unsafe), or a Dask distributed cluster given its
    scheduler address (through the client's own concurrent.futures interface)."""
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            executor = client.get_executor(pure=False)
            # Large inputs shared by many tasks go to the workers once (see task_results).
            # (In a list: scatter would send a dict's values as separate items, keyed by its keys.)
            executor.share = lambda value: client.scatter([value], broadcast=True, hash=False)[0]
            try:
                yield executor
            finally:
                executor.shutdown(wait=False)
        return
    context = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1),
                                                      mp_context=context)
    try:
        yield executor
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def task_results(tasks: list[dict[str, Any]], workers: int | None = None, scheduler: str | None = None,
                 function: Callable[[dict[str, Any]], dict[str, Any]] = run_task) -> Iterator[dict[str, Any]]:
    """Run tasks (plain data) with `function` on local processes or Dask, yielding results as they
    finish; a task whose worker died comes back as a failed result."""
    if not tasks:
        return
    with task_executor(min(workers or os.cpu_count() or 1, len(tasks)), scheduler) as executor:
        sent = _share_scenarios(executor, tasks)
        futures = {executor.submit(function, task_sent): task for task_sent, task in zip(sent, tasks)}
        try:
            for future in concurrent.futures.as_completed(futures):
                yield result_of(future, futures[future])
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _share_scenarios(executor, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """On Dask, the text of the files a scenario reads (about 120 KB, the bulk of a task, and the
    same for every run of a sweep or comparison that reads the same files) goes to each worker
    once (scattered) and the tasks carry a reference to it, which Dask replaces by the texts on the
    worker. Local processes get the tasks as they are."""
    share = getattr(executor, "share", None)
    if share is None:
        return tasks
    by_content: dict[str, Any] = {}
    content_of: dict[int, str] = {}  # id of a files dict -> digest of its content
    sent = []
    for task in tasks:
        payload = task["scenario"]
        files = payload["files"]
        if id(files) not in content_of:
            digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()
            content_of[id(files)] = digest
            if digest not in by_content:
                by_content[digest] = share(files)
        sent.append(dict(task, scenario=dict(payload, files=by_content[content_of[id(files)]])))
    return sent


def result_of(future, task: dict[str, Any]) -> dict[str, Any]:
    """A finished future's result; a worker that died, or a task that could not be sent, comes
    back as a failed result of that task."""
    try:
        return future.result()
    except Exception as error:
        return {"run_id": task["run_id"], "run_key": task.get("run_key", task["run_id"]), "ok": False,
                "error": f"worker failed: {type(error).__name__}: {error}", "wall_seconds": 0.0}


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (released when the process ends, however it ends)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchConflict(f"another balkansim process is running the batch in {path.parent}; wait for it to "
                                "finish or stop it, then run the command again") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, content: Any) -> None:
    atomic.write_text(path, json.dumps(content, indent=2, default=str) + "\n")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
