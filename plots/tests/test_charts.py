"""Tests of the chart families and their helpers, in process.

    /usr/bin/python3 -m unittest discover -s plots/tests

rtstats (ratios, intervals, formatting), chartkit (ticks, ids, measured text),
and each chart family on results made to show one behaviour: a sweep whose RSS
does not move, a run too short for a timeline, too few pauses for a spectrum,
the debug backend's own panel, hyperfine's labels.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from matplotlib.text import Text  # noqa: E402

import chart_compare  # noqa: E402
import chart_hyperfine  # noqa: E402
import chart_micro  # noqa: E402
import chart_pauses  # noqa: E402
import chart_threads  # noqa: E402
import chart_timeline  # noqa: E402
import chart_tuning  # noqa: E402
import chartkit as ck  # noqa: E402
import rtresults as rr  # noqa: E402
import rtstats as rs  # noqa: E402
import summary  # noqa: E402
from fixture import (MIB, WORKLOADS, _config, _file, hyperfine_file, make_run,  # noqa: E402
                     micro_file)


TEMPORARY: list[tempfile.TemporaryDirectory] = []


def tearDownModule():
    for tmp in TEMPORARY:
        tmp.cleanup()


def load(*files: dict, extra: dict | None = None) -> rr.Results:
    """Results read from a temporary folder holding ``files`` (and ``extra``:
    name -> JSON)."""
    tmp = tempfile.TemporaryDirectory(prefix="rtbench-charts-")
    folder = Path(tmp.name)
    for i, data in enumerate(files):
        (folder / f"f{i}.json").write_text(json.dumps(data))
    for name, data in (extra or {}).items():
        (folder / name).write_text(json.dumps(data))
    TEMPORARY.append(tmp)
    return rr.load_folder(folder)


def sweep(workload: str, thresholds, rss_growth: float, repeat: int = 5, seed: int = 1,
          **kwargs) -> dict:
    """A sweep file whose time falls with threshold0 and whose RSS grows by
    ``rss_growth`` per decade (0: only noise)."""
    rng = random.Random(seed)
    _, wall, peak = WORKLOADS[workload]
    runs = [make_run(workload, _config(t0=t0), rng, repeat=repeat,
                     wall=wall * (0.7 + 0.6 * (100 / t0) ** 0.5),
                     peak=int(peak * (1 + rss_growth) ** (len(str(t0)) - 3)), **kwargs)
            for t0 in thresholds]
    return _file("sweep", ["rtbench", "sweep", workload], runs)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


# ---------------------------------------------------------------------------
# rtstats


class TestRatios(unittest.TestCase):

    def test_seeded_interval_holds_the_ratio(self):
        a, b = [1.0, 1.1, 0.9, 1.05, 0.95], [2.0, 2.2, 1.8, 2.1, 1.9]
        first = rs.ratio_of_medians(a, b, "x")
        self.assertEqual(first, rs.ratio_of_medians(a, b, "x"))
        self.assertAlmostEqual(first.value, 0.5)
        self.assertLessEqual(first.low, first.value)
        self.assertGreaterEqual(first.high, first.value)
        self.assertTrue(first.beyond_noise)

    def test_overlapping_samples_are_within_noise(self):
        ratio = rs.ratio_of_medians([1.0, 1.3, 0.8, 1.1, 0.9], [1.05, 0.85, 1.2, 0.95, 1.0], "y")
        self.assertTrue(ratio.has_ci)
        self.assertFalse(ratio.beyond_noise)

    def test_no_interval_under_three_samples(self):
        ratio = rs.ratio_of_medians([1.0, 1.2], [2.0, 2.1, 2.2], "z")
        self.assertFalse(ratio.has_ci)
        self.assertFalse(ratio.beyond_noise)
        self.assertEqual(ratio.ci_text(), "no interval (n=2)")
        self.assertIsNone(rs.ratio_of_medians([], [1.0], "e"))
        self.assertIsNone(rs.ratio_of_medians([1.0], [0.0], "zero"))

    def test_verdict_text(self):
        self.assertEqual(rs.Ratio(0.81, 0.76, 0.86, 5, 5).text("time"), "−19% time [−24, −14]")
        self.assertEqual(rs.Ratio(6.2, 5.1, 7.0, 5, 5).text("p99 pause"), "p99 pause ×6.2 [5.1, 7]")
        self.assertEqual(rs.Ratio(1.03, None, None, 2, 2).text("RSS"), "+3% RSS")
        self.assertEqual(rs.format_change(1.0), "±0%")
        self.assertEqual(rs.format_factor(1430.0), "1,430")

    def test_values_needed_per_percentile(self):
        self.assertEqual([rs.values_needed(p) for _, p in rs.SPECTRUM],
                         [20, 100, 1000, 10000, 100000])

    def test_median_interval(self):
        point = rs.median_interval([3.0, 1.0, 2.0, 5.0, 4.0], "m")
        self.assertEqual(point.value, 3.0)
        self.assertTrue(point.low <= 3.0 <= point.high)


# ---------------------------------------------------------------------------
# chartkit


class TestChartKit(unittest.TestCase):

    def test_svg_ids_renumbered_with_references(self):
        svg = ('<clipPath id="p1f2e3"><rect/></clipPath><path id="m9a" d=""/>'
               '<g clip-path="url(#p1f2e3)"><use xlink:href="#m9a"/></g>')
        self.assertEqual(ck.renumber_svg_ids(svg, "c2-"),
                         '<clipPath id="c2-1"><rect/></clipPath><path id="c2-2" d=""/>'
                         '<g clip-path="url(#c2-1)"><use xlink:href="#c2-2"/></g>')

    def test_ratio_ticks(self):
        for low, high in ((0.6, 1.6), (0.005, 12), (0.97, 1.04), (0.1, 1.3), (1.0, 400)):
            with self.subTest(low=low, high=high):
                ticks = ck.ratio_ticks(low, high)
                self.assertTrue(3 <= len(ticks) <= 6, ticks)
                self.assertTrue(all(low <= t <= high for t in ticks), ticks)
                if low <= 1 <= high:
                    self.assertIn(1.0, ticks)

    def test_ratio_axis_never_zooms_below_the_noise(self):
        with ck.style():
            fig, axes = ck.new_figure(4, 3)
            low, high = ck.ratio_axis(axes[0, 0], "y", 0.999, 1.001, noise=0.05)
        self.assertLessEqual(low, 1 / 1.15)
        self.assertGreaterEqual(high, 1.15)

    def test_overlapping_text_is_found(self):
        with ck.style():
            fig, axes = ck.new_figure(4, 3)
            axes[0, 0].text(0.5, 0.5, "first label", transform=axes[0, 0].transAxes)
            self.assertEqual(ck.text_overlaps(fig), [])
            axes[0, 0].text(0.52, 0.5, "second label", transform=axes[0, 0].transAxes)
            self.assertEqual(ck.text_overlaps(fig), ["'first label' / 'second label'"])

    def test_labels_placed_apart_or_left_out(self):
        with ck.style():
            fig, axes = ck.new_figure(4, 3)
            ax = axes[0, 0]
            ax.set_xlim(0, 10)
            ax.set_ylim(0, 10)
            fig.canvas.draw()
            left_out = ck.place_labels(ax, [(5, 5, "alpha"), (5, 5, "beta"), (5, 5, "gamma")])
            self.assertEqual(left_out, 0)
            self.assertEqual(ck.text_overlaps(fig), [])
            crowd = [(5, 5, f"label {i}") for i in range(40)]
            self.assertGreater(ck.place_labels(ax, crowd), 0)
            self.assertEqual(ck.text_overlaps(fig), [])

    def test_crowded_ticks_thinned(self):
        with ck.style():
            fig, axes = ck.new_figure(1.2, 3)
            ck.ratio_axis(axes[0, 0], "x", 0.2, 6.0)
            fig.canvas.draw()
            before = len(axes[0, 0].xaxis.get_major_locator().locs)
            changed = ck.fit_tick_labels(fig)
            fig.canvas.draw()
        self.assertTrue(changed)
        self.assertLess(len(axes[0, 0].xaxis.get_major_locator().locs), before)
        self.assertEqual(ck.text_overlaps(fig, draw=False), [])


# ---------------------------------------------------------------------------
# Chart families


class TestTuning(unittest.TestCase):

    def test_flat_rss_says_no_effect_instead_of_zooming(self):
        results = load(sweep("long_lived", (100, 700, 10000), rss_growth=0.0))
        with ck.style():
            chart = chart_tuning.charts(results)[0]
        self.assertTrue(chart.drawn)
        self.assertTrue(any("peak RSS: no effect beyond noise" in t for t in texts(chart.figure)))
        self.assertIn("peak RSS: no change beyond noise", " ".join(chart.caption))

    def test_verdicts_and_axes(self):
        results = load(sweep("cycle_storm", (100, 700, 1000, 10000), rss_growth=0.5))
        with ck.style():
            chart = chart_tuning.charts(results)[0]
            ck.finish(chart)
        # At 10000 a sample has 10 pauses: too few for a p99, so the headline gives the max.
        self.assertRegex(chart.caption[0], r"^t0 = 10000 \(fastest\): −\d+% time \[−\d+, −\d+\], "
                                           r".* max pause \[.*\], peak RSS ×[\d.]+ \[")
        self.assertIn("p99 pause: fewer than 1,000 pauses per sample at t0 = 100, 700, 1000, "
                      "10000.", chart.caption)
        time_ax = chart.figure.axes[0]
        labels = [t.get_text() for t in time_ax.get_xticklabels()]
        self.assertEqual(labels, ["100", "1k", "10k"])        # 700: the dotted line's label
        self.assertIn("default 700", texts(chart.figure))
        self.assertEqual(chart.overlaps, [])
        header, rows = chart.table
        self.assertEqual(header[:3], ["threshold0", "time", "peak RSS"])
        self.assertEqual([r[0] for r in rows], ["100", "700 (default)", "1000", "10000"])

    def test_p99_with_enough_pauses_per_sample(self):
        data = sweep("cycle_storm", (100, 700, 1000), rss_growth=0.5)
        for run in data["runs"]:
            for sample in run["samples"]:
                sample["gc"]["pauses"]["count"] *= 20          # as if subsampled
        with ck.style():
            chart = chart_tuning.charts(load(data))[0]
        line = next(c for c in chart.caption if c.startswith("p99 pause:"))
        self.assertRegex(line, r"^p99 pause: (largest change|no change beyond noise)")
        self.assertIn("p99 pause", chart.caption[0])

    def test_two_samples_say_no_interval_not_no_change(self):
        rng = random.Random(9)
        runs = [make_run("long_lived", _config(t0=t0), rng, repeat=2, wall=0.5 * factor)
                for t0, factor in ((700, 1.0), (10000, 0.5))]
        chart = chart_tuning.charts(load(_file("sweep", ["rtbench"], runs)))[0]
        self.assertEqual(chart.caption[0], "No threshold0 can be judged: no interval (n=2) "
                                           "per threshold (ratios to t0 = 700).")
        line = next(c for c in chart.caption if c.startswith("time:"))
        self.assertIn("time: no interval (n=2), nothing judged", line)
        self.assertNotIn("beyond noise", " ".join(chart.caption))

    def test_slower_only_is_said(self):
        rng = random.Random(8)
        runs = [make_run("long_lived", _config(t0=t0), rng, repeat=5, wall=0.5 * factor)
                for t0, factor in ((700, 1.0), (10000, 1.0), (100000, 1.6))]
        chart = chart_tuning.charts(load(_file("sweep", ["rtbench"], runs)))[0]
        self.assertRegex(chart.caption[0], r"^No threshold0 is faster beyond noise; slower: "
                                           r"t0 = 100000 \+\d+% \[\+\d+, \+\d+\]")

    def test_no_sweep_is_said(self):
        chart = chart_tuning.charts(load(micro_file(random.Random(1))))[0]
        self.assertFalse(chart.drawn)
        self.assertEqual(chart.skipped, ck.NO_SWEEP)


class TestPauses(unittest.TestCase):

    def test_too_few_pauses_not_drawn(self):
        data = sweep("cycle_storm", (100000,), rss_growth=0.0, repeat=1)
        for run in data["runs"]:
            for sample in run["samples"]:
                pauses = sample["gc"]["pauses"]
                pauses.update(seconds=pauses["seconds"][:4], generation=pauses["generation"][:4],
                              t_s=pauses["t_s"][:4], count=4)
        chart = chart_pauses.charts(load(data))[0]
        self.assertFalse(chart.drawn)
        self.assertIn("too few GC pauses: at most 4 recorded", chart.skipped)

    def test_omitted_percentiles_named_and_exact_counts_kept(self):
        data = sweep("cycle_storm", (100, 700), rss_growth=0.0, repeat=3)
        for run in data["runs"]:
            for sample in run["samples"]:
                pauses = sample["gc"]["pauses"]
                pauses["count"] *= 10                  # as if subsampled to a tenth
                pauses["subsampled"] = True
        with ck.style():
            chart = chart_pauses.charts(load(data))[0]
        self.assertTrue(chart.drawn)
        caption = " ".join(chart.caption)
        self.assertIn("p99.9, p99.99 at every threshold0", caption)
        self.assertIn("subsampled", caption)
        legend = [t for t in texts(chart.figure) if t.startswith("700 (default): ")]
        self.assertEqual(len(legend), 1)
        self.assertRegex(legend[0], r"^700 \(default\): [\d,]+ pauses, [\d,]+ recorded$")


class TestTimeline(unittest.TestCase):

    def test_short_run_not_drawn(self):
        rng = random.Random(2)
        run = make_run("cycle_storm", _config(), rng, repeat=1, wall=0.007)
        sample = run["samples"][0]
        sample["wall_s"] = 0.007
        sample["rss_timeline"] = {"interval_s": 0.005, "t_s": [0.0, 0.005, 0.007],
                                  "rss_bytes": [MIB, 2 * MIB, 2 * MIB]}
        chart = chart_timeline.charts(load(_file("run", ["rtbench"], [run])))[0]
        self.assertFalse(chart.drawn)
        self.assertIn("gives 3 RSS points; a curve needs", chart.skipped)

    def test_points_sorted_by_time(self):
        rng = random.Random(3)
        run = make_run("cycle_storm", _config(), rng, repeat=1)
        timeline = run["samples"][0]["rss_timeline"]
        timeline["t_s"].insert(1, timeline["t_s"][-1])          # the end reading, out of order
        timeline["rss_bytes"].insert(1, timeline["rss_bytes"][-1])
        with ck.style():
            chart = chart_timeline.charts(load(_file("run", ["rtbench"], [run])))[0]
        line = chart.figure.axes[0].get_lines()[0]
        x = list(line.get_xdata())
        self.assertEqual(x, sorted(x))


class TestCompare(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rng = random.Random(4)
        runs = [make_run("cycle_storm", _config(rc=rc, alloc=alloc), rng, repeat=3,
                         wall=0.4 * cost, peak=int(100 * MIB * cost))
                for rc in ("nonatomic", "atomic")
                for alloc, cost in (("pool", 1.0), ("malloc", 1.2), ("debug", 3.5))]
        twin = make_run("cycle_storm", _config(rc=None, alloc=None, python="/usr/bin/python3"),
                        rng, repeat=3, wall=0.8)
        cls.results = load(_file("run", ["rtbench"], runs), _file("cpython", ["rtbench"], [twin]))

    def test_debug_in_its_own_panels(self):
        with ck.style():
            chart = chart_compare.backends_chart(self.results)
        titles = [ax.get_title(loc="left") for ax in chart.figure.axes]
        self.assertEqual([t.split("\n")[0] for t in titles],
                         ["time", "time (debug)", "peak RSS", "peak RSS (debug)"])

    def test_vs_cpython_labels_both_figures(self):
        with ck.style():
            chart = chart_compare.vs_cpython_chart(self.results)
        self.assertTrue(any(" ms vs " in t for t in texts(chart.figure)))
        self.assertRegex(chart.caption[0], r"^rtbench ÷ CPython, time: beyond noise lower on 1 of 1")

    def test_variants_ratio_per_variant_and_backend(self):
        # The fixture runs atomic under three backends: each against
        # nonatomic with the same backend, the pool's by the variant's name.
        ratios = chart_compare.variant_ratios(self.results, "wall_s")
        self.assertEqual(list(ratios), ["atomic", "atomic/malloc", "atomic/debug"])
        self.assertTrue(all(c.b.variant.rc == "nonatomic" and c.a.variant.alloc == c.b.variant.alloc
                            for cs in ratios.values() for c in cs))


def threaded(wall: float, paused: float, safepoint: float, threads: int, rc: str, rng: random.Random) -> dict:
    """A cycle_storm run at ``threads`` whose every sample takes ``wall``,
    ``paused`` of it in collections and ``safepoint`` waiting for one."""
    params = dict(WORKLOADS["cycle_storm"][0], threads=threads)
    run = make_run("cycle_storm", _config(rc=rc), rng, repeat=3, wall=wall, params=params)
    for sample in run["samples"]:
        sample["wall_s"] = wall
        sample["gc"]["pauses"].update(total_s=paused, safepoint_total_s=safepoint,
                                      parked_total_s=(threads - 1) * paused)
    run["summary"]["wall_s"]["median"] = wall
    return run


class TestThreads(unittest.TestCase):
    """The suite's threads.json beside runs.json's one-thread runs."""

    @classmethod
    def setUpClass(cls):
        rng = random.Random(8)
        ones = [threaded(0.8, 0.4, 0.0, 1, "nonatomic", rng), threaded(1.0, 0.5, 0.0, 1, "biased", rng),
                threaded(1.1, 0.5, 0.0, 1, "atomic", rng)]
        many = [threaded(0.625, 0.375, 0.05, 2, "biased", rng), threaded(1.0, 0.5, 0.1, 2, "atomic", rng)]
        cls.results = load(_file("run", ["rtbench", "suite"], ones), _file("run", ["rtbench", "suite"], many))

    def test_rows_set_each_run_against_its_one_thread_and_nonatomics(self):
        """Throughput against one nonatomic thread (0.8 s), speedup against
        the variant's own one thread, split into the time outside
        collections (wall less pauses less time to safepoint) and the
        collections'; one-thread rows first, variants in display order."""
        rows = rr.thread_scaling(self.results)["cycle_storm"]
        self.assertEqual([(rc, row.threads) for rc, row in rows],
                         [("atomic", 1), ("atomic", 2), ("biased", 1), ("biased", 2)])
        two = rows[3][1]
        self.assertAlmostEqual(two.throughput, 0.8 / 0.625)
        self.assertAlmostEqual(two.speedup, 1.0 / 0.625)
        self.assertAlmostEqual(two.outside, 0.625 - 0.375 - 0.05)
        self.assertAlmostEqual(two.speedup_outside, 0.5 / 0.2)
        self.assertAlmostEqual(two.speedup_collections, 0.5 / 0.375)
        self.assertEqual(two.safepoint, 0.05)
        self.assertAlmostEqual(two.stalled, (0.375 + 0.05 + 0.375) / (2 * 0.625))

    def test_runs_off_the_default_thresholds_left_out(self):
        rng = random.Random(10)
        other = threaded(0.5, 0.2, 0.0, 2, "biased", rng)
        other["config"]["threshold"] = [100, 10, 10]
        files = [_file("run", ["rtbench"], [run.data for run in self.results.runs]),
                 _file("sweep", ["rtbench", "sweep"], [other])]
        rows = rr.thread_scaling(load(*files))["cycle_storm"]
        self.assertEqual([(rc, row.threads, row.wall) for rc, row in rows],
                         [(rc, row.threads, row.wall) for rc, row in rr.thread_scaling(self.results)["cycle_storm"]])

    def test_chart_says_each_variants_speedup(self):
        with ck.style():
            chart = chart_threads.charts(self.results)[0]
        self.assertTrue(chart.drawn)
        self.assertEqual(chart.caption[:4], [
            "atomic at 2 threads, against its own one thread: cycle_storm 1.10×.",
            "biased at 2 threads, against its own one thread: cycle_storm 1.60×.",
            "atomic, the share of the threads' time the stops took, one thread → 2: cycle_storm 45% → 55%.",
            "biased, the share of the threads' time the stops took, one thread → 2: cycle_storm 50% → 64%."])
        self.assertEqual(chart.table[0][0], "workload")
        self.assertIn("every variant at every thread count", chart.table_label)
        self.assertEqual(chart.table[1][3][:4], ["cycle_storm", "biased", "2", "0.625"])
        self.assertIn("cycle_storm", texts(chart.figure))

    def test_summary_has_the_scaling_table(self):
        lines = summary.scaling_table(self.results)
        self.assertTrue(lines[0].startswith("| workload | variant | threads | wall (s) |"), lines[0])
        self.assertIn("| cycle_storm | biased | 2 | 0.625 | 1.28 | 1.60 | 0.2000 | 2.50 | 0.3750 | 1.33 "
                      "| 0.0500 | 64% |", lines[5])

    def test_no_thread_runs_said(self):
        rng = random.Random(9)
        chart = chart_threads.charts(load(_file("run", ["rtbench"], [threaded(0.8, 0.4, 0.0, 1, "biased", rng)])))[0]
        self.assertFalse(chart.drawn)
        self.assertIn("no run at more than one thread", chart.skipped)
        self.assertEqual(summary.scaling_table(load(_file("run", ["rtbench"], []))), [])


class TestMicroAndHyperfine(unittest.TestCase):

    def test_micro_ratios_to_pool(self):
        results = load(extra={"micro.json": micro_file(random.Random(5))})
        with ck.style():
            charts = {c.name: c for c in chart_micro.charts(results)}
        self.assertEqual(sorted(charts), ["micro_alloc", "micro_gc", "micro_refcount"])
        self.assertTrue(all(c.drawn for c in charts.values()))
        self.assertRegex(charts["micro_alloc"].caption[0],
                         r"^alloc_free, backend ÷ pool: malloc [\d.]+× to [\d.]+×; debug ")
        self.assertRegex(charts["micro_refcount"].caption[0], r"atomic ÷ nonatomic ×5\.\d")

    def test_hyperfine_labels(self):
        data = hyperfine_file(random.Random(6))
        for result, (binary, alloc) in zip(data["results"], (("rtbench", "pool"),
                                                             ("rtbench-atomic", "pool"),
                                                             ("rtbench", "malloc"))):
            result["parameters"] = {"alloc": alloc, "bin": binary}
            result["command"] = (f"build/release/{binary} __worker cycle_storm --result-fd 1 "
                                 f"--alloc {alloc} --n 1000 --ring 8")
        results = load(extra={"hyperfine-cycle_storm.json": data})
        with ck.style():
            chart = chart_hyperfine.charts(results)[0]
        labels = [t.get_text() for t in chart.figure.axes[0].get_yticklabels()]
        self.assertEqual(labels, ["nonatomic/pool", "atomic/pool", "nonatomic/malloc"])
        self.assertEqual(chart.title, "hyperfine: cycle_storm n=1000 ring=8")


if __name__ == "__main__":
    unittest.main()
