"""The fixture results folder of the plot tests, built from Python dicts.

The dicts follow the result schema of results/README.md (rtbench/1), Google
Benchmark 1.7.1's JSON and hyperfine 1.15's --export-json output.
``make_fixture.py`` writes the same folder for a person to look at.
"""

from __future__ import annotations

import atexit
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PLOTS = Path(__file__).resolve().parent.parent

MIB = 1024 * 1024

MACHINE = {
    "hostname": "ci-1", "cpu_model": "AMD EPYC 7763 64-Core Processor", "cores": 2,
    "kernel": "6.1.0-13-amd64", "compiler": "gcc 12.2.0", "cflags": "-O2 -g -DNDEBUG",
    "build_type": "Release", "git_commit": "abc1234", "governor": "unknown",
    "aslr": 2, "load_avg": [0.1, 1.0029296875, 0.3],
}

# The workloads of the fixture: README default params, a typical time and peak RSS.
WORKLOADS = {
    "cycle_storm": ({"n": 100000, "ring": 8, "rounds": 3}, 0.41, 118 * MIB),
    "fragmentation": ({"n": 1000000, "keep": 10, "seed": 1}, 0.92, 430 * MIB),
    "long_lived": ({"m": 200000, "n": 1000000}, 0.63, 96 * MIB),
}
RC_COST = {"nonatomic": (1.0, 1.0), "atomic": (1.09, 1.0)}
ALLOC_COST = {"pool": (1.0, 1.0), "malloc": (1.16, 1.22)}
SWEEP_T0 = (100, 300, 700, 2000, 10000)


# ---------------------------------------------------------------------------
# Building the fixture


def _run_name(workload: str, params: dict, config: dict) -> str:
    t0, t1, t2 = config["threshold"]
    parts = [workload] + [f"{k}:{v}" for k, v in params.items()]
    parts += [f"t0:{t0}", f"t1:{t1}", f"t2:{t2}", "gc:on" if config["gc"] else "gc:off"]
    if config["rc"]:
        parts += [f"rc:{config['rc']}", f"alloc:{config['alloc']}"]
    else:
        parts.append("cpython")
    return "/".join(parts)


def _timeline(workload: str, wall: float, peak: int, rng: random.Random) -> dict:
    """A plausible RSS curve: a sawtooth per round, or fragmentation's plateau."""
    interval = 0.005
    steps = int(wall / interval) + 1
    base = 9 * MIB
    t_s, rss = [], []
    for i in range(steps):
        x = i / (steps - 1)
        if workload == "fragmentation":
            level = min(x / 0.45, 1.0) if x < 0.75 else 0.62 - 0.5 * (x - 0.75)
        else:
            level = (x * 3) % 1.0
        t_s.append(round(i * interval, 6))
        rss.append(int(base + (peak - base) * level * rng.uniform(0.985, 1.0)))
    return {"interval_s": interval, "t_s": t_s, "rss_bytes": rss}


def _pauses(t0: int, wall: float, rng: random.Random) -> dict:
    """GC pauses whose number falls and whose length grows with threshold0."""
    young = max(3, int(90000 / t0))
    seconds, generation = [], []
    for i in range(young):
        gen = 2 if i % 100 == 99 else (1 if i % 10 == 9 else 0)
        scale = (3e-6 + t0 * 2.2e-8) * (1, 4, 60)[gen]
        seconds.append(scale * rng.lognormvariate(0, 0.35))
        generation.append(gen)
    seconds.append(0.004 * rng.uniform(0.9, 1.1))        # the final full collection
    generation.append(2)
    starts = [round(wall * (i + 0.5) / len(seconds), 6) for i in range(len(seconds))]
    ranked = sorted(seconds)

    def quantile(q: float) -> float:
        return ranked[min(len(ranked) - 1, int(q * len(ranked)))]

    return {"count": len(seconds), "total_s": sum(seconds), "p50_s": quantile(0.5),
            "p90_s": quantile(0.9), "p99_s": quantile(0.99), "max_s": ranked[-1],
            "seconds": seconds, "generation": generation, "t_s": starts}


def _marks(workload: str, wall: float, peak: int) -> list:
    if workload != "fragmentation":
        return []
    points = (("allocated", 0.45, 1.0), ("freed", 0.75, 0.97),
              ("collected", 0.8, 0.6), ("dropped", 0.98, 0.5))
    return [{"name": name, "t_s": round(wall * x, 4), "rss_bytes": int(peak * level),
             "live_bytes": int(200 * MIB * (1.0 if name == "allocated" else 0.1))}
            for name, x, level in points]


def _sample(index: int, workload: str, config: dict, wall: float, peak: int,
            rng: random.Random, cpython: bool = False) -> dict:
    wall *= rng.uniform(0.97, 1.04)
    peak = int(peak * rng.uniform(0.99, 1.01))
    pauses = _pauses(config["threshold"][0], wall, rng)
    gens = [pauses["generation"].count(g) for g in range(3)]
    return {
        "index": index, "status": "ok", "error": None,
        "wall_s": wall, "process_wall_s": wall + 0.035,
        "user_s": wall * 0.95, "sys_s": wall * 0.05,
        "peak_rss_bytes": peak, "final_rss_bytes": 11 * MIB,
        "minflt": int(peak / 4096), "majflt": 0,
        "rss_timeline": _timeline(workload, wall, peak, rng),
        "gc": {"collections": gens, "collected": [0, 0, 3000],
               "uncollectable": [0, 0, 0], "pauses": pauses},
        "alloc": None if cpython else {
            "backend": config["alloc"], "blocks_peak": peak // 64,
            "arenas_peak": peak // (1 << 20), "arenas_released": 3,
            "arenas_current": 1, "pools_peak": peak // 16384, "large_peak": 2},
        "profile": None if cpython else {
            "types": [{"name": "Node", "live_peak": 800000, "bytes_peak": 32000000,
                       "allocated": 2400000}],
            "size_classes": [{"size": 32, "blocks": 800000, "pools": 6250}]},
        "marks": _marks(workload, wall, peak),
        "result": {"check": 300000},
        # Fields of later result files (issue 14): the plots read past them.
        "load": {"load_avg": [0.2, 0.25, 0.3], "running": 1},
        "instructions": int(wall * 3e9),
        **({"python": {"version": "3.11.2 (main, Apr 28 2025) [GCC 12.2.0]",
                       "executable": "/usr/bin/python3", "implementation": "cpython"}}
           if cpython else {}),
    }


def _summary(samples: list) -> dict:
    """The README's STAT block over the ok samples."""
    def stat(values):
        values = [v for v in values if v is not None]
        if not values:
            return {"n": 0, "median": None, "min": None, "max": None,
                    "mean": None, "stdev": None}
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)
        return {"n": len(values), "median": statistics.median(values),
                "min": min(values), "max": max(values), "mean": mean,
                "stdev": math.sqrt(var)}

    ok = [s for s in samples if s["status"] == "ok"]
    out = {k: stat([s[k] for s in ok])
           for k in ("wall_s", "user_s", "sys_s", "peak_rss_bytes", "final_rss_bytes")}
    out["gc_pause_p99_s"] = stat([s["gc"]["pauses"]["p99_s"] for s in ok])
    out["gc_pause_total_s"] = stat([s["gc"]["pauses"]["total_s"] for s in ok])
    out["gc_collections"] = [stat([s["gc"]["collections"][g] for s in ok])
                             for g in range(3)]
    return out


def make_run(workload: str, config: dict, rng: random.Random, repeat: int = 3,
             wall: float | None = None, peak: int | None = None,
             params: dict | None = None) -> dict:
    default_params, base_wall, base_peak = WORKLOADS[workload]
    params = params or default_params
    cpython = config["rc"] is None
    samples = [_sample(i, workload, config, wall or base_wall, peak or base_peak,
                       rng, cpython) for i in range(repeat)]
    return {
        "name": _run_name(workload, params, config),
        "implementation": "cpython" if cpython else "rtbench",
        "workload": workload, "params": dict(params), "config": config,
        "repeat": repeat, "samples": samples, "summary": _summary(samples),
        "warnings": [{"kind": "noise", "message": "wall time spread 12% of the median"}]
        if workload == "fragmentation" and cpython else [],
    }


def _config(t0=700, rc="nonatomic", alloc="pool", python=None) -> dict:
    return {"threshold": [t0, 10, 10], "gc": True, "rc": rc, "alloc": alloc,
            "python": python}


def _file(kind: str, command: list, runs: list) -> dict:
    return {"schema": "rtbench/1", "tool": "rtbench 0.1.0", "kind": kind,
            "created": "2026-11-23T12:00:00Z", "command": command, "complete": True,
            "machine": dict(MACHINE), "runs": runs}


def run_file(rng: random.Random) -> dict:
    runs = []
    for workload in ("cycle_storm", "fragmentation"):
        _, wall, peak = WORKLOADS[workload]
        for rc, (rc_t, rc_m) in RC_COST.items():
            for alloc, (al_t, al_m) in ALLOC_COST.items():
                runs.append(make_run(workload, _config(rc=rc, alloc=alloc), rng,
                                     wall=wall * rc_t * al_t, peak=int(peak * rc_m * al_m)))
    return _file("run", ["rtbench", "run", "cycle_storm", "fragmentation",
                         "--rc", "nonatomic,atomic", "--alloc", "pool,malloc"], runs)


def sweep_file(rng: random.Random) -> dict:
    runs = []
    for workload, rcs in (("cycle_storm", ("nonatomic", "atomic")),
                          ("long_lived", ("nonatomic",))):
        _, wall, peak = WORKLOADS[workload]
        for rc in rcs:
            for t0 in SWEEP_T0:
                speed = 0.7 + 0.6 * (100 / t0) ** 0.5
                growth = 0.85 + 0.15 * math.log10(t0 / 100) ** 1.5
                runs.append(make_run(workload, _config(t0=t0, rc=rc), rng,
                                     wall=wall * speed * RC_COST[rc][0],
                                     peak=int(peak * growth)))
    return _file("sweep", ["rtbench", "sweep", "cycle_storm", "long_lived",
                           "--threshold0", ",".join(map(str, SWEEP_T0))], runs)


# fragmentation meets CPython at a smaller size than its default.
CPYTHON_PARAMS = {"fragmentation": {"n": 200000, "keep": 10, "seed": 1}}
PAIR_WALL = 1.25          # the pair's time against the run file's: tells them apart


def cpython_file(rng: random.Random) -> dict:
    """As 'rtbench cpython' writes it: each twin beside its rtbench pair, except
    long_lived's twin, which pairs with the sweep's default point."""
    python = "/usr/bin/python3"
    runs = []
    for workload, (slow, fat) in (("cycle_storm", (2.1, 1.35)),
                                  ("fragmentation", (1.4, 1.1)),
                                  ("long_lived", (1.8, 1.2))):
        _, wall, peak = WORKLOADS[workload]
        params = CPYTHON_PARAMS.get(workload)
        scale = 0.2 if params else 1.0
        if workload != "long_lived":
            runs.append(make_run(workload, _config(), rng, params=params,
                                 wall=wall * scale * PAIR_WALL, peak=int(peak * scale)))
        runs.append(make_run(workload, _config(rc=None, alloc=None, python=python),
                             rng, wall=wall * scale * slow, peak=int(peak * scale * fat),
                             params=params))
    return _file("cpython", ["rtbench", "cpython", "cycle_storm", "fragmentation",
                             "long_lived"], runs)


def micro_file(rng: random.Random) -> dict:
    """Google Benchmark 1.7.1 JSON: 3 repetitions and their aggregates."""
    def entry(name, family, instance, rep, kind, value, aggregate=None):
        item = {"name": name if kind == "iteration" else f"{name}_{aggregate}",
                "family_index": family, "per_family_instance_index": instance,
                "run_name": name, "run_type": kind, "repetitions": 3}
        if kind == "iteration":
            item["repetition_index"] = rep
        item["threads"] = 1
        if kind == "aggregate":
            item["aggregate_name"] = aggregate
            item["aggregate_unit"] = "percentage" if aggregate == "cv" else "time"
        item.update({"iterations": 1000000 if kind == "iteration" else 3,
                     "real_time": value, "cpu_time": value, "time_unit": "ns"})
        return item

    costs = {"pool": 6.0, "malloc": 14.0, "debug": 41.0}
    specs = []
    for fam, family in ((0, "alloc_free"), (1, "alloc_free_random")):
        for backend, cost in costs.items():
            for size in (16, 64, 256):
                specs.append((fam, f"{family}/{backend}/{size}",
                              cost * (1 + fam * 0.6) * (1 + size / 1024)))
    specs += [(2, "incref_decref/nonatomic", 0.9), (2, "incref_decref/atomic", 5.2),
              (3, "gc_collect_live/1000", 5.1e3), (3, "gc_collect_live/100000", 7.4e5)]
    benchmarks = []
    instance = {}
    for fam, name, cost in specs:
        idx = instance[fam] = instance.get(fam, -1) + 1
        reps = [cost * rng.uniform(0.97, 1.05) for _ in range(3)]
        benchmarks += [entry(name, fam, idx, r, "iteration", v) for r, v in enumerate(reps)]
        mean = sum(reps) / 3
        sd = math.sqrt(sum((v - mean) ** 2 for v in reps) / 2)
        for agg, value in (("mean", mean), ("median", sorted(reps)[1]),
                           ("stddev", sd), ("cv", sd / mean)):
            benchmarks.append(entry(name, fam, idx, 0, "aggregate", value, agg))
    return {
        "context": {
            "date": "2026-11-23T12:05:00+00:00", "host_name": "ci-1",
            "executable": "build/release/harness/rtbench_micro", "num_cpus": 2,
            "mhz_per_cpu": 2445, "cpu_scaling_enabled": False, "aslr_enabled": True,
            "caches": [{"type": "Data", "level": 1, "size": 32768, "num_sharing": 1}],
            "load_avg": [0.2, 0.25, 0.3], "library_build_type": "release",
            "json_schema_version": 1},
        "benchmarks": benchmarks,
    }


def hyperfine_file(rng: random.Random) -> dict:
    """hyperfine 1.15 --export-json over a parameter scan of threshold0."""
    results = []
    for t0, mean in (("100", 0.52), ("700", 0.46), ("10000", 0.44)):
        times = [mean * rng.uniform(0.96, 1.06) for _ in range(5)]
        avg = sum(times) / len(times)
        results.append({
            "command": f"build/release/rtbench run cycle_storm --threshold0 {t0}",
            "mean": avg, "stddev": math.sqrt(sum((t - avg) ** 2 for t in times) / 4),
            "median": sorted(times)[2], "user": avg * 0.93, "system": avg * 0.06,
            "min": min(times), "max": max(times), "times": times,
            "exit_codes": [0] * len(times), "parameters": {"threshold0": t0}})
    return {"results": results}


def threads_file(rng: random.Random) -> dict:
    """The suite's threads.json: cycle_storm's atomic variant at 2 threads
    (its one-thread run is run_file's, whose params have no threads)."""
    params, wall, peak = WORKLOADS["cycle_storm"]
    run = make_run("cycle_storm", _config(rc="atomic"), rng, wall=wall * RC_COST["atomic"][0] / 1.6,
                   peak=int(peak * 1.3), params=dict(params, threads=2))
    return _file("run", ["rtbench", "suite"], [run])


def build_fixture(folder: Path, seed: int = 7) -> Path:
    """Write a complete results folder (every input the charts use) into ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"run-20261123T120000Z.json": run_file(rng),
             "sweep-20261123T120100Z.json": sweep_file(rng),
             "cpython-20261123T120200Z.json": cpython_file(rng),
             "micro.json": micro_file(rng),
             "hyperfine-threshold0.json": hyperfine_file(rng),
             "threads.json": threads_file(rng)}
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data, indent=1) + "\n")
    return folder


def break_samples(folder: Path) -> None:
    """Make one sample crash and another go missing in the run file of ``folder``."""
    path = folder / "run-20261123T120000Z.json"
    data = json.loads(path.read_text())
    crashed = data["runs"][3]["samples"][2]          # cycle_storm atomic/malloc
    for key in ("wall_s", "process_wall_s", "user_s", "sys_s", "peak_rss_bytes",
                "final_rss_bytes", "rss_timeline", "gc", "alloc", "profile", "result"):
        crashed[key] = None
    crashed.update(status="crashed", error="killed by signal 11 (SIGSEGV)", marks=[])
    data["runs"][4]["samples"].pop()                 # fragmentation nonatomic/pool
    data["complete"] = False
    path.write_text(json.dumps(data))


_CHARTED: dict = {}


def charted_fixture() -> tuple[Path, subprocess.CompletedProcess]:
    """The fixture folder charted once by plot.py (PNG, SVG, summary, report) for
    every test of the process that only reads it; removed at exit."""
    if not _CHARTED:
        tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        atexit.register(tmp.cleanup)
        folder = build_fixture(Path(tmp.name) / "results")
        done = subprocess.run([sys.executable, str(PLOTS / "plot.py"), str(folder)],
                              capture_output=True, text=True, timeout=600)
        _CHARTED.update(dir=folder, plot=done)
    return _CHARTED["dir"], _CHARTED["plot"]
