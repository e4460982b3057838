"""--fork-workers: after the program's body, N forked workers each call
its worker(), report on a pipe and wait at the synchronisation point,
where the main process reads every process's memory, then releases and
reaps them (run.py's docstring, "Fork workers").
"""
import json
import os
import signal
from time import perf_counter

from .cli import EXIT_FAILED
from .interp import call_program, flush_stdio, leave_if_forked
from .measure import (gc_settings, read_memory, read_peak_rss, read_stats,
                      settings_warnings, stats_delta, timed_pauses)

WORKER_PIDS = []                # forked workers still to reap (run.py's signal handler)


def write_all(fd, data):
    """Write all of data (bytes) on descriptor fd."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_all(fd):
    """Read descriptor fd to its end; close it; return the bytes."""
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b''.join(chunks)


def worker_main(index, worker, report_w, go_r, pauses):
    """A forked worker: call worker(), report to the main process, wait to
    be released, exit.  Never returns."""
    status = EXIT_FAILED
    pid = os.getpid()
    try:
        os.environ['RTBENCH_WORKER_INDEX'] = str(index)
        before = [0] * 9
        after = [0] * 9
        read_stats(before)
        pauses.clear()
        start = perf_counter()
        status, error = call_program(worker)
        leave_if_forked(pid, status)
        wall_s = perf_counter() - start
        read_stats(after)
        gc_report = stats_delta(before, after)
        gc_report['pauses'] = timed_pauses(pauses)
        settings = gc_settings()
        gc_report['threshold'] = settings['threshold']
        gc_report['enabled'] = settings['enabled']
        flush_stdio()
        message = {'exit_status': status, 'error': error, 'wall_s': wall_s,
                   'gc': gc_report}
        write_all(report_w, json.dumps(message).encode())
        os.close(report_w)
        while os.read(go_r, 1):         # the synchronisation point: wait
            pass                        # until the main process lets go
    except BaseException:
        status = status or EXIT_FAILED
    finally:
        flush_stdio()
        os._exit(status)


def wait_for(pid):
    """waitpid(pid) whatever signals arrive; return the wait status."""
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:        # pragma: no cover (PEP 475 retries)
            continue


def fork_workers(program, count, pauses, start):
    """Fork count workers that each call the program's worker(); measure
    them at the synchronisation point; return the report's fork_workers."""
    worker = program.main.__dict__['worker']
    fork_at_s = perf_counter() - start
    settings = gc_settings()
    go_r, go_w = os.pipe()
    pipes = []
    flush_stdio()               # else each worker writes the buffers again
    blocked = (signal.SIGINT, signal.SIGTERM)
    for index in range(count):
        report_r, report_w = os.pipe()
        # Signals wait while a worker is forked and not yet listed: an
        # interruption kills every worker.
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        pid = os.fork()
        if pid == 0:
            del WORKER_PIDS[:]
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
            os.close(go_w)
            os.close(report_r)
            for _, earlier in pipes:
                os.close(earlier)
            worker_main(index, worker, report_w, go_r, pauses)
        WORKER_PIDS.append(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
        os.close(report_w)
        pipes.append((pid, report_r))
    os.close(go_r)

    messages = [read_all(report_r) for _, report_r in pipes]
    # Every worker is done and waiting (or dead): measure them all now.
    memory = [read_memory(pid) for pid, _ in pipes]
    peaks = [read_peak_rss(pid) for pid, _ in pipes]
    main_memory = read_memory('self')
    os.close(go_w)              # release them

    workers = []
    for index, ((pid, _), text, mem, peak) in enumerate(
            zip(pipes, messages, memory, peaks)):
        wstatus = wait_for(pid)
        WORKER_PIDS.remove(pid)
        record = {'index': index, 'pid': pid, 'exit_status': None,
                  'signal': None, 'error': None, 'wall_s': None,
                  'peak_rss_bytes': peak, 'memory': mem, 'gc': None}
        if text:
            record.update(json.loads(text.decode()))
        if os.WIFSIGNALED(wstatus):
            record['signal'] = os.WTERMSIG(wstatus)
            record['exit_status'] = None
            record['error'] = 'killed by signal %d' % record['signal']
        else:
            record['exit_status'] = os.WEXITSTATUS(wstatus)
            if record['exit_status'] and record['error'] is None:
                record['error'] = 'exit status %d' % record['exit_status']
        workers.append(record)

    def mean(key):
        values = [w['memory'][key] for w in workers if w['memory'] is not None]
        return sum(values) // len(values) if values else None

    pss = [m['pss_bytes'] for m in memory + [main_memory] if m is not None]
    return {'count': count, 'fork_at_s': fork_at_s,
            'frozen_at_fork': settings['frozen'],
            'gc_settings_at_fork': settings,
            'main': main_memory, 'workers': workers,
            'rss_bytes_mean': mean('rss_bytes'),
            'pss_bytes_mean': mean('pss_bytes'),
            'uss_bytes_mean': mean('uss_bytes'),
            'pss_bytes_total': sum(pss) if len(pss) == count + 1 else None}


def fork_warnings(fork):
    """Warnings about the workers: settings they changed, memory unread."""
    warnings = []
    for worker in fork['workers']:
        who = 'worker %d' % worker['index']
        if worker['gc'] is not None:
            warnings += settings_warnings(fork['gc_settings_at_fork'],
                                          worker['gc'], who, 'the fork')
        if worker['memory'] is None and worker['signal'] is None:
            warnings.append({'kind': 'no-smaps', 'message': (
                'no /proc/%d/smaps_rollup (Linux 4.14 or later): %s has no '
                'PSS or USS' % (worker['pid'], who))})
    return warnings


def worker_error(fork):
    """The one line that says which workers failed, or None."""
    failed = [w for w in fork['workers'] if w['error'] is not None]
    if not failed:
        return None
    error = 'worker %d (pid %d): %s' % (failed[0]['index'], failed[0]['pid'],
                                        failed[0]['error'])
    if len(failed) > 1:
        error += ' (and %d more workers)' % (len(failed) - 1)
    return error
