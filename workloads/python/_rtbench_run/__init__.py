"""run.py's parts (workloads/python/run.py says what run.py does).

A package, not modules beside run.py: whatever run.py imports stays in
sys.modules while a --script or -m program runs, so a part named cli,
measure or program would be found in place of the program's own module of
that name.  One package name no program uses keeps them out of the way.

    cli       the command line, parsed into a Command
    measure   the measured window's pieces: the collector's statistics and
              settings, pause timing, RSS, the report's common fields,
              and a twin's run
    interp    running code as the interpreter does: exit statuses,
              tracebacks, threads and atexit at the end
    fork      --fork-workers: the workers, their reports, the sync point
    program   a --script or -m program: prepared, run and measured
"""
