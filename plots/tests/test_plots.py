"""Tests of plots/plot.py, plots/summary.py and plots/rtresults.py.

Run from the repository root with the Debian interpreter (it has matplotlib):

    /usr/bin/python3 -m unittest discover -s plots/tests

The fixture folders are built here from Python dicts that follow the result schema
of results/README.md (rtbench/1), Google Benchmark 1.7.1's JSON and hyperfine
1.15's --export-json output.  ``make_fixture.py`` writes the same folder for a
person to look at.
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLOTS = HERE.parent
sys.path.insert(0, str(PLOTS))

import rtresults  # noqa: E402  (after the path set-up)

MIB = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

MACHINE = {
    "hostname": "ci-1", "cpu_model": "AMD EPYC 7763 64-Core Processor", "cores": 2,
    "kernel": "6.1.0-13-amd64", "compiler": "gcc 12.2.0", "cflags": "-O2 -g -DNDEBUG",
    "build_type": "Release", "git_commit": "abc1234", "governor": "unknown",
    "aslr": 2, "load_avg": [0.1, 0.2, 0.3],
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
    ranked = sorted(seconds)

    def quantile(q: float) -> float:
        return ranked[min(len(ranked) - 1, int(q * len(ranked)))]

    return {"count": len(seconds), "total_s": sum(seconds), "p50_s": quantile(0.5),
            "p90_s": quantile(0.9), "p99_s": quantile(0.99), "max_s": ranked[-1],
            "seconds": seconds, "generation": generation}


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
        "warnings": [],
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


def build_fixture(folder: Path, seed: int = 7) -> Path:
    """Write a complete results folder (every input the charts use) into ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"run-20261123T120000Z.json": run_file(rng),
             "sweep-20261123T120100Z.json": sweep_file(rng),
             "cpython-20261123T120200Z.json": cpython_file(rng),
             "micro.json": micro_file(rng),
             "hyperfine-threshold0.json": hyperfine_file(rng)}
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


# ---------------------------------------------------------------------------
# The tests

EXPECTED_CHARTS = [
    "sweep_all", "sweep_cycle_storm", "sweep_long_lived",
    "pareto_cycle_storm", "pareto_long_lived",
    "gc_pause_cdf_cycle_storm", "gc_pause_cdf_long_lived",
    "variants", "rss_timeline_cycle_storm", "rss_timeline_fragmentation",
    "rss_timeline_long_lived", "vs_cpython", "micro", "micro_other",
    "hyperfine_threshold0",
]


def summary_tables(text: str) -> dict[str, list[str]]:
    """The table lines of each '## ' section of a summary that has a table."""
    tables: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("|"):
            tables.setdefault(title, []).append(line)
    return tables


def run_script(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PLOTS / script), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


class Fixture(unittest.TestCase):
    """A temporary fixture folder per test class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        cls.dir = build_fixture(Path(cls.tmp.name) / "results")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()


class TestFullFolder(Fixture):
    """Every chart and the summary from a complete folder."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plot = run_script("plot.py", cls.dir)
        cls.summary = run_script("summary.py", cls.dir)

    def test_plot_succeeds(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        self.assertEqual(self.plot.stderr, "")

    def test_every_chart_in_both_formats(self):
        charts = self.dir / "charts"
        for name in EXPECTED_CHARTS:
            for fmt in ("png", "svg"):
                path = charts / f"{name}.{fmt}"
                with self.subTest(chart=path.name):
                    self.assertTrue(path.is_file(), self.plot.stdout)
                    self.assertGreater(path.stat().st_size, 1000)
            self.assertEqual((charts / f"{name}.png").read_bytes()[:8], PNG_SIGNATURE)
            self.assertIn(b"<svg", (charts / f"{name}.svg").read_bytes()[:1000])

    def test_no_unexpected_chart(self):
        names = {p.stem for p in (self.dir / "charts").iterdir()}
        self.assertEqual(names, set(EXPECTED_CHARTS))

    def test_charts_listed_on_stdout(self):
        listed = {Path(line).name for line in self.plot.stdout.split()}
        self.assertIn("variants.png", listed)
        self.assertIn("vs_cpython.svg", listed)

    def test_summary_has_a_row_per_workload(self):
        self.assertEqual(self.summary.returncode, 0, self.summary.stderr)
        text = (self.dir / "summary.md").read_text()
        tables = summary_tables(text)
        self.assertEqual(list(tables), ["Configurations", "rtbench against CPython"])
        for title, rows in tables.items():
            for workload in WORKLOADS:
                with self.subTest(table=title, workload=workload):
                    self.assertEqual(sum(r.startswith(f"| {workload} ") for r in rows), 1)
        self.assertIn("abc1234", text)
        self.assertLess(len(text.encode()), 1 << 20)

    def test_summary_tables_are_well_formed(self):
        for title, table in summary_tables((self.dir / "summary.md").read_text()).items():
            with self.subTest(table=title):
                widths = {l.count("|") - l.count("\\|") for l in table}
                self.assertEqual(len(widths), 1, table)
                self.assertRegex(table[1], r"^\|( ?:?-+:? ?\|)+$")

    def test_summary_best_thresholds(self):
        rows = summary_tables((self.dir / "summary.md").read_text())["Configurations"]
        row = next(l for l in rows if l.startswith("| cycle_storm "))
        self.assertIn("10000", row)                   # best threshold0 for time
        self.assertIn("100 ", row)                    # best threshold0 for RSS
        frag = next(l for l in rows if l.startswith("| fragmentation "))
        self.assertIn("n=1000000", frag)              # the default size, not CPython's

    def test_summary_cpython_ratios_use_the_pair(self):
        rows = summary_tables((self.dir / "summary.md").read_text())["rtbench against CPython"]
        cells = {r.split(" | ")[0][2:]: r.split(" | ") for r in rows[2:]}
        # cycle_storm: the pair (PAIR_WALL slower than the run) over the twin
        # (2.1x the run): about 0.60, where the run would give about 0.48.
        ratio = float(cells["cycle_storm"][5].rstrip("×"))
        self.assertAlmostEqual(ratio, PAIR_WALL / 2.1, delta=0.05)
        self.assertEqual(cells["fragmentation"][1], "n=200000 keep=10 seed=1")
        self.assertIn("/usr/bin/python3 3.11.2", "\n".join(rows) +
                      (self.dir / "summary.md").read_text())

    def test_summary_says_nothing_of_the_expected_duplicate(self):
        self.assertNotIn("in both", self.summary.stderr)
        self.assertNotIn("in both", (self.dir / "summary.md").read_text())


def rounded_svg(path: Path) -> str:
    """An SVG's text with its coordinates rounded to 3 decimals.

    Matplotlib writes coordinates with 6 decimals; the last one can flip between
    two processes (floating-point sums in numpy depend on memory alignment), which
    is noise, not a date or a random id.
    """
    return re.sub(r"-?\d+\.\d+", lambda m: f"{float(m.group()):.3f}", path.read_text())


class TestReferenceCopy(Fixture):
    """scripts/reference-results: a small copy that still charts."""

    def test_pauses_thinned_statistics_kept(self):
        dest = Path(self.tmp.name) / "reference"
        done = subprocess.run([sys.executable, str(PLOTS.parent / "scripts" / "reference-results"),
                               str(self.dir), str(dest), "--max-pauses", "5"],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        name = "sweep-20261123T120100Z.json"
        before = json.loads((self.dir / name).read_text())["runs"][0]["samples"][0]
        after = json.loads((dest / name).read_text())["runs"][0]["samples"][0]
        pauses = after["gc"]["pauses"]
        self.assertGreater(before["gc"]["pauses"]["count"], 5)
        arrays = [k for k in ("seconds", "t_s", "generation") if k in before["gc"]["pauses"]]
        self.assertIn("generation", arrays)
        self.assertEqual([len(pauses[k]) for k in arrays], [5] * len(arrays))
        self.assertTrue(pauses["subsampled"])
        for key in ("count", "total_s", "p50_s", "p99_s", "max_s"):
            self.assertEqual(pauses[key], before["gc"]["pauses"][key])
        self.assertEqual(pauses["seconds"][0], before["gc"]["pauses"]["seconds"][0])
        self.assertEqual((dest / "micro.json").read_bytes(), (self.dir / "micro.json").read_bytes())
        charted = run_script("plot.py", dest, "--format", "png")
        self.assertEqual(charted.returncode, 0, charted.stderr)
        self.assertTrue((dest / "charts" / "gc_pause_cdf_cycle_storm.png").is_file())

    def test_missing_source_is_an_error(self):
        done = subprocess.run([sys.executable, str(PLOTS.parent / "scripts" / "reference-results"),
                               str(Path(self.tmp.name) / "nowhere"), str(Path(self.tmp.name) / "x")],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a results folder", done.stderr)


class TestStableOutput(Fixture):
    """The same input gives the same files: no dates, versions or random ids."""

    def test_twice_the_same_files(self):
        first, second = Path(self.tmp.name) / "a", Path(self.tmp.name) / "b"
        for out in (first, second):
            done = run_script("plot.py", self.dir, "--out", out)
            self.assertEqual(done.returncode, 0, done.stderr)
        for path in sorted(first.iterdir()):
            with self.subTest(chart=path.name):
                if path.suffix == ".svg":
                    self.assertNotIn("<dc:date>", path.read_text())
                    self.assertEqual(rounded_svg(path), rounded_svg(second / path.name))
                else:
                    self.assertNotIn(b"Software", path.read_bytes())
                    self.assertEqual(path.read_bytes(), (second / path.name).read_bytes())


class TestFailedSamples(Fixture):
    """A crashed sample and a missing one: chart the rest and say so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        break_samples(cls.dir)
        cls.plot = run_script("plot.py", cls.dir, "--format", "png")
        cls.summary = run_script("summary.py", cls.dir)

    def test_charts_what_is_there(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        for name in ("variants", "rss_timeline_fragmentation", "vs_cpython"):
            self.assertTrue((self.dir / "charts" / f"{name}.png").is_file())
        self.assertFalse((self.dir / "charts" / "variants.svg").exists())

    def test_problems_on_stderr(self):
        err = self.plot.stderr
        self.assertRegex(err, r"plot: cycle_storm/.*rc:atomic/alloc:malloc: "
                              r"1 of 3 samples failed \(crashed\); charting 2")
        self.assertRegex(err, r"plot: fragmentation/.*rc:nonatomic/alloc:pool: "
                              r"1 of 3 samples missing; charting 2")
        self.assertIn("complete: false", err)
        for line in err.splitlines():
            self.assertTrue(line.startswith("plot: "), line)

    def test_summary_warns(self):
        text = (self.dir / "summary.md").read_text()
        self.assertIn("1 of 3 samples failed (crashed)", text)
        self.assertIn("SIGSEGV", text)


class TestBadFiles(Fixture):
    """Unreadable files are named, skipped, and make the exit status 1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        good = (cls.dir / "run-20261123T120000Z.json").read_text()
        (cls.dir / "truncated.json").write_text(good[:2000])
        (cls.dir / "other.json").write_text(json.dumps({"schema": "rtbench/2", "runs": []}))
        cls.plot = run_script("plot.py", cls.dir, "--format", "png")
        cls.summary = run_script("summary.py", cls.dir)

    def test_exit_status_1(self):
        self.assertEqual(self.plot.returncode, 1, self.plot.stderr)
        self.assertEqual(self.summary.returncode, 1, self.summary.stderr)

    def test_named_errors(self):
        err = self.plot.stderr
        self.assertRegex(err, r"plot: .*truncated\.json: not valid JSON \(line \d+, "
                              r"column \d+: [^)]+\)")
        self.assertRegex(err, r"plot: .*other\.json: schema 'rtbench/2', "
                              r"expected 'rtbench/1'")

    def test_rest_still_charted(self):
        for name in EXPECTED_CHARTS:
            self.assertTrue((self.dir / "charts" / f"{name}.png").is_file(), name)


class TestMissingInputs(unittest.TestCase):
    """Empty, missing and partial folders."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_missing_folder_exits_2(self):
        for script in ("plot.py", "summary.py"):
            done = run_script(script, self.root / "nope")
            self.assertEqual(done.returncode, 2, script)
            self.assertIn("no such directory", done.stderr)

    def test_empty_folder_exits_2(self):
        for script in ("plot.py", "summary.py"):
            done = run_script(script, self.root)
            self.assertEqual(done.returncode, 2, script)
            self.assertIn("no usable result file", done.stderr)

    def test_only_a_corrupt_file_exits_2(self):
        (self.root / "run.json").write_text('{"schema": "rtbench/1",')
        done = run_script("plot.py", self.root)
        self.assertEqual(done.returncode, 2)
        self.assertIn("run.json: not valid JSON", done.stderr)

    def test_micro_only(self):
        (self.root / "micro.json").write_text(json.dumps(micro_file(random.Random(1))))
        done = run_script("plot.py", self.root, "--format", "svg")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(sorted(p.name for p in (self.root / "charts").iterdir()),
                         ["micro.svg", "micro_other.svg"])
        self.assertIn("plot: no sweep runs", done.stderr)
        self.assertIn("plot: no hyperfine", done.stderr)


class TestOddRuns(unittest.TestCase):
    """Runs with no ok sample, two params of one workload, pause timestamps."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        cls.dir = Path(cls.tmp.name)
        rng = random.Random(3)
        good = make_run("cycle_storm", _config(), rng)
        for sample in good["samples"]:            # the optional pause start times
            count = sample["gc"]["pauses"]["count"]
            sample["gc"]["pauses"]["t_s"] = [sample["wall_s"] * i / count
                                             for i in range(count)]
        dead = make_run("cycle_storm", _config(rc="atomic"), rng)
        for sample in dead["samples"]:
            sample.update(status="timeout", error="timed out after 60 s", wall_s=None,
                          peak_rss_bytes=None, rss_timeline=None, gc=None)
        small = make_run("cycle_storm", _config(), rng)
        small["params"] = {"n": 5000, "ring": 8, "rounds": 3}
        small["name"] = _run_name("cycle_storm", small["params"], small["config"])
        (cls.dir / "run.json").write_text(json.dumps(_file("run", ["rtbench"],
                                                           [good, dead, small])))
        cls.plot = run_script("plot.py", cls.dir, "--format", "png")
        cls.summary = run_script("summary.py", cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_charts(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        names = sorted(p.name for p in (self.dir / "charts").iterdir())
        self.assertEqual(names, [
            "rss_timeline_cycle_storm_n-100000_ring-8_rounds-3.png",
            "rss_timeline_cycle_storm_n-5000_ring-8_rounds-3.png", "variants.png"])

    def test_dead_run_reported(self):
        self.assertRegex(self.plot.stderr, r"rc:atomic/alloc:pool: 3 of 3 samples failed "
                                           r"\(timeout x3\); no ok sample: left out")
        self.assertNotIn("Warning", self.plot.stderr)      # no matplotlib warnings

    def test_summary_rows_per_params(self):
        text = (self.dir / "summary.md").read_text()
        self.assertIn("| cycle_storm | n=100000 ring=8 rounds=3 |", text)
        self.assertIn("| cycle_storm | n=5000 ring=8 rounds=3 |", text)
        self.assertIn("timed out after 60 s", text)


class TestResultsModule(unittest.TestCase):
    """The shared loading code on its own."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        cls.results = rtresults.load_folder(build_fixture(Path(cls.tmp.name)))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_roles(self):
        roles = {r.role for r in self.results.runs}
        self.assertEqual(roles, {"run", "sweep", "pair", "cpython"})
        self.assertEqual(len(self.results.select("run")), 8)
        self.assertEqual(len(self.results.select("sweep")), 15)
        self.assertEqual(len(self.results.select("pair")), 2)
        # cycle_storm's pair repeats a configuration of the run file: no note.
        self.assertEqual(self.results.notes, [])

    def test_main_keys_one_per_workload_at_its_default_size(self):
        keys = rtresults.main_keys(self.results)
        self.assertEqual([k[0] for k in keys], ["cycle_storm", "fragmentation", "long_lived"])
        frag = next(k for k in keys if k[0] == "fragmentation")
        self.assertEqual(self.results.params(frag)["n"], 1000000)
        small = next(k for k in rtresults.workload_keys(self.results)
                     if k[0] == "fragmentation" and k != frag)
        self.assertEqual(rtresults.key_label(self.results, frag), "fragmentation")
        self.assertEqual(rtresults.key_label(self.results, small),
                         "fragmentation (n=200000 keep=10 seed=1)")

    def test_cpython_pairs_match_by_workload_and_params(self):
        pairs = rtresults.cpython_pairs(self.results)
        self.assertEqual([key[0] for key, _, _ in pairs],
                         ["cycle_storm", "fragmentation", "long_lived"])
        for key, rt, cp in pairs:
            self.assertEqual((rt.key, cp.key), (key, key))
            self.assertEqual(rt.variant.label, "nonatomic/pool")
        # The pairs measured beside the twins; long_lived has none and no plain
        # run: its rtbench side comes from the sweep.
        self.assertEqual([rt.role for _, rt, _ in pairs], ["pair", "pair", "sweep"])

    def test_sweep_groups(self):
        groups = rtresults.sweeps(self.results)
        self.assertEqual([g.label for g in groups["cycle_storm"]],
                         ["rc:nonatomic", "rc:atomic"])
        self.assertEqual([t for t, _ in groups["long_lived"][0].points("wall_s")],
                         list(SWEEP_T0))

    def test_pareto_front(self):
        points = [(1, 5), (2, 4), (3, 4.5), (4, 1), (0.5, 9)]
        self.assertEqual(rtresults.pareto_front(points), [4, 0, 1, 3])

    def test_ecdf_thinning(self):
        import numpy as np
        import plot
        x, y = plot.ecdf(np.array([1.0, 2.0, 3.0]))
        self.assertEqual(list(x), [1, 1, 2, 3])
        self.assertEqual(list(np.round(y * 3)), [0, 1, 2, 3])
        x, y = plot.ecdf(np.arange(1.0, 50001.0), steps=100)
        self.assertEqual((len(x), x[-1], y[0], y[-1]), (101, 50000, 0, 1))

    def test_stat(self):
        stat = rtresults.Stat.of([3, 1, 2, 10])
        self.assertEqual((stat.n, stat.median, stat.min, stat.max), (4, 2.5, 1, 10))
        self.assertAlmostEqual(stat.spread, 3.6)
        self.assertIsNone(rtresults.Stat.of([]))

    def test_micro_uses_median_aggregate(self):
        micro = self.results.micro
        bench = next(b for b in micro.benches if b.name == "alloc_free/pool/64")
        self.assertEqual((bench.family, bench.args), ("alloc_free", ["pool", "64"]))
        self.assertEqual(bench.basis, "median aggregate")
        self.assertLessEqual(bench.seconds.min, bench.seconds.median)
        self.assertLess(bench.seconds.median, 1e-7)

    def test_duplicate_runs_keep_the_newest(self):
        folder = Path(self.tmp.name)
        data = json.loads((folder / "cpython-20261123T120200Z.json").read_text())
        data["created"] = "2026-11-24T00:00:00Z"
        data["runs"] = [r for r in data["runs"] if r["implementation"] == "cpython"][:1]
        (folder / "zz-rerun.json").write_text(json.dumps(data))
        try:
            results = rtresults.load_folder(folder)
        finally:
            (folder / "zz-rerun.json").unlink()
        twins = [r for r in results.select("cpython") if r.workload == "cycle_storm"]
        self.assertEqual([r.source.name for r in twins], ["zz-rerun.json"])
        self.assertTrue(any("zz-rerun.json" in n for n in results.notes))


if __name__ == "__main__":
    unittest.main()
