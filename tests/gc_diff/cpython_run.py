"""The CPython side of the differential test: gc_diff_run.c, in Python.

    /usr/bin/python3 tests/gc_diff/cpython_run.py < programs > traces

Reads programs, one per line (gc_diff.py writes them and says what they
do), runs each in a child forked from a prepared interpreter, and prints
one trace per line, as gc_diff_run.c does for rtbench.

What makes CPython's counts comparable, event for event:
- Each object of a program is one collector object, allocated and freed
  through the collector's count: __slots__ classes (no instance dicts),
  list and dict subclasses (CPython's free lists and dict untracking take
  exact lists and dicts only), tuples of 24 items (the free lists stop at
  20; the items past the program's are None, which the collector ignores).
- The interpreter allocates no other collector object while a program
  runs: each operation is a small function (no frame object, no closure),
  its locals die when it returns (and an entry is stored only once the
  locals that built its object are gone, as rtbench's are), loops run over
  range() and never over a list or tuple, tuples are indexed and never
  unpacked (3.11's unpacking makes an iterator until the code is
  specialized), and the trace goes into an array.array (no collector
  object).
- A weakref's callback is a bound method, cb.fire, of a CB object that
  holds the callback's argument: a method is called without an argument
  tuple (a CB's own __call__ would take one, a tracked object alive while
  the callback runs, and collects).  gc_diff_run.c holds a Meth object
  (no clear, no trashcan, as a method) that holds a CB.
- CPython's own calls do allocate small tuples and dicts (get_count()'s
  3-tuple, set_threshold's and weakref.ref's argument tuples, the gc
  callbacks' info dict), from free lists that a full
  collection empties.  An emptied free list would make the next such call
  allocate through the collector, and count it.  So the gc callback, at
  the end of every full collection, puts tuples of each size used back on
  the free lists from a stash made before the program (which frees
  nothing through the collector's count), and frees one stashed object to
  take back the count of the info dict that the callback's own call just
  allocated (the dict then goes to its free list).
- The parent freezes, collects (an empty heap: the long-lived total that
  the full-collection heuristic reads is 0), freezes again and forks: each
  child starts with every count at 0 and every generation empty, as
  gc_diff_run.c's runtime does.
"""
import array
import gc
import os
import sys
import traceback
import weakref

# The same numbers as gc_diff_run.c's and gc_diff.py's.
(OP_NEW, OP_SET, OP_DEL, OP_DROP, OP_COPY, OP_COLLECT, OP_THRESH, OP_FREEZE, OP_ENABLE, OP_DEREF,
 OP_LAZCLEAR, OP_CHAIN, OP_TUPLES, OP_FINS, OP_DEEP) = range(15)
K_INST, K_FIN, K_LIST, K_DICT, K_TUPLE, K_WEAKREF = range(6)
T_COUNT, T_RETURN, T_START, T_STOP, T_FIN, T_CALLBACK, T_DEREF, T_INNER, T_STATS = range(1, 10)
T_STASH_EMPTY = 99          # this side only: the comparison fails, saying why
M_RESURRECT, M_COLLECT, M_GARBAGE = 1, 2, 4
NENTRIES = 16

# Free-list sizes that CPython's calls take tuples of while a program runs:
# 2 (weakref.ref(o, callback)), 3 (get_count, set_threshold), and 2 * n
# for PyObject_ClearWeakRefs with n weakrefs (n <= 9).
TUPLE_SIZES = (2, 3, 4, 6, 8, 10, 12, 14, 16, 18)
PER_SIZE = 4            # tuples of each size put back per full collection
STASH_ROUNDS = 2000     # full collections a program may run


class Inst:
    __slots__ = ('s0', 's1', 's2', '__weakref__')


class Fin:
    __slots__ = ('s0', 's1', 's2', 'sid', '__weakref__')

    def __del__(self):
        act(T_FIN, self, self.sid)


class CB:
    __slots__ = ('arg', 'sid')

    def fire(self, wr):
        act(T_CALLBACK, None, self.sid)


class L(list):
    __slots__ = ()


class D(dict):
    __slots__ = ()


SLOTS = ('s0', 's1', 's2')
E = [None] * NENTRIES
lazarus = []
R = array.array('q')
recording = [False]
serial = [0]
stash_tuples = [[tuple([i] * size) for i in range(PER_SIZE * STASH_ROUNDS)] for size in TUPLE_SIZES]
stash_objects = [Inst() for _ in range(STASH_ROUNDS)]


def record(tag, a, b, c):
    if recording[0]:
        R.append(tag)
        R.append(a)
        R.append(b)
        R.append(c)


def make_garbage():
    g = Inst()
    g.s0 = g


def act(tag, obj, sid):
    record(tag, sid >> 3, 0, 0)
    if sid & M_RESURRECT and obj is not None:
        lazarus.append(obj)
    if sid & M_COLLECT:
        record(T_INNER, gc.collect(2), 0, 0)
    if sid & M_GARBAGE:
        make_garbage()


def restock(take_back_count):
    if not stash_objects:   # more full collections than STASH_ROUNDS
        record(T_STASH_EMPTY, 0, 0, 0)
        return
    if take_back_count:
        stash_objects.pop()
    for i in range(len(stash_tuples)):
        for _ in range(PER_SIZE):
            stash_tuples[i].pop()


def gc_observer(phase, info):
    generation = info['generation']
    if phase == 'start':
        record(T_START, generation, 0, 0)
        return
    record(T_STOP, generation, info['collected'], info['uncollectable'])
    if generation == 2:
        restock(True)


# ==== the operations ======================================================

def kind_of(op):
    t = type(op)
    if t is Inst:
        return K_INST
    if t is Fin:
        return K_FIN
    if t is L:
        return K_LIST
    if t is D:
        return K_DICT
    if t is tuple:
        return K_TUPLE
    if t is weakref.ref:
        return K_WEAKREF
    return -1


def entry(i):
    return E[i] if i < NENTRIES else None


def new_fin(mode):
    o = Fin()
    o.sid = serial[0] * 8 + mode
    serial[0] += 1
    return o


def new_tuple(a):
    n = a[3] if a[3] < 4 else 4
    x0 = entry(a[4]) if n > 0 else None
    x1 = entry(a[5]) if n > 1 else None
    x2 = entry(a[6]) if n > 2 else None
    x3 = entry(a[7]) if n > 3 else None
    return (x0, x1, x2, x3, None, None, None, None, None, None, None, None,
            None, None, None, None, None, None, None, None, None, None, None, None)


def new_weakref(referent, arg, mode):
    cb = CB()
    cb.sid = serial[0] * 8 + mode
    serial[0] += 1
    if arg is not None:
        cb.arg = arg
    m = cb.fire
    # weakref.ref's argument tuple is a tracked object that rtbench has no
    # counterpart for: no collection while it lives (both sides).
    enabled = gc.isenabled()
    gc.disable()
    w = weakref.ref(referent, m)
    if enabled:
        gc.enable()
    return w


def op_new(a):
    k = a[1]
    if k == K_INST:
        E[a[2] % NENTRIES] = Inst()
    elif k == K_FIN:
        E[a[2] % NENTRIES] = new_fin(a[3])
    elif k == K_LIST:
        E[a[2] % NENTRIES] = L()
    elif k == K_DICT:
        E[a[2] % NENTRIES] = D()
    elif k == K_TUPLE:
        E[a[2] % NENTRIES] = new_tuple(a)
    elif a[3] < NENTRIES and kind_of(E[a[3]]) in (K_INST, K_FIN):
        E[a[2] % NENTRIES] = new_weakref(E[a[3]], entry(a[4]), a[5])


def op_set(a):
    op = E[a[1] % NENTRIES]
    k = kind_of(op)
    if k == K_INST or k == K_FIN:
        setattr(op, SLOTS[a[2] % 3], entry(a[3]))
    elif k == K_LIST:
        op.append(entry(a[3]))
    elif k == K_DICT:
        op[a[2] % 4] = entry(a[3])


def op_del(a):
    op = E[a[1] % NENTRIES]
    k = kind_of(op)
    if k == K_INST or k == K_FIN:
        setattr(op, SLOTS[a[2] % 3], None)
    elif k == K_LIST:
        if len(op) > 0:
            op.pop(a[2] % len(op))
    elif k == K_DICT:
        if a[2] % 4 in op:
            del op[a[2] % 4]


def chain(depth, x):
    for _ in range(depth):
        y = L()
        y.append(x)
        x = y
    return x


def op_chain(a):
    E[a[1] % NENTRIES] = chain(a[2], L() if a[3] >= NENTRIES or E[a[3]] is None else E[a[3]])


def deep(depth, fin_mode, cb_mode, arg_fin):
    outer = L()
    outer.append(new_fin(fin_mode))
    r = Inst()
    r.s0 = r
    outer.append(r)
    outer.append(chain(depth, new_weakref(r, new_fin(0) if arg_fin else None, cb_mode)))
    return outer


def tuple2(x, y):
    return (x, y, None, None, None, None, None, None, None, None, None, None,
            None, None, None, None, None, None, None, None, None, None, None, None)


# The builders return what they built, and the operation stores it once
# their locals are gone: a local left holding an object would make it
# directly reachable (a reference from outside) to a collection that the
# store's release of the entry's old object starts, where rtbench's C
# locals are gone by then.
def tuples(n, x):
    y = (x, None, None, None, None, None, None, None, None, None, None, None,
         None, None, None, None, None, None, None, None, None, None, None, None)
    for _ in range(n):
        z = tuple2(y, x)
        x = y
        y = z
    return y


def op_tuples(a):
    E[a[1] % NENTRIES] = tuples(a[2], entry(a[3]))


def fins(n, modes):
    lst = L()
    for i in range(n):
        f = new_fin((modes >> (3 * i)) & 7)
        f.s0 = f
        lst.append(f)
    return lst


def op_fins(a):
    E[a[1] % NENTRIES] = fins(a[2], a[3])


def op_drop(a):
    E[a[1] % NENTRIES] = None


def op_copy(a):
    E[a[2] % NENTRIES] = entry(a[1])


def op_collect(a):
    record(T_RETURN, a[1], gc.collect(a[1]), 0)


def op_thresh(a):
    gc.set_threshold(a[1], a[2], a[3])


def op_freeze(a):
    gc.freeze()


def op_enable(a):
    if a[1]:
        gc.enable()
    else:
        gc.disable()


def op_deref(a):
    if kind_of(E[a[1] % NENTRIES]) == K_WEAKREF:
        record(T_DEREF, 0 if E[a[1] % NENTRIES]() is None else 1, 0, 0)


def op_lazclear(a):
    lazarus.clear()


def op_deep(a):
    E[a[1] % NENTRIES] = deep(a[2], a[3], a[4], a[5])


# Indexed by opcode (a list: no collector object to look an operation up).
OPS = [op_new, op_set, op_del, op_drop, op_copy, op_collect, op_thresh, op_freeze, op_enable, op_deref,
       op_lazclear, op_chain, op_tuples, op_fins, op_deep]


def count_now():
    c = gc.get_count()      # indexed: unpacking may make an iterator
    record(T_COUNT, c[0], c[1], c[2])


def run_program(ops, base):
    gc.freeze()             # whatever fork allocated
    recording[0] = True
    for i in range(len(ops)):     # no list iterator: it is a collector object
        OPS[ops[i][0]](ops[i])
        count_now()
    gc.disable()            # the rest allocates, and is not the program
    recording[0] = False
    st = gc.get_stats()
    recording[0] = True
    for g in range(3):
        record(T_STATS, g, st[g]['collections'] - base[g]['collections'],
               st[g]['collected'] - base[g]['collected'])
    recording[0] = False
    sys.stdout.write(' '.join(map(str, R)) + '\n')
    sys.stdout.flush()


def parse(line):
    ops = []
    for part in line.strip().split(','):
        if part.strip():
            ops.append(tuple(int(x) for x in part.split()) + (0,) * 8)
    return ops


def main():
    programs = [parse(line) for line in sys.stdin]
    gc.set_threshold(700, 10, 10)
    gc.freeze()             # the interpreter's objects: out of every count,
    gc.collect()            # including the long-lived total (0 after this)
    base = gc.get_stats()
    restock(False)
    gc.callbacks.append(gc_observer)
    gc.freeze()
    for ops in programs:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                run_program(ops, base)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.stdout.write('crash %d\n' % status)


if __name__ == '__main__':
    main()
