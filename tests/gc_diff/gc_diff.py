"""Differential test of rtbench's collector against CPython 3.11.

    python3 tests/gc_diff/gc_diff.py --runner build/release/tests/gc_diff_run \\
        [--programs N] [--seed S] [--ops K] [--python /usr/bin/python3] [--show N]

Generates N seeded random programs, runs each through rtbench's C API
(gc_diff_run, built from gc_diff_run.c) and through CPython
(cpython_run.py), and compares what both saw, event for event.  A program
whose traces differ is shrunk to a minimal one (delta debugging over its
operations), printed with both traces from the first difference on.
Exit status: 0 when every program agrees, 1 when one does not, 77 when the
Python given is not CPython 3.11 (the test is skipped), 2 on bad use.

A program is a list of operations on a table of 16 entries, each holding
an object or nothing (the program's references: a C array on the C side,
a frozen list in Python):

    NEW kind dst ...       make an object into entry dst:
                             Inst (3 slots; a __slots__ class),
                             Fin mode (3 slots, a finalizer that records its
                               call and, by mode, resurrects the object into
                               the lazarus list, collects, makes garbage),
                             L, D (a list, a dict),
                             tuple n e1..e4 (of entries e1..en; 20 items in
                               Python, the rest None),
                             weakref ref arg mode (to entry ref, an Inst or
                               a Fin; its callback is a CB object holding
                               entry arg, which records its call and, by
                               mode, collects or makes garbage; the
                               weakref's own allocation starts no
                               collection, since CPython's argument tuple
                               to weakref.ref is alive and tracked then)
    SET dst slot src       store entry src into dst: an instance's slot, a
                             list's end, a dict's key slot % 4
    DEL dst slot           clear that slot, pop a list's item, delete a key
    DROP e, COPY src dst   drop a reference, copy one
    COLLECT g              collect(g); its value is recorded
    THRESH t0 t1 t2, FREEZE, ENABLE on
    DEREF w                whether weakref w's referent is alive
    LAZCLEAR               clear the lazarus list
    CHAIN dst depth src    src (or an empty list) in depth nested lists
    TUPLES dst n src       n tuples, each holding the two made before it (the
                             first two: src and (src,)); dst gets the last
    FINS dst n modes       a list of n Fin objects, each in a cycle with
                             itself (mode i: bits 3i..3i+2 of modes)
    DEEP dst depth fm cm f [Fin fm, r, weakref to r (callback mode cm, its
                             argument a Fin if f) in depth nested lists], r
                             in a cycle with itself: released, the chain
                             goes first, then r is garbage, then the Fin's
                             finalizer may collect

An empty entry reads as None (an immortal int on the C side: no collector
object either way).  The trace records, as (tag, a, b, c): get_count()
after every operation, every collect's value, every collection's start and
stop (generation, collected, uncollectable) from the gc callbacks, every
finalizer and weakref callback call (the object's serial), every collect
made inside one, every DEREF, and at the end the collections and collected
per generation (get_stats(), since the program started).
"""
import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

(OP_NEW, OP_SET, OP_DEL, OP_DROP, OP_COPY, OP_COLLECT, OP_THRESH, OP_FREEZE, OP_ENABLE, OP_DEREF,
 OP_LAZCLEAR, OP_CHAIN, OP_TUPLES, OP_FINS, OP_DEEP) = range(15)
OP_NAMES = ['NEW', 'SET', 'DEL', 'DROP', 'COPY', 'COLLECT', 'THRESH', 'FREEZE', 'ENABLE', 'DEREF',
            'LAZCLEAR', 'CHAIN', 'TUPLES', 'FINS', 'DEEP']
K_INST, K_FIN, K_LIST, K_DICT, K_TUPLE, K_WEAKREF = range(6)
KIND_NAMES = ['Inst', 'Fin', 'L', 'D', 'tuple', 'weakref']
T_NAMES = {1: 'count', 2: 'collect', 3: 'start', 4: 'stop', 5: 'finalizer', 6: 'callback', 7: 'deref',
           8: 'inner collect', 9: 'stats', 99: 'cpython_run.py: stash exhausted'}
M_RESURRECT, M_COLLECT, M_GARBAGE = 1, 2, 4
NENTRIES = 16
NONE = NENTRIES             # an entry operand meaning 'nothing'
MAX_WEAKREFS = 9            # per referent (cpython_run.py stocks tuples for 9)


# ==== programs ============================================================

class Model:
    """What the generator knows: each entry's kind and object identity."""

    def __init__(self):
        self.kind = [None] * NENTRIES
        self.obj = [None] * NENTRIES
        self.next_obj = 0
        self.weakrefs = {}      # object -> weakrefs made to it

    def put(self, e, kind):
        self.kind[e] = kind
        self.obj[e] = self.next_obj
        self.next_obj += 1

    def entries(self, *kinds):
        return [e for e in range(NENTRIES) if self.kind[e] in kinds]


def bits(rng, probabilities):
    return sum(bit for bit, p in probabilities if rng.random() < p)


def gen_new(rng, m):
    dst = rng.randrange(NENTRIES)
    kind = rng.choices([K_INST, K_FIN, K_LIST, K_DICT, K_TUPLE, K_WEAKREF], [4, 3, 3, 2, 2, 2])[0]
    refs = [e for e in m.entries(K_INST, K_FIN) if m.weakrefs.get(m.obj[e], 0) < MAX_WEAKREFS]
    if kind == K_WEAKREF and not refs:
        kind = K_INST
    if kind == K_FIN:
        op = (OP_NEW, K_FIN, dst, bits(rng, [(M_RESURRECT, 0.2), (M_COLLECT, 0.15), (M_GARBAGE, 0.15)]))
    elif kind == K_TUPLE:
        op = (OP_NEW, K_TUPLE, dst, rng.randrange(5)) + tuple(rng.randrange(NENTRIES) for _ in range(4))
    elif kind == K_WEAKREF:
        ref = rng.choice(refs)
        arg = rng.randrange(NENTRIES + 4)
        # A callback that collects or allocates only for a referent's first
        # weakref: with several, CPython's PyObject_ClearWeakRefs holds them
        # in a tracked tuple that such a callback's collection would see.
        first = m.weakrefs.get(m.obj[ref], 0) == 0
        mode = bits(rng, [(M_COLLECT, 0.2), (M_GARBAGE, 0.2)]) if first else 0
        m.weakrefs[m.obj[ref]] = m.weakrefs.get(m.obj[ref], 0) + 1
        op = (OP_NEW, K_WEAKREF, dst, ref, min(arg, NONE), mode)
    else:
        op = (OP_NEW, kind, dst)
    m.put(dst, kind)
    return op


def gen_op(rng, m):
    r = rng.random()
    containers = m.entries(K_INST, K_FIN, K_LIST, K_DICT)
    if r < 0.30 or not containers:
        return gen_new(rng, m)
    if r < 0.55:
        return (OP_SET, rng.choice(containers), rng.randrange(4), rng.randrange(NENTRIES + 2) % (NENTRIES + 1))
    if r < 0.62:
        return (OP_DEL, rng.choice(containers), rng.randrange(8))
    if r < 0.74:
        e = rng.randrange(NENTRIES)
        m.kind[e] = m.obj[e] = None
        return (OP_DROP, e)
    if r < 0.78:
        src, dst = rng.randrange(NENTRIES), rng.randrange(NENTRIES)
        m.kind[dst], m.obj[dst] = m.kind[src], m.obj[src]
        return (OP_COPY, src, dst)
    if r < 0.85:
        return (OP_COLLECT, rng.choice([0, 0, 1, 2]))
    if r < 0.87:
        return (OP_THRESH, rng.choice([1, 2, 3, 5, 8, 20]), rng.choice([0, 1, 2, 3]), rng.choice([0, 1, 2]))
    if r < 0.875:
        return (OP_FREEZE,)
    if r < 0.89:
        return (OP_ENABLE, int(rng.random() < 0.7))
    if r < 0.93:
        weak = m.entries(K_WEAKREF)
        return (OP_DEREF, rng.choice(weak)) if weak else (OP_COLLECT, 0)
    if r < 0.945:
        return (OP_LAZCLEAR,)
    dst = rng.randrange(NENTRIES)
    if r < 0.965:
        m.put(dst, K_TUPLE)
        return (OP_TUPLES, dst, rng.randrange(1, 12), rng.randrange(NENTRIES + 1))
    m.put(dst, K_LIST)
    if r < 0.975:
        return (OP_FINS, dst, rng.randrange(1, 6), rng.getrandbits(15) & rng.getrandbits(15))
    if r < 0.985:
        return (OP_DEEP, dst, rng.randrange(45, 52), rng.choice([0, M_COLLECT, M_GARBAGE]),
                rng.choice([0, M_COLLECT, M_GARBAGE]), rng.randrange(2))
    # Depths about the trashcan's limit (50 nested deallocations) matter.
    depth = rng.choice([1, 2, 3, 5, rng.randrange(44, 53), rng.randrange(44, 53), 100])
    weak = m.entries(K_WEAKREF)
    src = rng.choice(weak) if weak and rng.random() < 0.3 else rng.randrange(NENTRIES + 1)
    return (OP_CHAIN, dst, depth, src)


def generate(seed, nops):
    rng = random.Random(seed)
    m = Model()
    ops = [(OP_THRESH, rng.choice([1, 2, 3, 5, 8, 13, 50, 700]), rng.choice([0, 1, 2, 3, 10]),
            rng.choice([0, 1, 2, 10]))]
    ops += [gen_op(rng, m) for _ in range(nops)]
    if rng.random() < 0.5:      # often end with everything garbage
        ops += [(OP_DROP, e) for e in range(NENTRIES)] + [(OP_LAZCLEAR,), (OP_COLLECT, 2)]
    return ops


def encode(ops):
    return ','.join(' '.join(map(str, op)) for op in ops)


def describe(op):
    name = OP_NAMES[op[0]]
    if op[0] == OP_NEW:
        return 'NEW %s -> %d %s' % (KIND_NAMES[op[1]], op[2], ' '.join(map(str, op[3:])))
    return '%s %s' % (name, ' '.join(map(str, op[1:])))


# ==== running both sides ==================================================

def run_side(cmd, programs):
    """Each program's trace (a list of ints), or the string 'crash'.  A side
    that dies (the C side runs every program in one process) is run again
    on the programs after the one it died in."""
    traces = []
    while len(traces) < len(programs):
        rest = programs[len(traces):]
        text = ''.join(encode(p) + '\n' for p in rest)
        proc = subprocess.run(cmd, input=text, capture_output=True, text=True)
        for line in proc.stdout.splitlines()[:len(rest)]:
            traces.append('crash' if line.startswith('crash') else [int(x) for x in line.split()])
        if len(traces) < len(programs) and proc.returncode != 0:
            traces.append('crash')
        elif len(traces) < len(programs):
            raise RuntimeError('%s stopped after %d programs' % (cmd[-1], len(traces)))
    return traces


class Sides:
    def __init__(self, runner, python):
        self.c = [runner]
        self.py = [python, os.path.join(HERE, 'cpython_run.py')]

    def run(self, programs):
        return run_side(self.c, programs), run_side(self.py, programs)


def shrink(sides, ops):
    """Delta debugging (ddmin) over the operations, keeping the first
    (the thresholds): the smallest program found whose traces differ.
    Each round runs all its candidates in one run of each side."""
    head, ops = ops[:1], list(ops[1:])
    n = 2
    while len(ops) >= 2:
        chunk = max(1, len(ops) // n)
        candidates = [ops[:start] + ops[start + chunk:] for start in range(0, len(ops), chunk)]
        c, py = sides.run([head + cand for cand in candidates])
        failing = [cand for cand, a, b in zip(candidates, c, py) if a != b]
        if failing:
            ops, n = failing[0], max(n - 1, 2)
        elif chunk == 1:
            break
        else:
            n = min(len(ops), n * 2)
    return head + ops


def events(trace):
    if trace == 'crash':
        return ['crash']
    return ['%s %s' % (T_NAMES.get(trace[i], trace[i]), trace[i + 1:i + 4]) for i in range(0, len(trace), 4)]


def report(sides, seed, ops, show_shrunk):
    print('program %d differs (%d operations)' % (seed, len(ops)))
    if show_shrunk:
        ops = shrink(sides, ops)
        print('shrunk to %d operations:' % len(ops))
    for op in ops:
        print('    ' + describe(op))
    c, py = sides.run([ops])
    ce, pe = events(c[0]), events(py[0])
    first = next((i for i in range(max(len(ce), len(pe))) if ce[i:i + 1] != pe[i:i + 1]), 0)
    print('    from event %d on:   rtbench | CPython' % first)
    for i in range(max(0, first - 3), min(max(len(ce), len(pe)), first + 8)):
        mark = '>' if i >= first else ' '
        print('    %s %-36s | %s' % (mark, ce[i] if i < len(ce) else '-', pe[i] if i < len(pe) else '-'))


def cpython_version(python):
    try:
        out = subprocess.run([python, '-c', 'import sys; print(sys.version_info[:2] == (3, 11))'],
                             capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return False
    return out.strip() == 'True'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runner', required=True, help='gc_diff_run, built from gc_diff_run.c')
    ap.add_argument('--python', default='/usr/bin/python3', help='a CPython 3.11 (default /usr/bin/python3)')
    ap.add_argument('--programs', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1, help='the first program\'s seed; program i has seed + i')
    ap.add_argument('--ops', type=int, default=80, help='random operations per program')
    ap.add_argument('--batch', type=int, default=500, help='programs per run of each side')
    ap.add_argument('--show', type=int, default=3, help='differing programs to shrink and print')
    args = ap.parse_args()
    if not cpython_version(args.python):
        print('SKIP: %s is not CPython 3.11' % args.python)
        return 77
    sides = Sides(args.runner, args.python)
    differing = []
    for first in range(0, args.programs, args.batch):
        seeds = range(args.seed + first, args.seed + min(args.programs, first + args.batch))
        programs = [generate(s, args.ops) for s in seeds]
        c, py = sides.run(programs)
        differing += [(s, p) for s, p, a, b in zip(seeds, programs, c, py) if a != b]
    agree = args.programs - len(differing)
    print('gc_diff: %d of %d programs agree with CPython (seeds %d..%d, %d operations each)'
          % (agree, args.programs, args.seed, args.seed + args.programs - 1, args.ops))
    for seed, ops in differing[:args.show]:
        report(sides, seed, ops, True)
    return 0 if not differing else 1


if __name__ == '__main__':
    sys.exit(main())
