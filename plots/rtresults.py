"""Load an rtbench results folder and answer the questions the charts ask of it.

A results folder (written by ``rtbench suite``, described in ``results/README.md``)
holds result files of schema ``rtbench/1`` (runs, sweeps, CPython twins), possibly a
Google Benchmark JSON file (``micro.json``) and hyperfine exports
(``hyperfine-*.json``).  Any of them may be missing, and any run may have failed or
missing samples.

This is the one loader of the plots: every chart family, ``summary.py`` and
``report.py`` read result files through it, and it reads past fields it does not
know (later result files add some), so a change of the result files touches this
module alone.  Warnings may be strings or ``{"kind", "message"}`` objects
(``Run.warnings`` gives text); ``Run.pauses`` pools the pauses of the ok samples.
It never prints: problems are collected as one-line messages in ``Results.errors``
(a file that could not be used at all) and ``Results.notes`` (usable data with a
caveat), for the caller to report.

Roles.  Every rtbench/1 run gets a role, from its content first and its file's
``kind`` second (file names are never used to match runs):

* ``cpython`` -- ``implementation`` is ``"cpython"``, whatever file it came from;
* ``sweep``   -- an rtbench run from a file of kind ``sweep``;
* ``pair``    -- an rtbench run from a file of kind ``cpython``: the rtbench side
  that ``rtbench cpython`` measures beside the twin, often at a smaller size;
* ``run``     -- any other rtbench run (kinds ``run``, ``suite-part``).

Runs are matched across files by ``(workload, params)``.  The same configuration
may be both a ``run`` and a ``pair`` (the suite measures it in both steps when
CPython's size is the default): that is expected, and each is used for its own
question (the ``run`` for the table of configurations, the ``pair`` for the
ratio to CPython, being measured in the same session as the twin).
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from rtpeers import HyperfineFile, MicroFile, parse_hyperfine, parse_micro
from rtscaling import ScalingRow, scaling_row
from rtstats import Stat, is_number

SCHEMA = "rtbench/1"
KINDS = ("run", "sweep", "cpython", "suite-part")
STATUS_OK = "ok"

# The defaults shared with the harness, defined once: results/schema.json's
# "x-rtbench-defaults" (the C side gets them through CMake).
with open(Path(__file__).resolve().parent.parent / "results" / "schema.json", encoding="utf-8") as _schema:
    _DEFAULTS = json.load(_schema)["x-rtbench-defaults"]

# The configuration the harness runs by default (CPython's own thresholds).
DEFAULT_THRESHOLD = tuple(_DEFAULTS["threshold"])
DEFAULT_RC = "nonatomic"
DEFAULT_ALLOC = "pool"
DEFAULT_ARENA_DECAY_MS = _DEFAULTS["arena_decay_ms"]

# Display order of the variant axes; unknown values sort after these, by name.
RC_ORDER = ("nonatomic", "atomic", "biased")
ALLOC_ORDER = ("pool", "malloc", "debug", "mimalloc", "jemalloc")

# The median's 95% interval reaching further than this from it (a fraction
# of the median) is "noisy": the harness's rule (result.c).
NOISE_CI = _DEFAULTS["noise_ci"]


class FolderError(Exception):
    """The folder does not exist or is not a directory (the caller exits 2)."""


def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"]`` for path ``"a.b"`` (``"gc.collections.0"`` indexes a
    list); None where any step is missing."""
    for key in path.split("."):
        if isinstance(data, list) and key.isdigit():
            data = data[int(key)] if int(key) < len(data) else None
        elif isinstance(data, dict):
            data = data.get(key)
        else:
            return None
    return data


# ---------------------------------------------------------------------------
# Runs


def params_key(params: dict) -> str:
    """A canonical, hashable form of a params dict."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def key_params(key: tuple[str, str]) -> dict:
    """The params dict of a (workload, params) key (keys sorted)."""
    return json.loads(key[1])


def params_label(params: dict) -> str:
    """``n=100000 ring=8`` for display."""
    return " ".join(f"{k}={v}" for k, v in params.items())


def axis_order(value: Optional[str], order: tuple[str, ...]) -> tuple[int, str]:
    """A sort key putting the known values of an axis first, in display order."""
    text = "" if value is None else str(value)
    return (order.index(text) if text in order else len(order), text)


@dataclass(frozen=True)
class Variant:
    """The configuration axes of a run other than its workload and params."""

    rc: Optional[str]
    alloc: Optional[str]
    gc: bool
    threshold: tuple
    decay: Optional[int] = None     # the arena decay (ms); None: the default, or not recorded

    @staticmethod
    def decay_of(config: dict) -> Optional[int]:
        """A run's ``arena_decay_ms``, or None when it is the default or absent."""
        value = config.get("arena_decay_ms")
        return value if isinstance(value, int) and value != DEFAULT_ARENA_DECAY_MS else None

    @property
    def sort_key(self) -> tuple:
        return (axis_order(self.rc, RC_ORDER), axis_order(self.alloc, ALLOC_ORDER),
                not self.gc, self.threshold, -1 if self.decay is None else self.decay)

    @property
    def is_default(self) -> bool:
        return (self.rc == DEFAULT_RC and self.alloc == DEFAULT_ALLOC and self.gc
                and self.threshold == DEFAULT_THRESHOLD and self.decay is None)

    @property
    def label(self) -> str:
        """``nonatomic/pool``, with ``gc:off`` or the thresholds when not default."""
        text = f"{self.rc or '?'}/{self.alloc or '?'}"
        if not self.gc:
            text += " gc:off"
        if self.threshold != DEFAULT_THRESHOLD:
            text += " t:" + "/".join(str(t) for t in self.threshold)
        if self.decay is not None:
            text += f" decay:{self.decay}"
        return text

    def distance_from_default(self) -> int:
        """How many axes differ from the default configuration (for fallbacks)."""
        t0 = self.threshold[0] if self.threshold else None
        return ((self.rc != DEFAULT_RC) + (self.alloc != DEFAULT_ALLOC)
                + (not self.gc) + 2 * (t0 != DEFAULT_THRESHOLD[0])
                + (self.threshold[1:] != DEFAULT_THRESHOLD[1:]) + (self.decay is not None))


class Run:
    """One configuration of one workload and its samples, from an rtbench/1 file."""

    def __init__(self, data: dict, source: Path, header: dict):
        self.data = data
        self.source = source
        self.file_kind: str = header.get("kind", "")
        self.machine: dict = header.get("machine") or {}
        self.tool: str = header.get("tool") or ""
        self.created: str = header.get("created") or ""
        command = header.get("command")
        self.command: list = [str(c) for c in command] if isinstance(command, list) else []
        self.workload: str = data["workload"]
        self.params: dict = data.get("params") or {}
        self.config: dict = data.get("config") or {}
        self.implementation: str = data.get("implementation") or "rtbench"
        self.samples: list[dict] = data.get("samples") or []
        repeat = data.get("repeat")
        self.repeat: int = repeat if isinstance(repeat, int) else len(self.samples)
        threshold = self.config.get("threshold") or []
        self.variant = Variant(self.config.get("rc"), self.config.get("alloc"),
                               self.config.get("gc", True) is not False,
                               tuple(threshold), Variant.decay_of(self.config))
        self.name: str = data.get("name") or self._build_name()

    def _build_name(self) -> str:
        parts = [self.workload] + [f"{k}:{v}" for k, v in self.params.items()]
        return "/".join(parts) + "/" + self.variant.label.replace(" ", "/")

    # -- identity -------------------------------------------------------------

    @property
    def role(self) -> str:
        """``cpython``, ``sweep``, ``pair``, ``run`` (see the module docstring) or
        ``scaling``: an rtbench run at more than one thread (the suite's
        threads.json), which the per-workload tables and charts leave out."""
        if self.implementation == "cpython":
            return "cpython"
        threads = (self.params or {}).get("threads", 1)
        if is_number(threads) and threads > 1:
            return "scaling"
        return {"sweep": "sweep", "cpython": "pair"}.get(self.file_kind, "run")

    @property
    def key(self) -> tuple[str, str]:
        """``(workload, params)``: what matches runs across files."""
        return (self.workload, params_key(self.params))

    @property
    def threshold0(self) -> Optional[int]:
        t = self.variant.threshold
        return t[0] if t and is_number(t[0]) else None

    @property
    def short_label(self) -> str:
        """The workload and what differs from the default, for chart footnotes."""
        parts = [self.workload]
        if self.implementation != "rtbench":
            parts.append(self.implementation)
        t = self.variant.threshold
        if t[:1] != DEFAULT_THRESHOLD[:1]:
            parts.append(f"t0:{t[0] if t else '?'}")
        if t[1:] != DEFAULT_THRESHOLD[1:]:
            parts.append("t1,t2:" + ",".join(str(x) for x in t[1:]))
        if not self.variant.gc:
            parts.append("gc:off")
        if self.implementation == "rtbench" and (
                self.variant.rc, self.variant.alloc) != (DEFAULT_RC, DEFAULT_ALLOC):
            parts.append(f"{self.variant.rc}/{self.variant.alloc}")
        return "/".join(parts)

    # -- samples ----------------------------------------------------------------

    @property
    def ok_samples(self) -> list[dict]:
        return [s for s in self.samples if s.get("status") == STATUS_OK]

    def values(self, metric: str) -> list[float]:
        """The finite values of ``metric`` (a dotted path) over the ok samples."""
        found = (dig(s, metric) for s in self.ok_samples)
        return [float(v) for v in found if is_number(v)]

    def stat(self, metric: str) -> Optional[Stat]:
        return Stat.of(self.values(metric))

    @property
    def expected(self) -> int:
        return max(self.repeat, len(self.samples))

    def sample_problem(self) -> Optional[str]:
        """``2 of 5 samples failed (crashed)``-style text, or None when all is well."""
        statuses = Counter(str(s.get("status")) for s in self.samples
                           if s.get("status") != STATUS_OK)
        parts = []
        if statuses:
            kinds = ", ".join(k if n == 1 else f"{k} x{n}" for k, n in sorted(statuses.items()))
            parts.append(f"{sum(statuses.values())} of {self.expected} samples failed ({kinds})")
        missing = self.expected - len(self.samples)
        if missing > 0:
            parts.append(f"{missing} of {self.expected} samples missing")
        return ", ".join(parts) or None

    def problem(self, verb: str = "charting") -> Optional[str]:
        """The one-line report of :meth:`sample_problem`, with what is used.

        ``cycle_storm/...: 2 of 5 samples failed (crashed); charting 3``.
        """
        text = self.sample_problem()
        if text is None:
            return None
        ok = len(self.ok_samples)
        tail = f"{verb} {ok}" if ok else "no ok sample: left out"
        return f"{self.name}: {text}; {tail}"

    def first_error(self) -> Optional[str]:
        """The error text of the first sample that did not succeed."""
        for s in self.samples:
            if s.get("status") != STATUS_OK and s.get("error"):
                return str(s["error"])
        return None

    def data_command(self) -> str:
        """The command that wrote this run's file, as a shell line."""
        if not self.command:
            return "not recorded"
        text = " ".join(shlex.quote(c) for c in self.command)
        return text + (" (its arguments not recorded)" if len(self.command) == 1 else "")

    @property
    def warnings(self) -> list[str]:
        """The harness's warnings on this run, as text: plain strings, or the
        ``{"kind", "message"}`` objects of later result files."""
        out = []
        for item in self.data.get("warnings") or []:
            if isinstance(item, dict):
                text = item.get("message") or item.get("kind")
                out.append(str(text) if text else json.dumps(item, sort_keys=True))
            elif item:
                out.append(str(item))
        return out

    def pauses(self) -> "PauseSet":
        """The GC pauses of the ok samples, pooled."""
        recorded, count, total, maxima, subsampled = [], 0, [], [], False
        for sample in self.ok_samples:
            pauses = dig(sample, "gc.pauses")
            if not isinstance(pauses, dict):
                continue
            seconds = [float(p) for p in pauses.get("seconds") or [] if is_number(p)]
            recorded += seconds
            n = pauses.get("count")
            count += int(n) if is_number(n) else len(seconds)
            if is_number(pauses.get("total_s")):
                total.append(float(pauses["total_s"]))
            top = pauses.get("max_s")
            if is_number(top) or seconds:
                maxima.append(float(top) if is_number(top) else max(seconds))
            subsampled |= bool(pauses.get("subsampled"))
        return PauseSet(sorted(recorded), count, max(maxima) if maxima else None,
                        subsampled, len(self.ok_samples))


@dataclass
class PauseSet:
    """The pauses of one run's ok samples pooled: ``recorded`` holds the lengths
    the result files keep (all of them, or a uniform subsample), ``count`` and
    ``max_s`` are exact."""

    recorded: list[float]
    count: int
    max_s: Optional[float]
    subsampled: bool
    samples: int


# ---------------------------------------------------------------------------
# Loading a folder


@dataclass
class Results:
    """Everything usable in a results folder, and what went wrong reading it."""

    folder: Path
    runs: list[Run] = field(default_factory=list)
    micro: Optional[MicroFile] = None
    hyperfine: list[HyperfineFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # unusable files or runs
    notes: list[str] = field(default_factory=list)    # caveats on files

    def problems(self, verb: str = "charting") -> list[str]:
        """Everything to report: errors, notes, then runs with failed samples."""
        runs = [r.problem(verb) for r in self.runs]
        return self.errors + self.notes + [p for p in runs if p]

    @property
    def empty(self) -> bool:
        return not (self.runs or self.micro or self.hyperfine)

    def params(self, key: tuple[str, str]) -> dict:
        """The params of ``key`` in the order the result files give them."""
        return next((r.params for r in self.runs if r.key == key), key_params(key))

    def select(self, role: Optional[str] = None) -> list[Run]:
        """The runs of one role (all runs when ``role`` is None)."""
        return [r for r in self.runs if role is None or r.role == role]


def _read_json(path: Path) -> Any:
    """Parse a file; raise ValueError with a short, human message on failure."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise ValueError("empty file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg})") from None


def _check_run(run: Any, where: str) -> None:
    """Raise ValueError naming the first structural problem of a RUN."""
    if not isinstance(run, dict):
        raise ValueError(f"{where} is not an object")
    if not isinstance(run.get("workload"), str):
        raise ValueError(f"{where} has no 'workload' string")
    if not isinstance(run.get("params", {}), dict):
        raise ValueError(f"{where}.params is not an object")
    config = run.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"{where} has no 'config' object")
    threshold = config.get("threshold")
    if threshold is None and run.get("implementation") == "cpython":
        pass                          # a twin run with CPython's own thresholds
    elif not (isinstance(threshold, list) and threshold
              and all(map(is_number, threshold))):
        raise ValueError(f"{where}.config.threshold is not a list of numbers")
    samples = run.get("samples")
    if not (isinstance(samples, list) and all(isinstance(s, dict) for s in samples)):
        raise ValueError(f"{where}.samples is not a list of objects")


def _load_rtbench(data: dict, path: Path, results: Results) -> None:
    """Add the runs of an rtbench/1 file; bad runs are reported and skipped."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA!r}")
    if data.get("kind") not in KINDS:
        raise ValueError(f"unknown kind {data.get('kind')!r} (expected one of "
                         f"{', '.join(KINDS)})")
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise ValueError("no 'runs' list")
    good = []
    for i, run in enumerate(runs):
        try:
            _check_run(run, f"runs[{i}]")
        except ValueError as exc:
            results.errors.append(f"{path}: {exc}; run skipped")
            continue
        good.append(Run(run, path, data))
    if data.get("complete") is False:
        results.notes.append(f"{path}: interrupted (complete: false): "
                             "it holds only the samples that finished")
    results.runs.extend(good)


def _load_one(path: Path, results: Results) -> None:
    """Classify a JSON file by its content and add it to ``results``."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "schema" in data:
        _load_rtbench(data, path, results)
    elif isinstance(data.get("benchmarks"), list):
        if results.micro is not None:
            results.notes.append(f"{path}: a second Google Benchmark file; "
                                 f"using {results.micro.path.name}, ignoring this one")
            return
        results.micro = parse_micro(data, path, results.notes)
    elif isinstance(data.get("results"), list):
        results.hyperfine.append(parse_hyperfine(data, path))
    else:
        raise ValueError("neither an rtbench/1 result (no 'schema'), nor Google "
                         "Benchmark ('benchmarks'), nor hyperfine ('results') JSON")


def _drop_duplicates(results: Results) -> None:
    """Keep one run per (role, workload, params, variant): the newest file's."""
    chosen: dict[tuple, Run] = {}
    for run in results.runs:
        ident = (run.role, run.implementation, run.key, run.variant)
        other = chosen.get(ident)
        if other is None:
            chosen[ident] = run
            continue
        keep, drop = (run, other) if run.created > other.created else (other, run)
        chosen[ident] = keep
        results.notes.append(f"{run.name}: in both {other.source} and {run.source}; "
                             f"using {keep.source}")
    kept = set(map(id, chosen.values()))
    results.runs = [r for r in results.runs if id(r) in kept]


def load_folder(folder: str | Path) -> Results:
    """Read every ``*.json`` file of ``folder`` (not its subfolders).

    Raises FolderError when ``folder`` is not a directory.  Files starting with a
    dot (the sweep journals) are ignored.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FolderError(f"{folder}: no such directory")
    if not folder.is_dir():
        raise FolderError(f"{folder}: not a directory")
    results = Results(folder)
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            _load_one(path, results)
        except ValueError as exc:
            results.errors.append(f"{path}: {exc}")
    _drop_duplicates(results)
    return results


def load_for_script(folder: Path, verb: str, warn: Callable[[str], None]) -> Optional[Results]:
    """What plot.py and summary.py start with: load ``folder``, pass each problem
    to ``warn`` (``verb`` says what the caller does with the runs), and return
    None, after saying why, when there is nothing usable (exit status 2)."""
    try:
        results = load_folder(folder)
    except FolderError as exc:
        warn(str(exc))
        return None
    for message in results.problems(verb):
        warn(message)
    if results.empty:
        warn(f"{folder}: no usable result file")
        return None
    return results


# ---------------------------------------------------------------------------
# Questions asked of the runs


ROLE_RANK = {"run": 0, "sweep": 1, "pair": 2, "cpython": 3, "scaling": 4}


def workload_keys(results: Results) -> list[tuple[str, str]]:
    """Every (workload, params) with an rtbench or CPython run, in order of appearance."""
    return list(dict.fromkeys(r.key for r in results.runs))


def main_keys(results: Results) -> list[tuple[str, str]]:
    """The (workload, params) that the tables and per-workload charts show: those
    run or swept; a workload measured only beside CPython shows its pair's key."""
    by_role = sorted(results.runs, key=lambda r: ROLE_RANK[r.role])   # stable
    measured = [r.key for r in by_role if r.role in ("run", "sweep")]
    names = {k[0] for k in measured}
    measured += [r.key for r in by_role if r.key[0] not in names and r.role != "scaling"]
    return list(dict.fromkeys(measured))


def key_label(results: Results, key: tuple[str, str]) -> str:
    """The workload name, with its params where it is not the workload's one
    main key (several sizes run, or the smaller size of a CPython comparison)."""
    workload, _ = key
    siblings = [k for k in main_keys(results) if k[0] == workload]
    if siblings == [key]:
        return workload
    return f"{workload} ({params_label(results.params(key))})"


def configurations(results: Results, key: tuple[str, str]) -> list[Run]:
    """The rtbench configurations of one workload, in variant display order.

    These are the runs of role ``run``; a workload that was only swept falls back
    to its sweep runs at the default threshold0, one measured only beside CPython
    to its pair runs.
    """
    runs = [r for r in results.select("run") if r.key == key]
    if not runs:
        runs = [r for r in results.select("sweep")
                if r.key == key and r.threshold0 == DEFAULT_THRESHOLD[0]]
    if not runs:
        runs = [r for r in results.select("pair") if r.key == key]
    return sorted(runs, key=lambda r: r.variant.sort_key)


def default_run(results: Results, key: tuple[str, str]) -> Optional[Run]:
    """The rtbench run closest to the default configuration, preferring role
    run, then sweep, then pair."""
    candidates = [r for r in results.runs if r.key == key and r.role != "cpython"
                  and r.ok_samples]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.variant.distance_from_default(),
                                          ROLE_RANK[r.role], r.variant.sort_key))


def cpython_run(results: Results, key: tuple[str, str],
                like: Optional[Run] = None) -> Optional[Run]:
    """The CPython run of ``key`` (with the thresholds of ``like`` if there are several)."""
    candidates = [r for r in results.select("cpython") if r.key == key and r.ok_samples]
    if not candidates:
        return None
    want = like.variant.threshold if like else DEFAULT_THRESHOLD
    return min(candidates, key=lambda r: (r.variant.threshold != want, not r.variant.gc))


def pair_run(results: Results, cp: Run) -> Optional[Run]:
    """The rtbench side of a CPython run: its pair from the same file at the
    same thresholds (measured in the same session), else the default run."""
    same = [r for r in results.select("pair") if r.key == cp.key and r.ok_samples
            and r.source == cp.source and r.variant.threshold == cp.variant.threshold]
    if same:
        return min(same, key=lambda r: r.variant.distance_from_default())
    return default_run(results, cp.key)


def cpython_pairs(results: Results) -> list[tuple[tuple[str, str], Run, Run]]:
    """(key, rtbench run, CPython run) for every workload run on both."""
    pairs = []
    for key in workload_keys(results):
        cp = cpython_run(results, key, default_run(results, key))
        rt = pair_run(results, cp) if cp is not None else None
        if rt is not None:
            pairs.append((key, rt, cp))
    return pairs


def _one_thread_runs(results: Results, run: Run) -> dict[str, Run]:
    """The one-thread runs beside ``run``, by refcount variant: the same
    workload and params but ``threads`` (1, or none: a file from before it),
    the pool and the default thresholds (runs.json's)."""
    def others(params: dict) -> str:
        return params_key({k: v for k, v in params.items() if k != "threads"})

    mine = others(run.params)
    return {r.variant.rc: r for r in results.runs if r.workload == run.workload and r.role in ("run", "sweep")
            and r.params.get("threads", 1) == 1 and others(r.params) == mine and r.ok_samples
            and r.variant.distance_from_default() == (r.variant.rc != DEFAULT_RC)}


def thread_scaling(results: Results) -> dict[str, list[tuple[str, ScalingRow]]]:
    """Each workload's runs at more than one thread (role ``scaling``: the
    suite's threads.json; with the pool and the default thresholds), each
    variant's one-thread run first, as rows of
    the throughput table (rtscaling): ``{workload: [(rc, row), ...]}``.
    Every throughput is relative to one nonatomic thread's median; a variant
    without a one-thread run has no speedups."""
    def wall(r: Optional[Run]) -> Optional[float]:
        return r.stat("wall_s").median if r is not None else None

    out: dict[str, list[tuple[str, ScalingRow]]] = {}
    many = [r for r in results.select("scaling") if r.implementation == "rtbench" and r.ok_samples
            and r.variant.distance_from_default() == (r.variant.rc != DEFAULT_RC)]
    for run in sorted(many, key=lambda r: (axis_order(r.variant.rc, RC_ORDER), r.params.get("threads", 1))):
        ones = _one_thread_runs(results, run)
        base, own, rc = ones.get(DEFAULT_RC), ones.get(run.variant.rc), run.variant.rc
        rows = out.setdefault(run.workload, [])
        if own is not None and (rc, 1) not in [(c, row.threads) for c, row in rows]:
            rows.append((rc, scaling_row(1, wall(own), own.ok_samples, wall(base), wall(own), own.ok_samples)))
        rows.append((rc, scaling_row(run.params.get("threads", 1), wall(run), run.ok_samples, wall(base),
                                     wall(own), own.ok_samples if own else None)))
    return out


@dataclass
class SweepGroup:
    """The runs of one sweep line: one workload and params, every other axis fixed."""

    key: tuple[str, str]
    variant: Variant          # the fixed axes; its threshold0 is meaningless
    runs: list[Run]           # sorted by threshold0
    label: str = ""           # what tells this line from its siblings

    @property
    def workload(self) -> str:
        return self.key[0]

    def points(self, metric: str) -> list[tuple[int, Stat]]:
        """(threshold0, Stat) for every threshold0 with at least one ok value."""
        out = []
        for run in self.runs:
            stat = run.stat(metric)
            if stat is not None and run.threshold0 is not None:
                out.append((run.threshold0, stat))
        return out


def _group_label(group: SweepGroup, siblings: list[SweepGroup]) -> str:
    """Name a sweep line by the axes that differ between the lines of a workload."""
    parts = []
    if len({g.key for g in siblings}) > 1:
        parts.append(params_label(group.runs[0].params))
    v = group.variant
    if len({g.variant.rc for g in siblings}) > 1:
        parts.append(f"rc:{v.rc}")
    if len({g.variant.alloc for g in siblings}) > 1:
        parts.append(f"alloc:{v.alloc}")
    if len({g.variant.gc for g in siblings}) > 1:
        parts.append("gc:on" if v.gc else "gc:off")
    if len({g.variant.threshold[1:] for g in siblings}) > 1:
        parts.append("t1,t2:" + ",".join(str(t) for t in v.threshold[1:]))
    if len({g.variant.decay for g in siblings}) > 1:
        parts.append(f"decay:{DEFAULT_ARENA_DECAY_MS if v.decay is None else v.decay}")
    return " ".join(parts) or group.workload


def sweeps(results: Results) -> dict[str, list[SweepGroup]]:
    """The sweep lines of each swept workload, the one nearest the default first."""
    groups: dict[tuple, SweepGroup] = {}
    for run in results.select("sweep"):
        fixed = Variant(run.variant.rc, run.variant.alloc, run.variant.gc,
                        (DEFAULT_THRESHOLD[0],) + run.variant.threshold[1:], run.variant.decay)
        ident = (run.key, fixed)
        groups.setdefault(ident, SweepGroup(run.key, fixed, [])).runs.append(run)
    by_workload: dict[str, list[SweepGroup]] = {}
    for group in groups.values():
        group.runs.sort(key=lambda r: r.threshold0 if r.threshold0 is not None else -1)
        by_workload.setdefault(group.workload, []).append(group)
    for siblings in by_workload.values():
        siblings.sort(key=lambda g: (g.variant.distance_from_default(),
                                     g.variant.sort_key, g.key[1]))
        for group in siblings:
            group.label = _group_label(group, siblings)
    return by_workload


def best_threshold(group: SweepGroup, metric: str) -> Optional[tuple[int, Stat]]:
    """The threshold0 with the lowest median ``metric`` (the smaller on a tie)."""
    points = group.points(metric)
    if not points:
        return None
    return min(points, key=lambda p: (p[1].median, p[0]))


# ---------------------------------------------------------------------------
# Machines


def machine_text(machine: dict) -> str:
    """``ci-1, AMD EPYC, 2 cores, commit abc1234`` (unknown parts left out)."""
    parts = [str(machine[k]) for k in ("hostname", "cpu_model") if machine.get(k)]
    if machine.get("cores"):
        parts.append(f"{machine['cores']} cores")
    parts.append(f"commit {machine.get('git_commit') or 'unknown'}")
    return ", ".join(parts)


def machines_line(runs: Iterable[Run]) -> str:
    """One line naming the machine(s) and commit(s) the runs were measured on."""
    texts = list(dict.fromkeys(machine_text(r.machine) for r in runs))
    if not texts:
        return "machine: unknown"
    if len(texts) == 1:
        return f"machine: {texts[0]}"
    shown = "; ".join(texts[:3]) + (f"; +{len(texts) - 3} more" if len(texts) > 3 else "")
    return f"machines (mixed!): {shown}"


def micro_machine_line(micro: MicroFile, runs: Iterable[Run] = ()) -> str:
    """The machine line of a Google Benchmark file, from its ``context``.

    ``cpu_model`` and ``git_commit`` are read from the context too, where the
    harness added them with ``--benchmark_context=key=value``.  Without a commit
    in the context, the commit of ``runs`` (this folder's rtbench results) is
    given, saying where it came from, when they agree on one.
    """
    ctx = micro.context
    parts = [str(ctx[k]) for k in ("host_name", "cpu_model") if ctx.get(k)]
    if ctx.get("num_cpus"):
        parts.append(f"{ctx['num_cpus']} cpus")
    if is_number(ctx.get("mhz_per_cpu")):
        parts.append(f"{ctx['mhz_per_cpu']} MHz")
    commits = {r.machine.get("git_commit") for r in runs} - {None, ""}
    if ctx.get("git_commit"):
        parts.append(f"commit {ctx['git_commit']}")
    elif len(commits) == 1:
        parts.append(f"commit {commits.pop()} (of this folder's rtbench results)")
    else:
        parts.append("commit unknown")
    return "machine: " + ", ".join(parts)
