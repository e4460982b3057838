"""What every chart family shares: the style, figures, footnotes, axes, labels
placed by their measured extents, and reproducible files.

A chart family module (``chart_*.py``) returns ``Chart`` records: a figure and
what the report says beside it (title, caption, verdicts, sources), or no figure
and the reason it was not drawn.  ``plot.py`` saves them; ``report.py`` inlines
their SVG.

matplotlib is used the object way: ``matplotlib.figure.Figure`` with an Agg
canvas attached (no pyplot, no global backend switch), and the project style
(``rtbench.mplstyle``) applied through ``matplotlib.rc_context`` by ``style()``.
"""

from __future__ import annotations

import io
import math
import re
from xml.etree import ElementTree
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

import matplotlib
import matplotlib.image
import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.transforms import Bbox

import rtstats as rs

STYLE_FILE = Path(__file__).resolve().with_name("rtbench.mplstyle")
FOOT_SIZE = 7                    # points
MAX_FOOT_NOTES = 4
NO_SWEEP = "no threshold0 sweep in this folder (rtbench sweep)"
MOVABLE = "movable"          # gid of a label that may go to the axes' bottom to make room

# One colour per allocator backend (tab10), kept across charts.
_TAB10 = matplotlib.colormaps["tab10"].colors
BACKEND_COLORS = {"pool": _TAB10[0], "malloc": _TAB10[1], "debug": _TAB10[7],
                  "mimalloc": _TAB10[2], "jemalloc": _TAB10[4]}
RC_MARKERS = {"nonatomic": "o", "atomic": "D", "biased": "s"}
RC_COLORS = {"atomic": _TAB10[3], "biased": _TAB10[2]}
RTBENCH_COLOR, CPYTHON_COLOR = _TAB10[0], "#e0a000"
# GC generations: three hues that differ in lightness too (readable in grey).
GEN_COLORS = {0: "#8fb9e0", 1: "#e08a1e", 2: "#8b1a4a"}
SERIES_COLORS = [_TAB10[i] for i in (0, 3, 2, 4, 1, 5, 9, 7)]
DEFAULT_COLOR = "0.15"
NOISE_BAND = "0.88"


def threshold_colors(n: int) -> list:
    """``n`` colours along viridis (dark: small threshold0, light: large)."""
    return [matplotlib.colormaps["viridis"](x) for x in np.linspace(0.0, 0.85, max(n, 1))]


def backend_color(alloc: Optional[str]):
    if alloc in BACKEND_COLORS:
        return BACKEND_COLORS[alloc]
    return _TAB10[(8 + sum(map(ord, str(alloc)))) % 10]


@contextmanager
def style() -> Iterator[None]:
    """The project style, for the duration of a ``with`` block."""
    with matplotlib.rc_context(fname=str(STYLE_FILE)):
        yield


# ---------------------------------------------------------------------------
# Charts


@dataclass
class Chart:
    """One chart, drawn or not.

    ``section`` is where the report shows it (a workload name, ``overview``,
    ``micro`` or ``hyperfine``); ``caption`` holds the verdicts and how to read
    it, one line each; ``foot`` the footnote lines of the files (machine and
    commit, samples); ``skipped`` says why there is no figure.
    """

    name: str
    section: str
    title: str
    caption: list[str] = field(default_factory=list)
    foot: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    figure: Optional[Figure] = None
    skipped: Optional[str] = None
    svg: str = ""                               # the report's copy, set when saved
    files: list[Path] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    table: Optional[tuple[list[str], list[list[str]]]] = None   # header, rows
    table_label: str = ""                       # what the report's disclosure of the table says
    body: Optional[Bbox] = None                 # the axes' area in SVG points (finish)


    module: str = ""                            # the chart family that drew it

    @property
    def drawn(self) -> bool:
        return self.skipped is None


def not_drawn(name: str, section: str, title: str, why: str,
              sources: Sequence[str] = ()) -> Chart:
    """A chart left out, and the reason the report gives."""
    return Chart(name, section, title, sources=list(sources), skipped=why)


def slug(text: str) -> str:
    """A file-name-safe form of a workload name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "unnamed"


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1,
               **kwargs) -> tuple[Figure, np.ndarray]:
    """A constrained-layout Figure on an Agg canvas and its 2-D array of axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def renderer(fig: Figure):
    return fig.canvas.get_renderer()


def wrap_to_width(text: str, width_px: float, fig: Figure, fontsize: float) -> str:
    """``text`` broken into lines no wider than ``width_px``, by measured extents."""
    rend = renderer(fig)
    prop = FontProperties(size=fontsize)

    def width(line: str) -> float:
        return rend.get_text_width_height_descent(line, prop, ismath=False)[0]

    out = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and width(candidate) > width_px:
                out.append(line)
                line = "  " + word
            else:
                line = candidate
        out.append(line)
    return "\n".join(out)


def finish(chart: Chart) -> None:
    """Title and footnote, then the layout, then the text checked.

    The footnote is wrapped to the figure's width by measured text extents and
    the axes keep clear of its measured height; crowded tick labels are thinned
    (``fit_tick_labels``); what still collides is listed in ``chart.overlaps``."""
    fig = chart.figure
    fig.suptitle(chart.title).set_gid("title")
    width = fig.bbox.width * 0.98
    text = wrap_to_width("\n".join(chart.foot), width, fig, FOOT_SIZE)
    foot = fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=FOOT_SIZE,
                    color="0.35", linespacing=1.3)
    foot.set_in_layout(False)
    foot.set_gid("footnote")
    height = foot.get_window_extent(renderer(fig)).height / fig.bbox.height
    fig.get_layout_engine().set(rect=(0, height + 0.015, 1, 1 - height - 0.015))
    fig.canvas.draw()
    if fit_tick_labels(fig) | move_labels_clear(fig):
        fig.canvas.draw()
    chart.overlaps = text_overlaps(fig, draw=False)
    chart.body = body_box(fig)


def notes_line(notes: Iterable[str]) -> list[str]:
    """At most MAX_FOOT_NOTES notes for a footnote; the rest are in the report."""
    shown = list(dict.fromkeys(notes))
    if not shown:
        return []
    extra = len(shown) - MAX_FOOT_NOTES
    text = "; ".join(shown[:MAX_FOOT_NOTES])
    if extra > 0:
        text += f"; +{extra} more (see the report)"
    return [f"Note: {text}."]


# ---------------------------------------------------------------------------
# Reproducible files

_ID_REF = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def renumber_svg_ids(svg: str, prefix: str = "i") -> str:
    """Every element id renamed ``<prefix><n>`` in order of first appearance,
    references included.

    matplotlib names clip paths and markers by a hash of their coordinates, whose
    last digit can differ between two runs (numpy's sums depend on memory
    alignment); renumbered, the ids no longer depend on it.  A distinct prefix
    per chart keeps ids unique when several SVGs share one HTML page.
    """
    names: dict[str, str] = {}
    for match in re.finditer(r'\bid="([^"]+)"', svg):
        names.setdefault(match.group(1), f"{prefix}{len(names) + 1}")

    def rename(match: re.Match) -> str:
        return match.group(1) + names.get(match.group(2), match.group(2))

    return _ID_REF.sub(rename, svg)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG, from the canvas ``finish`` drew last (the style draws at
    the PNG's resolution, so no second rendering), without a Software tag."""
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, np.asarray(fig.canvas.buffer_rgba()), format="png",
                            dpi=fig.dpi, metadata={"Software": None})
    return buf.getvalue()


def svg_text(fig: Figure) -> str:
    """The figure as SVG, its text as text, without a date; ids still hashed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().decode("utf-8")


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG, with no date, software tag or hashed id."""
    if fmt == "png":
        return png_bytes(fig)
    return renumber_svg_ids(svg_text(fig)).encode("utf-8")


def report_svg(svg: str, body: Optional[Bbox]) -> str:
    """The SVG for the report, made from the file's: without its title and
    footnote (the report prints both as text), cropped to ``body`` (points,
    from the top left) where they were, and slimmed (``slim_svg``)."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\s*<g id="(title|footnote)">.*?</g>', "", svg, flags=re.S)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    if body is not None:
        box = f"{body.x0:.1f} {body.y0:.1f} {body.width:.1f} {body.height:.1f}"
        svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*" viewBox="[^"]*"',
                     lambda m: f'<svg {m.group(1)}width="{body.width:.1f}pt" '
                               f'height="{body.height:.1f}pt" viewBox="{box}"',
                     svg, count=1)
    return slim_svg(svg)


_SVG_NS, _XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
_LONG_DECIMAL = re.compile(r"(\d+\.\d\d)\d+")


def slim_svg(svg: str) -> str:
    """The same picture in about half the elements, for a page that holds dozens:
    the groups matplotlib wraps each artist in (a ``<g>`` with only an id) are
    unwrapped, ids nothing refers to are dropped, and coordinates are rounded to
    0.01 pt in attributes (never in the text)."""
    ElementTree.register_namespace("", _SVG_NS)
    ElementTree.register_namespace("xlink", _XLINK_NS)
    referenced = set(re.findall(r'(?:url\(#|href="#)([^")]+)', svg))
    root = ElementTree.fromstring(svg)

    def prune(element) -> None:
        kept = []
        for child in element:
            prune(child)
            for name, value in child.attrib.items():
                child.set(name, _LONG_DECIMAL.sub(r"\1", value))
            if child.get("id") not in referenced:
                child.attrib.pop("id", None)
                if child.tag == f"{{{_SVG_NS}}}g" and not child.attrib:
                    kept.extend(child)
                    continue
            kept.append(child)
        element[:] = kept

    prune(root)
    return ElementTree.tostring(root, encoding="unicode")


def body_box(fig: Figure) -> Bbox:
    """Where the axes and legends are, title and footnote aside: a box in SVG
    points measured from the top left, with a small margin."""
    rend = renderer(fig)
    boxes = [ax.get_tightbbox(rend) for ax in fig.axes if ax.get_visible()]
    boxes += [legend.get_window_extent(rend) for legend in fig.legends]
    union = Bbox.union([b for b in boxes if b is not None and b.width > 0])
    scale = 72 / fig.dpi
    height = fig.bbox.height
    x0, x1 = max(union.x0 - 4, 0) * scale, min(union.x1 + 4, fig.bbox.width) * scale
    top, bottom = (height - min(union.y1 + 4, height)) * scale, (height - max(union.y0 - 4, 0)) * scale
    return Bbox.from_extents(x0, top, x1, bottom)


# ---------------------------------------------------------------------------
# Text that does not collide


def _drawn_tick_labels(axis) -> list[Text]:
    """The tick labels an axis draws: those of ticks inside its view."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    return [label for tick in axis.get_major_ticks() + axis.get_minor_ticks()
            if low - span <= tick.get_loc() <= high + span
            for label, on in ((tick.label1, tick.label1.get_visible()),
                              (tick.label2, tick.label2.get_visible())) if on]


def _texts(fig: Figure) -> list[Text]:
    """The visible, non-empty texts of a figure, tick labels only where drawn."""
    ticks = set()
    drawn = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks.update(id(t) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                         for t in (tick.label1, tick.label2))
            if ax.get_visible():
                drawn += _drawn_tick_labels(axis)
    for text in fig.findobj(Text):
        if id(text) in ticks:
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        drawn.append(text)
    return [t for t in dict.fromkeys(drawn) if t.get_visible() and t.get_text().strip()]


def text_overlaps(fig: Figure, draw: bool = True) -> list[str]:
    """Pairs of visible texts whose measured extents overlap, and texts that
    leave the figure, as ``'a' / 'b'`` strings (empty: all is well).
    ``draw=False`` when the figure was drawn since its last change."""
    if draw:
        fig.canvas.draw()
    rend = renderer(fig)
    boxes = []
    for text in _texts(fig):
        box = text.get_window_extent(rend)
        if box.width > 0 and box.height > 0:
            boxes.append((text.get_text().replace("\n", " ")[:40], box.shrunk(0.97, 0.9)))
    problems = []
    figbox = fig.bbox.padded(1)
    for i, (name, box) in enumerate(boxes):
        if not figbox.contains(box.x0, box.y0) or not figbox.contains(box.x1, box.y1):
            problems.append(f"{name!r} / figure edge")
        for other, obox in boxes[i + 1:]:
            if box.overlaps(obox):
                problems.append(f"{name!r} / {other!r}")
    return problems


def place_labels(ax: Axes, items: Sequence[tuple[float, float, str]], *,
                 avoid: Sequence[Bbox] = (), fontsize: float = 7, color="0.25",
                 weights: Optional[Sequence[str]] = None) -> int:
    """Write each label beside its point (data coordinates), trying offsets in
    turn and keeping the first whose measured extent touches no label already
    placed, no text or legend already in the axes, no box in ``avoid`` (display
    coordinates), and stays inside the axes.
    A label with no free place is left out.  Call after the layout is final
    (``fig.canvas.draw()``).  Returns how many were left out."""
    fig = ax.figure
    rend = renderer(fig)
    taken = list(avoid) + [t.get_window_extent(rend) for t in ax.texts
                           if t.get_visible() and t.get_text()]
    legend = ax.get_legend()
    if legend is not None:
        taken.append(legend.get_window_extent(rend))
    inside = ax.get_window_extent(rend)
    offsets = ((5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
               (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"))
    left_out = 0
    for i, (x, y, label) in enumerate(items):
        for dx, dy, ha, va in offsets:
            ann = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points",
                              ha=ha, va=va, fontsize=fontsize, color=color,
                              fontweight=weights[i] if weights else "normal")
            ann.set_in_layout(False)
            box = ann.get_window_extent(rend)
            fits = (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
                    and not any(box.overlaps(b) for b in taken))
            if fits:
                taken.append(box)
                break
            ann.remove()
        else:
            left_out += 1
    return left_out


# ---------------------------------------------------------------------------
# Axes


def seconds_label(value: float) -> str:
    return rs.format_seconds(value) if value > 0 else "0"


def log_seconds_axis(axis, low: float, high: float) -> None:
    """A log time axis with every tick labelled in one notation (``10 µs``):
    decades, with 2 and 5 between them when the range is under two decades."""
    decades = math.log10(high / low) if low > 0 and high > low else 1
    subs = (1.0,) if decades >= 2 else (1.0, 2.0, 5.0)
    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=10))
    axis.set_minor_locator(ticker.NullLocator())
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: seconds_label(v)))


_RATIO_STEPS = (               # coarse to fine
    (1.0,),
    (1.0, 3.0),
    (1.0, 2.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
)


def ratio_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log ratio axis from ``low`` to ``high``: the finest
    "nice" series with 3 to 6 ticks in range (decades, thinned to every other
    one, when even they are too many), so 1 is a tick whenever it is in range;
    evenly spaced steps for a range too narrow for any series."""
    chosen: list[float] = []
    for steps in _RATIO_STEPS:
        ticks = [m * 10.0 ** e for e in range(-6, 7) for m in steps]
        inside = [t for t in ticks if low <= t <= high]
        if len(inside) > 6:
            if chosen:
                break
            while len(inside) > 6:
                inside = inside[::2] if 1.0 not in inside else \
                    [t for t in inside if round(math.log10(t)) % 2 == 0]
        if len(inside) >= 3:
            chosen = inside
    if chosen:
        return chosen
    for bins in (5, 8, 12):
        locator = ticker.MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10])
        inside = [t for t in locator.tick_values(low, high) if low <= t <= high and t > 0]
        if len(inside) >= 3:
            break
    return inside


def ratio_label(value: float) -> str:
    """``0.8×``, ``1×``, ``12×``, ``0.05×``."""
    return f"{value:.3g}×"


def ratio_axis(ax: Axes, which: str, low: float, high: float,
               noise: float = 0.0) -> tuple[float, float]:
    """A log ratio axis (``0.8×``) spanning ``low``..``high`` and at least
    ``1 ± max(2%, 3 × noise)`` around 1, so that it never zooms below what the
    samples' own spread makes meaningful.  Sets and returns the limits."""
    margin = max(0.02, 3 * noise)
    low, high = min(low, 1 / (1 + margin)), max(high, 1 + margin)
    pad = (high / low) ** 0.06
    low, high = low / pad, high * pad
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    (ax.set_ylim if which == "y" else ax.set_xlim)(low, high)
    ticks = ratio_ticks(low, high)
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_minor_locator(ticker.NullLocator())
    axis.set_major_formatter(ticker.FixedFormatter([ratio_label(t) for t in ticks]))
    return low, high


def threshold_axis(ax: Axes, values: Iterable[int], default: Optional[int] = None) -> None:
    """A log x axis with a labelled tick at each threshold0 (``3.2k``).

    The default threshold0 gets no tick of its own (it sits close to 1000 on a
    log axis, and the two labels would collide): a dotted line marks it,
    labelled inside the axes.
    """
    ticks = sorted({v for v in values if v > 0 and v != default})
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([rs.format_threshold(t) for t in ticks]))
    everything = ticks + ([default] if default else [])
    if everything:
        ax.set_xlim(min(everything) / 1.5, max(everything) * 1.5)
    if default:
        ax.axvline(default, color="0.45", linestyle=":", linewidth=1, zorder=1)
        label = ax.annotate(f"default {default}", (default, 1), xycoords=("data", "axes fraction"),
                            xytext=(2, -2), textcoords="offset points", ha="left", va="top",
                            fontsize=6.5, color="0.35")
        label.set_in_layout(False)
        label.set_gid(f"{MOVABLE}-{id(label)}")


def _crowded(labels: list[Text], rend) -> bool:
    boxes = sorted((t.get_window_extent(rend) for t in labels), key=lambda b: (b.x0, b.y0))
    return any(a.padded(1).overlaps(b) for a, b in zip(boxes, boxes[1:]))


def _thin(axis) -> bool:
    """Keep every other tick of a fixed-tick axis (1× stays); False when it cannot."""
    locator, formatter = axis.get_major_locator(), axis.get_major_formatter()
    if not isinstance(locator, ticker.FixedLocator) or len(locator.locs) < 3:
        return False
    locs = list(locator.locs)
    labels = (list(formatter.seq) if isinstance(formatter, ticker.FixedFormatter)
              else None)
    anchor = locs.index(1.0) if 1.0 in locs else 0
    keep = [i for i in range(len(locs)) if (i - anchor) % 2 == 0]
    axis.set_major_locator(ticker.FixedLocator([locs[i] for i in keep]))
    if labels is not None:
        axis.set_major_formatter(ticker.FixedFormatter([labels[i] for i in keep]))
    return True


def move_labels_clear(fig: Figure) -> bool:
    """A MOVABLE label that touches a legend or a text of its axes goes from the
    top of the axes to the bottom.  Needs a drawn figure; True when one moved."""
    rend = renderer(fig)
    moved = False
    for ax in fig.axes:
        movable = [t for t in ax.texts if str(t.get_gid()).startswith(MOVABLE)]
        others = [t.get_window_extent(rend) for t in ax.texts
                  if t not in movable and t.get_visible() and t.get_text()]
        if ax.get_legend() is not None:
            others.append(ax.get_legend().get_window_extent(rend))
        for label in movable:
            box = label.get_window_extent(rend)
            if any(box.overlaps(other) for other in others):
                label.xy = (label.xy[0], 0)
                label.set_position((2, 2))
                label.set_verticalalignment("bottom")
                moved = True
    return moved


def fit_tick_labels(fig: Figure) -> bool:
    """Where the measured tick labels of an axis touch, keep every other tick
    (or tilt x labels that cannot be thinned).  Needs a drawn figure; returns
    whether anything changed (draw again)."""
    rend = renderer(fig)
    changed = False
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in _drawn_tick_labels(axis) if t.get_text()]
            if len(labels) < 2 or not _crowded(labels, rend):
                continue
            if _thin(axis):
                changed = True
            elif axis is ax.xaxis:
                ax.tick_params(axis="x", labelrotation=40)
                for label in ax.get_xticklabels():
                    label.set_horizontalalignment("right")
                    label.set_rotation_mode("anchor")
                changed = True
    return changed


def one_line(ax: Axes, value: float = 1.0, vertical: bool = False) -> None:
    """The 1× reference line."""
    line = ax.axvline if vertical else ax.axhline
    line(value, color="0.35", linewidth=0.9, zorder=1)


# ---------------------------------------------------------------------------
# Dots with intervals


def ratio_dot(ax: Axes, pos: float, ratio: rs.Ratio, color, marker: str = "o",
              horizontal: bool = True, label: Optional[str] = None, size: float = 5.5,
              filled: Optional[bool] = None):
    """A ratio as a dot with its 95% interval: filled when the interval excludes
    1 (beyond noise), hollow when it does not or when there is no interval
    (``filled`` overrides, for a median that is no ratio)."""
    filled = ratio.beyond_noise if filled is None else filled
    kwargs = dict(fmt=marker, color=color, markersize=size, elinewidth=1.1,
                  markerfacecolor=color if filled else "white", markeredgewidth=1.1,
                  label=label, zorder=3)
    if ratio.has_ci:
        err = [[ratio.value - ratio.low], [ratio.high - ratio.value]]
        kwargs["xerr" if horizontal else "yerr"] = err
    x, y = (ratio.value, pos) if horizontal else (pos, ratio.value)
    return ax.errorbar([x], [y], **kwargs)


def ratio_limits(ratios: Iterable[Optional[rs.Ratio]]) -> tuple[float, float]:
    """The lowest and highest value or interval end among ``ratios``."""
    ends = [v for r in ratios if r for v in (r.value, r.low, r.high) if v and v > 0]
    return (min(ends), max(ends)) if ends else (1.0, 1.0)


def interval_legend_note(ratios: Iterable[Optional[rs.Ratio]]) -> str:
    """What the dots and bars mean, and whether some have no interval."""
    ratios = [r for r in ratios if r]
    bare = sorted({min(r.n_a, r.n_b) for r in ratios if not r.has_ci})
    text = ("Dots: ratio of medians; bars: 95% bootstrap interval (seeded); filled: the "
            "interval excludes 1 (beyond noise), hollow: within noise")
    if bare:
        text += (f"; no interval where a side has under {rs.MIN_SAMPLES_FOR_CI} samples "
                 f"(n={'/'.join(map(str, bare))})")
    return text + "."
