"""The measured window's pieces, a twin's run and a program's alike: the
collector's statistics and settings, the timing of its pauses, the RSS,
the instruction counter, and the fields every report has.

From the collection that starts the run to the end of the workload or
program, nothing here keeps a GC-tracked object (run.py says why).
"""
import gc
import os
import sys
from time import monotonic, perf_counter, process_time

MAX_PAUSE_SAMPLES = 20000       # pauses kept in 'seconds' / 'generation'
PERCENTILES = (50, 90, 99)


def read_peak_rss(pid='self'):
    """Return a process's peak resident set since its exec (VmHWM), in
    bytes, or None.  Not getrusage's ru_maxrss: the parent's size, copied at
    fork, is counted into the child's when it execs."""
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def read_rss(page_size):
    """Return the resident set size in bytes, or None where /proc has none.

    Reads /proc/self/statm with os.read: no file objects, only the
    argument tuples of a few calls, taken from and returned to the free
    list.
    """
    try:
        fd = os.open('/proc/self/statm', os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 256)
    finally:
        os.close(fd)
    start = data.index(b' ') + 1            # field 2: resident pages
    end = data.index(b' ', start)
    return int(data[start:end]) * page_size


def read_memory(pid):
    """Return process pid's memory from /proc/PID/smaps_rollup, or None.

    rss_bytes, pss_bytes (each page divided by the processes sharing it),
    uss_bytes (pages no other process maps: Private_Clean + Private_Dirty),
    shared_bytes and pss_anon_bytes (None on kernels before 5.x).
    """
    try:
        with open('/proc/%s/smaps_rollup' % pid) as f:
            text = f.read()
    except OSError:
        return None
    kib = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].endswith(':') and parts[2] == 'kB':
            kib[parts[0][:-1]] = int(parts[1]) * 1024
    if 'Pss' not in kib or 'Rss' not in kib:
        return None
    return {'rss_bytes': kib['Rss'], 'pss_bytes': kib['Pss'],
            'uss_bytes': kib.get('Private_Clean', 0) + kib.get('Private_Dirty', 0),
            'shared_bytes': kib.get('Shared_Clean', 0) + kib.get('Shared_Dirty', 0),
            'pss_anon_bytes': kib.get('Pss_Anon')}


class Context:
    """What a workload's run(params, ctx) may use: ctx.mark()."""

    __slots__ = ('start', 'page_size', 'names', 'times', 'rss', 'live')

    def __init__(self):
        self.start = 0.0
        self.page_size = os.sysconf('SC_PAGE_SIZE')
        # Parallel lists, not one record per mark: appending a str, a float
        # or an int allocates nothing the collector counts.
        self.names = []
        self.times = []
        self.rss = []
        self.live = []

    def mark(self, name, live_bytes=None):
        """Record the time since the workload started, the RSS, and live_bytes."""
        self.times.append(perf_counter() - self.start)
        self.names.append(name)
        self.rss.append(read_rss(self.page_size))
        self.live.append(live_bytes)

    def marks(self):
        """Return the marks as the JSON's list of objects."""
        return [{'name': name, 't_s': t, 'rss_bytes': rss, 'live_bytes': live}
                for name, t, rss, live
                in zip(self.names, self.times, self.rss, self.live)]


class PauseLog:
    """A gc.callbacks callback that times every collection."""

    __slots__ = ('seconds', 'generation', 'starts', 'started')

    def __init__(self):
        self.seconds = []
        self.generation = []
        self.starts = []                # perf_counter() at each start
        self.started = 0.0

    def callback(self, phase, info):
        if phase == 'start':
            self.started = perf_counter()
        else:
            self.seconds.append(perf_counter() - self.started)
            self.generation.append(info['generation'])
            self.starts.append(self.started)

    def clear(self):
        """Forget the pauses so far (a forked worker starts its own)."""
        del self.seconds[:]
        del self.generation[:]
        del self.starts[:]


def read_stats(out):
    """Store gc.get_stats() in out, a list of 9 ints, generation by generation.

    get_stats() allocates a list and dicts, which may stay counted in the
    young generation (free lists), so this is called only outside the
    measured region.
    """
    stats = gc.get_stats()
    for g in range(3):
        out[3 * g] = stats[g]['collections']
        out[3 * g + 1] = stats[g]['collected']
        out[3 * g + 2] = stats[g]['uncollectable']


def stats_delta(before, after):
    """Return the report's collections/collected/uncollectable from two
    read_stats() lists."""
    delta = [a - b for a, b in zip(after, before)]
    return {'collections': delta[0::3], 'collected': delta[1::3],
            'uncollectable': delta[2::3]}


def pause_stats(seconds):
    """Return count, total and nearest-rank percentiles of pause lengths.

    Percentiles are nearest-rank: the value at index ceil(q * n) - 1 of the
    sorted pauses.
    """
    n = len(seconds)
    ordered = sorted(seconds)
    summary = {'count': n, 'total_s': sum(seconds, 0.0)}
    for q in PERCENTILES:
        rank = (q * n + 99) // 100          # ceil(q / 100 * n), exactly
        summary['p%d_s' % q] = ordered[rank - 1] if n else 0.0
    summary['max_s'] = ordered[-1] if n else 0.0
    return summary


def pauses_by_generation(seconds, generation):
    """Return pause_stats() of each generation's pauses, 0 to 2."""
    return [pause_stats([s for s, g in zip(seconds, generation) if g == k])
            for k in range(3)]


def summarize_pauses(seconds, generation, t_s):
    """Return the JSON's gc.pauses object for the pauses (in order), their
    generations and their start times (seconds since the workload started).

    Past MAX_PAUSE_SAMPLES pauses, 'seconds', 'generation' and 't_s' keep
    an evenly spaced subsample; the statistics stay exact.
    """
    n = len(seconds)
    summary = pause_stats(seconds)
    if n > MAX_PAUSE_SAMPLES:
        keep = [i * n // MAX_PAUSE_SAMPLES for i in range(MAX_PAUSE_SAMPLES)]
        summary['seconds'] = [seconds[i] for i in keep]
        summary['generation'] = [generation[i] for i in keep]
        summary['t_s'] = [t_s[i] for i in keep]
        summary['subsampled'] = True
    else:
        summary['seconds'] = list(seconds)
        summary['generation'] = list(generation)
        summary['t_s'] = list(t_s)
    return summary


def timed_pauses(pauses):
    """The pause log's summary without per-pause lists (a worker's), or
    None when the timing callback is not installed."""
    if pauses.callback not in gc.callbacks:
        return None
    summary = pause_stats(pauses.seconds)
    summary['by_generation'] = pauses_by_generation(pauses.seconds,
                                                    pauses.generation)
    return summary


class CountedRegion:
    """The harness's instruction counter around the workload: the C code of
    librtb_count.so (harness/region.c), loaded with ctypes when the
    environment asks for a count (RTBENCH_COUNT=perf|callgrind, and
    RTBENCH_COUNT_LIB naming the library).  Loading happens before the
    region starts, so only the workload is counted."""

    def __init__(self, path):
        import ctypes
        lib = ctypes.CDLL(path)
        self.begin = lib.rtb_region_begin_simple     # resolved now: calls allocate nothing kept
        self.end = lib.rtb_region_end
        self.end.restype = ctypes.c_longlong

    def start(self):
        """Switch counting on (raises when the counter cannot start)."""
        if self.begin() != 0:
            raise OSError('cannot count instructions (librtb_count said why above)')


def counted_region():
    """A CountedRegion to begin and end, or None when no count was asked for.
    Made before the clean-up collection, like everything the driver keeps."""
    if not os.environ.get('RTBENCH_COUNT'):
        return None
    return CountedRegion(os.environ['RTBENCH_COUNT_LIB'])


def apply_settings(threshold, gc_enabled):
    """gc.set_threshold (None keeps a threshold) and gc.disable as asked."""
    if threshold is not None:
        current = gc.get_threshold()
        gc.set_threshold(*[current[g] if t is None else t
                           for g, t in enumerate(threshold)])
    if not gc_enabled:
        gc.disable()


def gc_settings():
    """The collector's settings now: threshold, enabled, frozen."""
    return {'threshold': list(gc.get_threshold()), 'enabled': gc.isenabled(),
            'frozen': gc.get_freeze_count()}


def settings_warnings(first, end, who='the program', when='its first line'):
    """Return the warnings for settings the program changed itself."""
    warnings = []
    if end['threshold'] != first['threshold']:
        warnings.append({'kind': 'threshold-changed', 'message': (
            '%s set the GC thresholds to %s (%s at %s): the sample measures '
            'its own thresholds, not those asked for'
            % (who, tuple(end['threshold']), tuple(first['threshold']), when))})
    if end['enabled'] != first['enabled']:
        warnings.append({'kind': 'gc-switched', 'message': (
            '%s %s the collector itself (gc.%s()): the sample measures its own '
            'choice, not --gc' % (who, 'enabled' if end['enabled'] else 'disabled',
                                  'enable' if end['enabled'] else 'disable'))})
    return warnings


def clean_start(before, page_size):
    """Collect everything before a run, uncounted; return the RSS before it.

    Start from a clean heap with every count at 0; this collection is not
    counted.  A full collection empties the list, dict and tuple free
    lists, after which even a short-lived container stays counted, so
    nothing is allocated between it and the run: the statistics are read
    before it into before (a list of 9), and its own share is added to them
    (its collected and uncollectable objects, told apart by what reached
    gc.garbage).  The RSS is read before the clean-up collection: reading it
    after would allocate into emptied free lists (and could collect).
    """
    rss_at_start = read_rss(page_size)
    read_stats(before)
    garbage = len(gc.garbage)
    found = gc.collect()
    uncollectable = len(gc.garbage) - garbage
    before[6] += 1
    before[7] += found - uncollectable
    before[8] += uncollectable
    return rss_at_start


def sample_report(wall_s, cpu_s, result, marks, gc_report, t0_monotonic,
                  final_rss, rss_at_start, exec_monotonic):
    """The fields every report has, twin's or program's; exec_monotonic is
    when run.py's first line ran (the interpreter's start-up before it)."""
    return {
        'wall_s': wall_s,
        'cpu_s': cpu_s,
        'result': result,
        'marks': marks,
        'gc': gc_report,
        't0_monotonic': t0_monotonic,
        'alloc': None,
        'profile': None,
        'final_rss_bytes': final_rss,
        'rss_at_start_bytes': rss_at_start,
        'peak_rss_bytes': read_peak_rss(),
        't_exec_monotonic': exec_monotonic,
        'python': {
            'version': sys.version,
            'executable': sys.executable,
            'implementation': sys.implementation.name,
        },
    }


def measure(command, exec_monotonic):
    """Run the twin of a command once under its collector settings; return
    the report."""
    gc_timing = command.gc_timing
    ctx = Context()
    pauses = PauseLog()
    callback = pauses.callback
    region = counted_region()   # instructions, when the harness counts them
    before = [0] * 9
    after = [0] * 9

    apply_settings(command.threshold, command.gc_enabled)
    rss_at_start = clean_start(before, ctx.page_size)
    if gc_timing:
        gc.callbacks.append(callback)

    # The harness aligns its RSS timeline to the workload's start, on the
    # system's monotonic clock (CLOCK_MONOTONIC, as the C worker's).
    t0_monotonic = monotonic()
    if region:
        region.start()
    cpu0 = process_time()
    ctx.start = start = perf_counter()
    result = command.module.run(command.params, ctx)
    gc.collect()                # the counted full collection ending every run
    wall_s = perf_counter() - start
    cpu_s = process_time() - cpu0
    instructions = region.end() if region else -1

    if gc_timing:
        gc.callbacks.remove(callback)
    read_stats(after)
    final_rss = read_rss(ctx.page_size)

    gc_report = stats_delta(before, after)
    gc_report['pauses'] = summarize_pauses(
        pauses.seconds, pauses.generation,
        [t - start for t in pauses.starts]) if gc_timing else None
    report = sample_report(wall_s, cpu_s, result, ctx.marks(), gc_report,
                           t0_monotonic, final_rss, rss_at_start, exec_monotonic)
    if instructions >= 0:
        report['instructions'] = instructions
    return report
