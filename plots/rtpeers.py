"""Google Benchmark and hyperfine JSON, as the charts use them.

``parse_micro`` reduces Google Benchmark 1.7's entries (repetitions and their
aggregates) to one ``MicroBench`` per run name; ``parse_hyperfine`` reads
hyperfine 1.15's ``--export-json``.  ``rtresults.load_folder`` calls both.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from rtstats import Stat, is_number, plural

# Time units of Google Benchmark, in seconds.
_GBENCH_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class MicroBench:
    """One Google Benchmark instance: time per iteration, in seconds."""

    name: str                 # the run name, e.g. alloc_free/pool/64
    family: str               # alloc_free
    args: list[str]           # ["pool", "64"]
    seconds: Stat             # median: see ``basis``; min/max: over the repetitions
    basis: str                # "median aggregate" or "median of N iterations"


@dataclass
class MicroFile:
    path: Path
    context: dict
    benches: list[MicroBench]


@dataclass
class HyperfineCommand:
    label: str                # the parameters, or the command when there are none
    command: str
    mean: float
    stddev: Optional[float]
    times: list[float]
    failed: int               # runs with a non-zero exit code


@dataclass
class HyperfineFile:
    path: Path
    commands: list[HyperfineCommand]

    @property
    def name(self) -> str:
        """``threshold`` for ``hyperfine-threshold.json``."""
        stem = self.path.stem
        return stem[len("hyperfine-"):] if stem.startswith("hyperfine-") else stem


_NAME_FLAGS = ("real_time", "manual_time", "process_time")


def _split_bench_name(run_name: str) -> tuple[str, list[str]]:
    """``alloc_free/pool/64/repeats:3/real_time`` -> (``alloc_free``, [pool, 64])."""
    parts = run_name.split("/")
    args = [p for p in parts[1:] if ":" not in p and p not in _NAME_FLAGS]
    return parts[0], args


def parse_micro(data: dict, path: Path, notes: list[str]) -> MicroFile:
    """Reduce Google Benchmark 1.7 entries to one MicroBench per run name."""
    iterations: dict[str, list[float]] = {}
    medians: dict[str, float] = {}
    means: dict[str, float] = {}
    for entry in data["benchmarks"]:
        if not isinstance(entry, dict):
            continue
        run_name = str(entry.get("run_name") or entry.get("name", "?"))
        if entry.get("error_occurred"):
            notes.append(f"{path}: {run_name}: benchmark error: {entry.get('error_message')}")
            continue
        scale = _GBENCH_UNITS.get(entry.get("time_unit", "ns"))
        value = entry.get("real_time")
        if scale is None or not is_number(value):
            continue                  # BigO/RMS rows, or a unit we do not know
        seconds = value * scale
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_unit", "time") != "time":
                continue              # the coefficient of variation
            if entry.get("aggregate_name") == "median":
                medians[run_name] = seconds
            elif entry.get("aggregate_name") == "mean":
                means[run_name] = seconds
        else:
            iterations.setdefault(run_name, []).append(seconds)
    benches = []
    for run_name in dict.fromkeys([*iterations, *medians, *means]):
        benches.append(_micro_bench(run_name, iterations.get(run_name, []),
                                    medians.get(run_name), means.get(run_name)))
    return MicroFile(path, data.get("context") or {}, benches)


def _micro_bench(run_name: str, reps: list[float], median: Optional[float],
                 mean: Optional[float]) -> MicroBench:
    family, args = _split_bench_name(run_name)
    if median is not None:
        centre, basis = median, "median aggregate"
    elif reps:
        centre = statistics.median(reps)
        basis = f"median of {plural(len(reps), 'repetition')}"
    else:
        centre, basis = mean, "mean aggregate"
    low = min(reps) if reps else centre
    high = max(reps) if reps else centre
    return MicroBench(run_name, family, args,
                      Stat(max(len(reps), 1), centre, min(low, centre), max(high, centre),
                           tuple(sorted(reps))),
                      basis)


def parse_hyperfine(data: dict, path: Path) -> HyperfineFile:
    commands = []
    for i, res in enumerate(data["results"]):
        if not isinstance(res, dict) or not is_number(res.get("mean")):
            raise ValueError(f"results[{i}] has no numeric 'mean'")
        params = res.get("parameters") or {}
        command = str(res.get("command", f"command {i + 1}"))
        label = " ".join(f"{k}={v}" for k, v in params.items()) or command
        times = [float(t) for t in res.get("times") or [] if is_number(t)]
        codes = res.get("exit_codes") or []
        stddev = res.get("stddev")
        commands.append(HyperfineCommand(
            label, command, float(res["mean"]),
            float(stddev) if is_number(stddev) else None, times,
            sum(1 for c in codes if c not in (0, None))))
    return HyperfineFile(path, commands)
