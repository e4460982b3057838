"""Tests of plots/plot.py, plots/summary.py and plots/rtresults.py on whole folders.

Run from the repository root with the Debian interpreter (it has matplotlib):

    /usr/bin/python3 -m unittest discover -s plots/tests

The fixture folder comes from ``fixture.py``; ``test_charts.py`` tests the chart
families and their helpers one by one, ``test_report.py`` the HTML report.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLOTS = HERE.parent
sys.path.insert(0, str(PLOTS))

import rtresults  # noqa: E402  (after the path set-up)
import rtstats  # noqa: E402
from fixture import (PAIR_WALL, SWEEP_T0, WORKLOADS, _config, _file, _run_name,  # noqa: E402
                     break_samples, build_fixture, charted_fixture, make_run, micro_file)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------
# The tests

EXPECTED_CHARTS = [
    "tuning_all", "tuning_cycle_storm", "tuning_long_lived",
    "pauses_cycle_storm", "pauses_long_lived",
    "rss_timeline_cycle_storm", "rss_timeline_fragmentation", "rss_timeline_long_lived",
    "vs_cpython", "variants", "backends", "micro_alloc", "micro_refcount", "micro_gc",
    "hyperfine_threshold0", "threads",
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


class TestFullFolder(unittest.TestCase):
    """Every chart and the summary from a complete folder."""

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.plot = charted_fixture()
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
        cost = "Single-thread cost of the threaded refcount variants"
        self.assertEqual(list(tables), ["Configurations", cost, "Thread scaling", "rtbench against CPython"])
        # The cost table: a row for each workload run under atomic (cycle_storm),
        # its ratio near the fixture's 1.09.
        row = next(r for r in tables.pop(cost) if r.startswith("| cycle_storm "))
        self.assertRegex(row, r"\| 1\.(0[5-9]|1[0-3])× \|")
        # Scaling: atomic's one thread and two (threads.json), 1.6 times as fast.
        scaling = tables.pop("Thread scaling")[2:]      # header and rule left out
        self.assertEqual([r.split(" | ")[:3] for r in scaling], [["| cycle_storm", "atomic", "1"],
                                                                 ["| cycle_storm", "atomic", "2"]])
        self.assertRegex(scaling[1], r"^\| cycle_storm \| atomic \| 2 \| [\d.]+ \| [\d.]+ \| 1\.[4-7]\d \|")
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
        charted = run_script("plot.py", dest, "--format", "png", "--no-report")
        self.assertEqual(charted.returncode, 0, charted.stderr)
        self.assertTrue((dest / "charts" / "pauses_cycle_storm.png").is_file())

    def test_missing_source_is_an_error(self):
        done = subprocess.run([sys.executable, str(PLOTS.parent / "scripts" / "reference-results"),
                               str(Path(self.tmp.name) / "nowhere"), str(Path(self.tmp.name) / "x")],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a results folder", done.stderr)


class TestStableOutput(Fixture):
    """The same input gives the same files: no dates, versions, random ids or
    unseeded intervals.  A second folder of the same inputs is charted and
    compared with the shared charted fixture.  SVG coordinates are compared to 3
    decimals (their 6th can flip between two processes); everything else, ids
    included, exactly."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()                   # the same inputs, in a folder of its own
        cls.first, _ = charted_fixture()
        cls.second = cls.dir
        cls.done = run_script("plot.py", cls.second)

    def outputs(self, folder: Path) -> list[Path]:
        return sorted((folder / "charts").iterdir()) + [folder / "report.html"]

    def test_twice_the_same_files(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)
        first = self.outputs(self.first)
        self.assertEqual([p.name for p in first], [p.name for p in self.outputs(self.second)])
        for path in first:
            with self.subTest(chart=path.name):
                other = self.second / path.relative_to(self.first)
                if path.suffix in (".svg", ".html"):       # the report names its folder
                    self.assertNotIn("<dc:date>", path.read_text())
                    self.assertEqual(rounded_svg(path).replace(str(self.first), "DIR"),
                                     rounded_svg(other).replace(str(self.second), "DIR"))
                else:
                    self.assertNotIn(b"Software", path.read_bytes())
                    self.assertEqual(path.read_bytes(), other.read_bytes())

    def test_svg_ids_are_numbered_not_hashed(self):
        svg = (self.first / "charts" / "tuning_cycle_storm.svg").read_text()
        ids = re.findall(r'\bid="([^"]+)"', svg)
        self.assertGreater(len(ids), 10)
        self.assertEqual(ids, [f"i{n}" for n in range(1, len(ids) + 1)])
        self.assertIn('clip-path="url(#i', svg)


class TestFailedSamples(Fixture):
    """A crashed sample and a missing one: chart the rest and say so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        break_samples(cls.dir)
        cls.plot = run_script("plot.py", cls.dir, "--format", "png", "--no-report")
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
        cls.plot = run_script("plot.py", cls.dir, "--format", "png", "--no-report")
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
                         ["micro_alloc.svg", "micro_gc.svg", "micro_refcount.svg"])
        self.assertIn("plot: tuning not drawn: no threshold0 sweep", done.stderr)
        self.assertIn("plot: hyperfine not drawn: no hyperfine-*.json", done.stderr)


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
            "rss_timeline_cycle_storm_n-5000_ring-8_rounds-3.png"])
        self.assertIn("plot: variants not drawn: no workload ran under both refcount "
                      "variants", self.plot.stderr)

    def test_dead_run_reported(self):
        self.assertRegex(self.plot.stderr, r"rc:atomic/alloc:pool: 3 of 3 samples failed "
                                           r"\(timeout x3\); no ok sample: left out")
        self.assertNotIn("Warning", self.plot.stderr)      # no matplotlib warnings

    def test_summary_rows_per_params(self):
        text = (self.dir / "summary.md").read_text()
        self.assertIn("| cycle_storm | n=100000 ring=8 rounds=3 |", text)
        self.assertIn("| cycle_storm | n=5000 ring=8 rounds=3 |", text)
        self.assertIn("timed out after 60 s", text)


class TestArenaDecay(unittest.TestCase):
    """A sweep of fragmentation over the arena decay: one chart with a line per
    decay, the default's named as such; the default run stays the one charted
    alone."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rtbench-plots-")
        cls.dir = Path(cls.tmp.name)
        rng = random.Random(5)
        _, wall, peak = WORKLOADS["fragmentation"]
        runs = []
        for decay in (0, rtresults.DEFAULT_ARENA_DECAY_MS, 86400000):
            run = make_run("fragmentation", _config(), rng, wall=wall, peak=peak)
            run["config"]["arena_decay_ms"] = decay
            if decay != rtresults.DEFAULT_ARENA_DECAY_MS:
                run["name"] += f"/decay:{decay}"
            runs.append(run)
        (cls.dir / "sweep.json").write_text(json.dumps(_file("sweep", ["rtbench"], runs)))
        (cls.dir / "lone.json").write_text(json.dumps(_file("run", ["rtbench"], [
            make_run("cycle_storm", _config(), rng)])))
        cls.plot = run_script("plot.py", cls.dir, "--format", "svg")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_one_chart_with_a_line_per_decay(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        names = {p.name for p in (self.dir / "charts").iterdir()}
        self.assertIn("arena_decay_fragmentation.svg", names)
        self.assertNotIn("arena_decay_cycle_storm.svg", names)     # one decay only
        svg = (self.dir / "charts" / "arena_decay_fragmentation.svg").read_text()
        for label in ("decay 0 ms", "decay 1000 ms (default)", "decay 86400000 ms"):
            self.assertIn(label, svg)

    def test_labels_and_default(self):
        variants = [rtresults.Variant("nonatomic", "pool", True, rtresults.DEFAULT_THRESHOLD,
                                      rtresults.Variant.decay_of({"arena_decay_ms": d}))
                    for d in (0, rtresults.DEFAULT_ARENA_DECAY_MS)]
        self.assertEqual([v.label for v in variants], ["nonatomic/pool decay:0", "nonatomic/pool"])
        self.assertEqual([v.is_default for v in variants], [False, True])
        self.assertIsNone(rtresults.Variant.decay_of({}))           # files from before the option


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
        self.assertEqual(roles, {"run", "sweep", "pair", "cpython", "scaling"})
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

    def test_structured_and_plain_warnings(self):
        frag = next(r for r in self.results.select("cpython") if r.workload == "fragmentation")
        self.assertEqual(frag.warnings, ["wall time spread 12% of the median"])
        self.assertEqual(self.results.select("run")[0].warnings, [])

    def test_pauses_pooled_with_exact_count_and_max(self):
        run = next(r for r in self.results.select("sweep") if r.threshold0 == 700)
        pauses = run.pauses()
        self.assertEqual(pauses.count, sum(s["gc"]["pauses"]["count"] for s in run.samples))
        self.assertEqual(len(pauses.recorded), pauses.count)
        self.assertEqual(pauses.max_s, max(s["gc"]["pauses"]["max_s"] for s in run.samples))
        self.assertFalse(pauses.subsampled)

    def test_stat(self):
        stat = rtstats.Stat.of([3, 1, 2, 10])
        self.assertEqual((stat.n, stat.median, stat.min, stat.max), (4, 2.5, 1, 10))
        self.assertEqual((stat.low, stat.high), (1, 10), 'n=4: the interval is the range')
        self.assertAlmostEqual(stat.precision, 7.5 / 2.5)
        self.assertIsNone(rtstats.Stat.of([]))
        nine = rtstats.Stat.of(range(1, 10))
        self.assertEqual((nine.low, nine.high), (2, 8), 'n=9: order statistics 2 and 8')

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
