#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (standard library only).

    python3 tests/fuzz/make_corpus.py [OUTDIR]     (default: tests/fuzz/corpus)

writes OUTDIR/alloc/* for fuzz_alloc, OUTDIR/gc/* for fuzz_gc and
OUTDIR/sched/* for fuzz_sched: small programs in the targets' input formats
(see the comments at the top of fuzz_alloc.c, fuzz_gc.c and fuzz_sched.c),
one per behaviour worth starting from.  The
output is deterministic; existing seeds of the same names are replaced.
"""
import os
import struct
import sys

# ==== fuzz_alloc ==========================================================

A_ALLOC, A_FREE, A_REALLOC, A_CALLOC, A_TRIM, A_FAULT, A_FAULT_OFF, A_VALIDATE, A_SPRAY, A_SWEEP = range(10)
BACKENDS = ["pool", "malloc", "debug", "mimalloc", "jemalloc"]


def size_bytes(n):
    """fuzz_alloc.c's read_size: a mode byte and a 16-bit value."""
    if n <= 512:
        return bytes([0]) + struct.pack("<H", n)
    if n <= 65536:
        return bytes([192]) + struct.pack("<H", n - 513)
    return bytes([252]) + struct.pack("<H", (n - 65537) // 16)


class AllocProgram:
    def __init__(self, backend):
        # Index into the backends the process has (jemalloc wraps to pool
        # when it is not available).
        self.out = bytearray([BACKENDS.index(backend)])

    def alloc(self, slot, n):
        self.out += bytes([A_ALLOC, slot]) + size_bytes(n)

    def free(self, slot):
        self.out += bytes([A_FREE, slot])

    def realloc(self, slot, n):
        self.out += bytes([A_REALLOC, slot]) + size_bytes(n)

    def calloc(self, slot, count, n):
        self.out += bytes([A_CALLOC, slot, count]) + size_bytes(n)

    def trim(self):
        self.out += bytes([A_TRIM, 0])

    def fault(self, nth, persistent):
        self.out += bytes([A_FAULT, (nth - 1) | (8 if persistent else 0)])

    def fault_off(self):
        self.out += bytes([A_FAULT_OFF, 0])

    def validate(self):
        self.out += bytes([A_VALIDATE, 0])

    def spray(self, start, count, n):
        """count blocks of n bytes in slots start.. (start: a multiple of 16;
        count: of 8, up to 2048)."""
        self.out += bytes([A_SPRAY, start // 16, count // 8 - 1]) + size_bytes(n)

    def sweep(self, start, count, stride):
        self.out += bytes([A_SWEEP, start // 16, count // 8 - 1, stride - 1])


def alloc_seeds():
    seeds = {}
    for backend in BACKENDS:
        p = AllocProgram(backend)
        for slot, n in enumerate([0, 1, 16, 17, 512, 513, 4096, 65536, 70000]):
            p.alloc(slot, n)
        p.realloc(0, 100)
        p.realloc(1, 8)
        p.realloc(2, 600)
        p.realloc(5, 40)
        p.calloc(9, 16, 32)
        p.validate()
        for slot in range(0, 10, 2):
            p.free(slot)
        p.trim()
        p.validate()
        seeds["backend_" + backend] = p.out
    p = AllocProgram("pool")
    for i, n in enumerate(range(16, 513, 32)):   # every other class, at its top
        p.alloc(i % 32, n)
        p.alloc((i + 16) % 32, n + 1)
    seeds["class_boundaries_pool"] = p.out
    p = AllocProgram("debug")
    for i, n in enumerate(range(0, 513, 48)):
        p.alloc(i, n)
        p.realloc(i, n + 16)
    seeds["class_boundaries_debug"] = p.out
    for backend in ("pool", "malloc"):
        p = AllocProgram(backend)
        p.alloc(0, 64)
        p.alloc(1, 1000)
        p.fault(2, persistent=True)
        p.alloc(2, 32)              # succeeds
        p.alloc(3, 32)              # fails, and every later one
        p.realloc(0, 400)           # fails: the block stays
        p.calloc(4, 4, 4)
        p.free(1)
        p.fault_off()
        p.realloc(0, 400)
        p.fault(1, persistent=False)
        p.realloc(2, 3000)          # fails once
        p.alloc(5, 10)
        p.validate()
        seeds["fault_" + backend] = p.out
    p = AllocProgram("pool")
    p.out += bytes([A_CALLOC, 0, 255]) + size_bytes(8)  # count * size overflows
    p.calloc(1, 0, 100)
    p.calloc(2, 3, 0)
    seeds["calloc_edges"] = p.out
    p = AllocProgram("pool")
    for i in range(32):     # fill pools of one class, free all, trim
        p.alloc(i, 256)
    for i in range(32):
        p.free(i)
    p.validate()
    p.trim()
    p.validate()
    seeds["trim_after_churn"] = p.out
    for backend in ("pool", "debug"):
        p = AllocProgram(backend)
        p.spray(0, 2048, 512)       # 67 pools: a second arena
        p.spray(2048, 2048, 448)
        p.validate()
        p.sweep(0, 2048, 2)
        p.sweep(2048, 2048, 3)
        p.validate()
        p.trim()
        p.spray(0, 1024, 96)
        p.sweep(0, 2048, 1)
        p.sweep(2048, 2048, 1)
        p.validate()
        p.trim()
        p.validate()
        seeds["arenas_spray_sweep_" + backend] = p.out
    p = AllocProgram("pool")
    p.alloc(0, 600000)
    p.realloc(0, 200)
    p.realloc(0, 1000000)
    p.alloc(1, 300)
    p.realloc(1, 0)
    seeds["large_blocks"] = p.out
    return seeds


# ==== fuzz_gc ===============================================================

(G_CREATE, G_LINK, G_UNLINK, G_DROP, G_ROOT, G_WEAKREF, G_DEREF, G_COLLECT, G_THRESHOLD, G_ENABLE, G_FREEZE,
 G_FAULT, G_CLEAR_LAZARUS, G_RELEASE) = range(14)
TNODE, LIST, DICT, TUPLE, SLOTS, PHOENIX, WEAKREF = range(7)
GC_BACKENDS = ["pool", "malloc", "debug"]
THRESHOLDS0 = [0, 1, 2, 3, 5, 8, 20, 700]
LAZ = 0


class GcProgram:
    """Builds a fuzz_gc program, keeping the part of fuzz_gc.c's model that
    operand picks depend on: entries, roots, edges, reachability.  Entries
    are numbered as fuzz_gc.c numbers them as long as nothing is reused
    (seeds create before they free)."""

    def __init__(self, backend="pool", t0=700, t1=1, t2=1, enabled=True, timing=True):
        a = GC_BACKENDS.index(backend) << 5 | THRESHOLDS0.index(t0) | (0 if enabled else 8) | (16 if timing else 0)
        self.out = bytearray([a, t1 | t2 << 2])
        self.kind = [LIST]
        self.roots = [1]
        self.edges = [[]]

    def reach(self):
        seen = {i for i, r in enumerate(self.roots) if r > 0}
        todo = list(seen)
        while todo:
            for t in self.edges[todo.pop()]:
                if t is not None and t not in seen:
                    seen.add(t)
                    todo.append(t)
        return seen

    def pick(self, entry, want):
        cands = [i for i in range(len(self.kind)) if want(i)]
        assert entry in cands, (entry, cands)
        return cands.index(entry)

    def reachable(self, entry):
        r = self.reach()
        return self.pick(entry, lambda i: i in r)

    def create(self, kind, items=(), resurrect=False, junk=False):
        flags = (len(items) - 1 if items else 0) | (4 if resurrect else 0) | (8 if junk else 0)
        self.out += bytes([G_CREATE, kind, flags] + [self.reachable(i) for i in items])
        self.kind.append(kind)
        self.roots.append(1)
        self.edges.append(list(items) if kind == TUPLE else [None] * {TNODE: 3, DICT: 4, SLOTS: 3, PHOENIX: 2}.get(kind, 0))
        return len(self.kind) - 1

    def container(self, entry):
        r = self.reach()
        return self.pick(entry, lambda i: i in r and i != LAZ and self.kind[i] not in (TUPLE, WEAKREF))

    def link(self, src, slot, dst):
        """slot: the fixed slot (TNode, instance, dict key); for lists, None
        appends."""
        code = self.container(src)
        target = self.reachable(dst)
        if self.kind[src] == LIST:
            self.out += bytes([G_LINK, code, 1, target])
            self.edges[src].append(dst)
        else:
            self.out += bytes([G_LINK, code, slot, target])
            self.edges[src][slot] = dst

    def unlink(self, src, slot):
        self.out += bytes([G_UNLINK, self.container(src), slot])
        if self.kind[src] == LIST:
            if self.edges[src]:
                del self.edges[src][slot % len(self.edges[src])]
        else:
            self.edges[src][slot] = None

    def drop(self, entry):
        self.out += bytes([G_DROP, self.pick(entry, lambda i: i != LAZ and self.roots[i] > 0)])
        self.roots[entry] -= 1

    def root(self, entry):
        self.out += bytes([G_ROOT, self.reachable(entry) - 1])    # LAZ is no candidate
        self.roots[entry] += 1

    def weakref(self, referent, callback=True, junk=False, arg=None):
        r = self.reach()
        code = self.pick(referent, lambda i: i in r and self.kind[i] in (SLOTS, PHOENIX))
        flags = (1 if callback else 0) | (2 if junk else 0) | (4 if arg is not None else 0)
        self.out += bytes([G_WEAKREF, code, flags] + ([self.reachable(arg)] if arg is not None else []))
        self.kind.append(WEAKREF)
        self.roots.append(1)
        self.edges.append([arg])
        return len(self.kind) - 1

    def deref(self, wr, take_root=False):
        r = self.reach()
        self.out += bytes([G_DEREF, self.pick(wr, lambda i: i in r and self.kind[i] == WEAKREF), int(take_root)])

    def collect(self, generation=2):
        self.out += bytes([G_COLLECT, generation])

    def threshold(self, t0, t1, t2):
        self.out += bytes([G_THRESHOLD, THRESHOLDS0.index(t0), t1 | t2 << 2])

    def enable(self, on):
        self.out += bytes([G_ENABLE, int(on)])

    def freeze(self, on):
        self.out += bytes([G_FREEZE, int(on)])

    def fault(self, nth, persistent):
        """Arm fault injection around the operation that follows."""
        self.out += bytes([G_FAULT, (nth - 1) | (4 if persistent else 0)])

    def release(self, phoenix):
        """Free the Slots (or Phoenix) class and make it anew."""
        self.out += bytes([G_RELEASE, int(phoenix)])

    def clear_lazarus(self):
        self.out += bytes([G_CLEAR_LAZARUS])
        self.edges[LAZ] = []


def self_cycles(p, resurrect=False):
    for kind in (TNODE, LIST, DICT, SLOTS, PHOENIX):
        x = p.create(kind, resurrect=resurrect)
        p.link(x, 0, x)
        p.drop(x)
    lst = p.create(LIST)
    tup = p.create(TUPLE, items=[lst])
    p.link(lst, None, tup)
    p.drop(lst)
    p.drop(tup)
    p.collect(2)


def ring(p):
    """TNode -> list -> dict -> Slots -> Phoenix -> tuple -> TNode ..."""
    t = p.create(TNODE)
    lst = p.create(LIST)
    d = p.create(DICT)
    s = p.create(SLOTS)
    ph = p.create(PHOENIX)
    p.link(t, 0, lst)
    p.link(lst, None, d)
    p.link(d, 1, s)
    p.link(s, 2, ph)
    tup = p.create(TUPLE, items=[t, s])
    p.link(ph, 1, tup)
    return [t, lst, d, s, ph, tup]


def gc_seeds():
    seeds = {}
    p = GcProgram()
    for kind in (TNODE, LIST, DICT, SLOTS, PHOENIX):
        p.create(kind)
    p.create(TUPLE, items=[1, 2, 3])
    p.weakref(4, callback=True)
    p.collect(2)
    seeds["create_each_kind"] = p.out
    for backend in GC_BACKENDS:
        p = GcProgram(backend=backend)
        self_cycles(p)
        seeds["self_cycles_" + backend] = p.out
    p = GcProgram()
    objs = ring(p)
    p.collect(0)
    for x in objs:
        p.drop(x)
    p.collect(1)
    p.collect(2)
    seeds["ring_through_each_type"] = p.out
    p = GcProgram()
    s = p.create(SLOTS)
    p.link(s, 0, s)
    wr = p.weakref(s, callback=True, junk=True, arg=LAZ)
    p.drop(s)
    p.collect(2)
    p.deref(wr)
    seeds["weakref_callback_collect"] = p.out
    p = GcProgram()
    s = p.create(SLOTS)
    p.link(s, 0, s)
    wr = p.weakref(s, callback=False)
    p.drop(s)
    p.deref(wr, take_root=True)     # the garbage cycle comes back
    p.collect(2)
    p.deref(wr)
    seeds["weakref_deref_revives"] = p.out
    p = GcProgram()
    ph = p.create(PHOENIX, resurrect=True, junk=True)
    t = p.create(TNODE)
    p.link(ph, 0, t)
    p.link(t, 0, ph)
    wr = p.weakref(ph, callback=True)
    p.drop(ph)
    p.drop(t)
    p.collect(2)      # the finalizer resurrects ph (and t with it)
    p.collect(2)
    p.clear_lazarus()
    p.collect(2)
    p.deref(wr)
    seeds["finalizer_resurrects"] = p.out
    p = GcProgram()
    ph = p.create(PHOENIX, resurrect=True)
    p.drop(ph)        # finalized and resurrected from dealloc
    p.clear_lazarus()
    seeds["resurrect_from_dealloc"] = p.out
    p = GcProgram()
    lst = p.create(LIST)
    p.link(lst, None, lst)
    p.freeze(True)
    p.drop(lst)
    p.collect(2)      # frozen garbage stays
    p.freeze(False)
    p.collect(2)
    seeds["freeze_unfreeze"] = p.out
    p = GcProgram(t0=0)
    for _ in range(4):
        d = p.create(DICT)
        p.link(d, 0, d)
        p.drop(d)
    p.threshold(0, 0, 0)
    p.collect(0)
    p.threshold(1, 0, 0)
    for _ in range(3):
        t = p.create(TNODE)
        p.link(t, 1, t)
        p.drop(t)
    seeds["threshold_zero_then_one"] = p.out
    p = GcProgram(t0=1, t1=0, t2=0)
    ph = p.create(PHOENIX, resurrect=True, junk=True)
    s = p.create(SLOTS)
    wr = p.weakref(s, callback=True, junk=True, arg=LAZ)
    p.link(ph, 0, s)
    p.link(s, 0, ph)
    p.drop(ph)
    p.drop(s)
    for kind in (TNODE, LIST, DICT, SLOTS):
        p.create(kind)
    p.deref(wr)
    seeds["automatic_collections"] = p.out
    p = GcProgram(enabled=False, t0=1)
    lst = p.create(LIST)
    p.link(lst, None, lst)
    p.drop(lst)
    for kind in (TNODE, DICT):
        p.create(kind)
    p.enable(True)
    p.create(SLOTS)
    p.enable(False)
    seeds["disable_enable"] = p.out
    p = GcProgram()
    lst = p.create(LIST)
    p.fault(1, persistent=True)
    p.out += bytes([G_CREATE, DICT, 0])             # fails
    p.fault(2, persistent=True)
    p.out += bytes([G_CREATE, TUPLE, 0, p.reachable(lst)])  # one allocation: succeeds
    p.fault(1, persistent=False)
    p.out += bytes([G_LINK, p.container(lst), 1, p.reachable(lst)])    # the append fails
    p.collect(2)
    seeds["fault_injection"] = p.out
    p = GcProgram(backend="malloc")
    s = p.create(SLOTS)
    ph = p.create(PHOENIX, resurrect=True)
    p.link(s, 0, ph)
    p.link(ph, 0, s)
    wr = p.weakref(s, callback=True)
    p.release(phoenix=False)        # instances outlive their class
    p.release(phoenix=True)
    p.drop(s)
    p.drop(ph)
    p.create(SLOTS)
    p.collect(2)
    p.clear_lazarus()
    p.collect(2)
    p.deref(wr)
    seeds["class_released_while_instances_live"] = p.out
    p = GcProgram()
    lst = p.create(LIST)
    d = p.create(DICT)
    p.link(lst, None, d)
    p.link(lst, None, d)
    p.link(d, 3, lst)
    p.unlink(lst, 0)
    p.unlink(d, 3)
    p.unlink(d, 2)                   # absent key
    p.root(d)
    p.drop(d)
    p.out += bytes([G_COLLECT, 255, G_THRESHOLD, 255, 0])   # rejected arguments
    seeds["link_unlink_api_errors"] = p.out
    return seeds


# ==== fuzz_sched ==========================================================

# fuzz_sched.c's operations: five bytes each, (thread, kind, a, b, s), the
# thread and the hand slots taken modulo its THREADS and HAND.
S_NEW, S_DROP, S_LINK, S_SEND, S_RECV, S_SAFEPOINT, S_COLLECT, S_PERTHREAD = range(8)


class SchedProgram:
    def __init__(self):
        self.out = bytearray()

    def op(self, thread, kind, a=0, b=0, s=0):
        self.out += bytes([thread, kind, a, b, s])
        return self

    def new(self, thread, slot):
        return self.op(thread, S_NEW, slot)

    def link(self, thread, a, s, b):
        """thread's hand[a].slot[s] = hand[b]."""
        return self.op(thread, S_LINK, a, b, s)

    def send(self, thread, slot):
        """hand[slot] to the mailbox's box of the same number."""
        return self.op(thread, S_SEND, slot)

    def recv(self, thread, box, slot):
        """The mailbox's box to hand[slot]."""
        return self.op(thread, S_RECV, box, slot)

    def drop(self, thread, slot):
        return self.op(thread, S_DROP, slot)

    def collect(self, thread):
        return self.op(thread, S_COLLECT)

    def perthread(self, thread, slot):
        """Count hand[slot]'s Node per thread (only its maker's hand held it)."""
        return self.op(thread, S_PERTHREAD, slot)


def sched_seeds():
    seeds = {}
    # A cycle made on one thread, dropped there, collected by another.
    p = SchedProgram().new(0, 0).new(0, 1).link(0, 0, 0, 1).link(0, 1, 0, 0)
    seeds["cycle_collected_elsewhere"] = p.drop(0, 0).drop(0, 1).collect(1).out
    # A Node passed through the mailbox: made on 0, held and dropped on 1
    # (its count shared), then collected.
    p = SchedProgram().new(0, 2).send(0, 2).recv(1, 2, 3).op(2, S_SAFEPOINT)
    seeds["passed_and_dropped_elsewhere"] = p.drop(1, 3).collect(2).out
    # A ring across three threads' Nodes, A (thread 0's) -> C (2's) -> B
    # (1's) -> A, its links written by threads 1 and 2, dropped on 2 and
    # collected on 0.
    p = SchedProgram().new(0, 0).send(0, 0)                         # A to box 0
    p.recv(1, 0, 1).new(1, 0).link(1, 0, 0, 1).send(1, 1).send(1, 0)  # B.0 = A; A to box 1, B to box 0
    p.recv(2, 0, 1).recv(2, 1, 2).new(2, 0)                         # B, A, C on thread 2
    p.link(2, 0, 0, 1).link(2, 2, 0, 0).collect(1)                  # C.0 = B, A.0 = C
    p.drop(2, 0).drop(2, 1).drop(2, 2).collect(0)
    seeds["cycle_across_threads"] = p.out
    # Nodes counted per thread while thread 0 has the runtime alone (LATER):
    # one dropped and collected alone; one linked from another, its holder
    # passed to thread 1, whose attach gives the Node its id, then dropped
    # there and collected by thread 2.
    p = SchedProgram().new(0, 0).perthread(0, 0).drop(0, 0).collect(0)
    p.new(0, 1).new(0, 2).perthread(0, 2).link(0, 1, 0, 2).drop(0, 2).collect(0)
    p.send(0, 1).recv(1, 1, 0).drop(1, 0).collect(2)
    seeds["counted_per_thread_before_a_second"] = p.out
    # A cycle of two Nodes, the second counted per thread, collected while thread 0
    # is alone: a clear drops the counted Node's last reference, and its
    # count reads 0 in the collection's list until the fold frees it.
    p = SchedProgram().new(0, 0).new(0, 1).perthread(0, 1).link(0, 0, 0, 1).link(0, 1, 0, 0)
    seeds["counted_per_thread_in_a_cycle"] = p.drop(0, 0).drop(0, 1).collect(0).out
    return seeds


def write(outdir, seeds):
    os.makedirs(outdir, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(bytes(data))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    alloc, gc, sched = alloc_seeds(), gc_seeds(), sched_seeds()
    write(os.path.join(out, "alloc"), alloc)
    write(os.path.join(out, "gc"), gc)
    write(os.path.join(out, "sched"), sched)
    print(f"{len(alloc)} alloc seeds, {len(gc)} gc seeds, {len(sched)} sched seeds in {out}")


if __name__ == "__main__":
    main()
