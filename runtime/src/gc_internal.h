/* gc_internal.h -- the collector's header word layout, lists and state.
 *
 * Every object of a GC type is preceded by an RtGcHead, two words as
 * CPython's PyGC_Head (16 bytes: the whole per-object overhead):
 *
 *   gc_next  the next object of the object's generation list, or 0 when the
 *            object is not tracked.  During move_unreachable, bit 0 marks an
 *            object moved to the tentatively unreachable list, whose list is
 *            then walked by next pointers only (prev is busy, see below).
 *   gc_prev  the previous object, in the bits above the three lowest:
 *              bit 0  FINALIZED   the finalizer has run (it never runs twice)
 *              bit 1  COLLECTING  the object is in the generation being
 *                                 collected (set by update_refs)
 *              bit 2  PENDING     during move_unreachable only: the scan
 *                                 must look at the object again when a
 *                                 reference to it is found (see below)
 *            During a collection the pointer bits of gc_prev hold gc_refs,
 *            the copied reference count, instead of the link; the lists are
 *            singly linked then, and gc_prev links are restored before
 *            anything but the collector looks at them.  Links are at least
 *            8-aligned (a list head is an RtGcHead, an object's header
 *            starts a 16-aligned block), so the three bits are free.
 *
 * gc_refs values during a collection (for objects with COLLECTING):
 *   > 0  after subtract_refs: referenced from outside the generation
 *        (directly), so reachable;
 *   = 0  only referenced from inside: tentatively unreachable until
 *        something reachable is found to point at it.
 *
 * Departure from CPython's layout (which has gc_refs from bit 2 and marks
 * an object of the tentatively unreachable list in gc_next alone):
 * move_unreachable sets PENDING on the objects it moves to the unreachable
 * list, and, on a generation small enough for the cache, first on every
 * object whose gc_refs is 0; it clears it once an object is found
 * reachable.  Then a reference from a reachable object needs one test,
 * PENDING, to know that there is nothing to do -- its target is of another
 * generation, already scanned, or known reachable -- where CPython's
 * visit_reachable tests COLLECTING, the unreachable mark and gc_refs in
 * turn: gc_traversal's collections visit half a million such references.
 * On a large generation the extra walk over every object would cost more
 * than it saves, and the tests are CPython's.  The order of the lists, and
 * so every result, is CPython's.
 *
 * Lists are circular, with a sentinel head (an RtGcHead that is no object).
 */
#ifndef RT_GC_INTERNAL_H
#define RT_GC_INTERNAL_H

#include "rt/gc.h"
#include "debug.h"
#if RT_RC_THREADED
#include <stdatomic.h>
#endif

typedef struct RtGcHead {
    uintptr_t gc_next;
    uintptr_t gc_prev;
} RtGcHead;

_Static_assert(sizeof(RtGcHead) == 16, "the GC header is two words, as CPython 3.11's");

#define RTI_GC_FINALIZED ((uintptr_t)1)
#define RTI_GC_COLLECTING ((uintptr_t)2)
#define RTI_GC_PENDING ((uintptr_t)4)
#define RTI_GC_FLAGS ((uintptr_t)7)
#define RTI_GC_REFS_SHIFT 3
#define RTI_GC_NEXT_UNREACHABLE ((uintptr_t)1)

#define RTI_AS_GC(op) ((RtGcHead *)(op) - 1)
#define RTI_FROM_GC(g) ((RtObject *)((RtGcHead *)(g) + 1))

static inline RtGcHead *rti_gc_next(const RtGcHead *g) { return (RtGcHead *)g->gc_next; }
static inline void rti_gc_set_next(RtGcHead *g, RtGcHead *n) { g->gc_next = (uintptr_t)n; }
static inline RtGcHead *rti_gc_prev(const RtGcHead *g) { return (RtGcHead *)(g->gc_prev & ~RTI_GC_FLAGS); }
static inline void
rti_gc_set_prev(RtGcHead *g, RtGcHead *p)
{
    g->gc_prev = ((uintptr_t)p & ~RTI_GC_FLAGS) | (g->gc_prev & RTI_GC_FLAGS);
}
static inline bool rti_gc_tracked(const RtGcHead *g) { return g->gc_next != 0; }

/* ---- lists ---- */
static inline void
rti_gc_list_init(RtGcHead *list)
{
    list->gc_prev = (uintptr_t)list;
    list->gc_next = (uintptr_t)list;
}

static inline bool rti_gc_list_is_empty(const RtGcHead *list) { return list->gc_next == (uintptr_t)list; }

static inline void
rti_gc_list_append(RtGcHead *node, RtGcHead *list)
{
    RtGcHead *last = (RtGcHead *)list->gc_prev;
    rti_gc_set_prev(node, last);
    rti_gc_set_next(last, node);
    rti_gc_set_next(node, list);
    list->gc_prev = (uintptr_t)node;
}

/* rti_gc_list_append for a node never tracked (both words 0: a new
 * object), with no flag to keep. */
static inline void
rti_gc_list_append_new(RtGcHead *node, RtGcHead *list)
{
    RtGcHead *last = (RtGcHead *)list->gc_prev;
    node->gc_prev = (uintptr_t)last;
    rti_gc_set_next(last, node);
    rti_gc_set_next(node, list);
    list->gc_prev = (uintptr_t)node;
}

/* A node's neighbours point back at it (cheap: every unlink checks). */
static inline void
rti_gc_assert_linked(const RtGcHead *node)
{
    rti_assert_msg(rti_gc_next(rti_gc_prev(node)) == node && rti_gc_prev(rti_gc_next(node)) == node,
                   "a collector list is broken around this object: freed while tracked, or tracked twice");
}

static inline void
rti_gc_list_remove(RtGcHead *node)
{
    rti_gc_assert_linked(node);
    RtGcHead *prev = rti_gc_prev(node), *next = rti_gc_next(node);
    rti_gc_set_next(prev, next);
    rti_gc_set_prev(next, prev);
    node->gc_next = 0;  /* untracked */
    node->gc_prev &= RTI_GC_FINALIZED;
}

/* Move the run first..last (linked, in order, not the list head) to the
 * end of list: four links rewritten whatever its length. */
static inline void
rti_gc_list_move_run(RtGcHead *first, RtGcHead *last, RtGcHead *list)
{
    RtGcHead *prev = rti_gc_prev(first), *next = rti_gc_next(last);
    rti_gc_set_next(prev, next);
    rti_gc_set_prev(next, prev);
    RtGcHead *tail = rti_gc_prev(list);
    rti_gc_set_prev(first, tail);
    rti_gc_set_next(tail, first);
    rti_gc_set_next(last, list);
    rti_gc_set_prev(list, last);
}

/* Move node from its list to the end of list. */
static inline void
rti_gc_list_move(RtGcHead *node, RtGcHead *list)
{
    rti_gc_assert_linked(node);
    rti_gc_list_move_run(node, node, list);
}

/* Append every node of from to to; from becomes empty. */
static inline void
rti_gc_list_merge(RtGcHead *from, RtGcHead *to)
{
    rti_assert(from != to);
    if (rti_gc_list_is_empty(from))
        return;
    RtGcHead *to_last = rti_gc_prev(to), *first = rti_gc_next(from), *last = rti_gc_prev(from);
    rti_gc_set_next(to_last, first);
    rti_gc_set_prev(first, to_last);
    rti_gc_set_next(last, to);
    rti_gc_set_prev(to, last);
    rti_gc_list_init(from);
}

static inline intptr_t
rti_gc_list_size(const RtGcHead *list)
{
    intptr_t n = 0;
    for (const RtGcHead *g = rti_gc_next(list); g != list; g = rti_gc_next(g))
        n++;
    return n;
}

/* ---- gc_refs (valid while COLLECTING) ---- */
static inline intptr_t rti_gc_refs(const RtGcHead *g) { return (intptr_t)(g->gc_prev >> RTI_GC_REFS_SHIFT); }
/* Set gc_refs (PENDING goes: the object is known reachable). */
static inline void
rti_gc_set_refs(RtGcHead *g, intptr_t refs)
{
    g->gc_prev = (g->gc_prev & (RTI_GC_FINALIZED | RTI_GC_COLLECTING)) | ((uintptr_t)refs << RTI_GC_REFS_SHIFT);
}
/* Copy the count and mark the object as being collected. */
static inline void
rti_gc_reset_refs(RtGcHead *g, intptr_t refs)
{
    g->gc_prev = (g->gc_prev & RTI_GC_FINALIZED) | RTI_GC_COLLECTING | ((uintptr_t)refs << RTI_GC_REFS_SHIFT);
}
static inline void rti_gc_decref(RtGcHead *g) { g->gc_prev -= (uintptr_t)1 << RTI_GC_REFS_SHIFT; }
static inline bool rti_gc_is_collecting(const RtGcHead *g) { return (g->gc_prev & RTI_GC_COLLECTING) != 0; }
static inline void rti_gc_clear_collecting(RtGcHead *g) { g->gc_prev &= ~RTI_GC_COLLECTING; }
static inline bool rti_gc_pending(const RtGcHead *g) { return (g->gc_prev & RTI_GC_PENDING) != 0; }
static inline bool rti_gc_finalized(const RtGcHead *g) { return (g->gc_prev & RTI_GC_FINALIZED) != 0; }
static inline void rti_gc_set_finalized(RtGcHead *g) { g->gc_prev |= RTI_GC_FINALIZED; }

/* ---- state ---- */
typedef struct RtGcGeneration {
    RtGcHead head;
    long threshold;
    intptr_t count;     /* gen 0: allocations - deallocations; others:
                         * collections of the generation below */
} RtGcGeneration;

#define RTI_GC_MAX_CALLBACKS 8

typedef struct RtGcCallbackSlot {
    RtGcCallback fn;
    void *arg;
} RtGcCallbackSlot;

typedef struct RtGcPauseLog {
    double *seconds;
    double *start;          /* monotonic clock at the start of each pause */
    uint8_t *generation;
    double *safepoint;      /* time the other threads took to stop, before each */
    size_t n, capacity;
    uint64_t count, dropped;
    double total, max;
    double safepoint_total, safepoint_max;
} RtGcPauseLog;

/* What handle_weakrefs' walk (or the parallel sweep) counts of the
 * unreachable set. */
typedef struct RtGcGarbage {
    intptr_t count;         /* objects */
    intptr_t finalizers;    /* of those, with a finalizer that has not run */
} RtGcGarbage;

/* What move_unreachable saw of the objects that stay reachable. */
typedef struct RtGcScan {
    intptr_t survivors;
    intptr_t tuples;
} RtGcScan;

#if RT_RC_THREADED
/* One part of a collection whose passes the stopped threads share
 * (gc_parallel.c): the objects of one heap being collected, or of the
 * global lists. */
#define RTI_GC_NO_OWNER UINTPTR_MAX     /* no thread, merged object or id records it */
/* A part's list is walked in chunks that any stopped thread claims
 * (gc_parallel.c, 'Chunks'): from RTI_GC_CHUNKS / 2 to RTI_GC_CHUNKS of
 * them once the part has RTI_GC_CHUNK_MIN * RTI_GC_CHUNKS objects. */
#define RTI_GC_CHUNKS 32
#define RTI_GC_CHUNK_MIN 1024           /* objects in a chunk but the last, at least */
_Static_assert((RTI_GC_CHUNK_MIN & (RTI_GC_CHUNK_MIN - 1)) == 0 && RTI_GC_CHUNKS % 2 == 0,
               "the update cuts at multiples of a power of two and halves the cuts it keeps");
typedef struct RtGcChunk {
    /* Aligned: two threads sweeping neighbouring chunks write their
     * lists' heads at every object. */
    _Alignas(64) RtGcHead *first;   /* its first object (cut by the update) */
    RtGcHead young;         /* the sweep's: its survivors */
    RtGcHead unreachable;   /* the rest that the part's thread owns */
    RtGcHead foreign;       /* the rest that it does not */
    RtGcScan scan;
    RtGcGarbage garbage;
} RtGcChunk;
typedef struct RtGcPart {
    RtGcHead young;         /* the objects being collected; the survivors, after */
    RtGcHead unreachable;   /* the rest, after the sweep, that the part's thread owns */
    RtGcHead foreign;       /* the rest that it does not (biased; empty otherwise) */
    intptr_t objects;       /* in young, at the start */
    RtGcScan scan;          /* the sweep's survivors and tuples */
    RtGcGarbage garbage;    /* the sweep's unreachable objects and finalizers */
    uintptr_t owner;        /* the id of its heap's thread (biased), or RTI_GC_NO_OWNER */
    atomic_uint claimed;    /* the last phase that claimed it (whole: update, delete) */
    atomic_uint next_chunk; /* the next chunk to claim in this phase (the others) */
    uint32_t chunks;        /* chunk[0..chunks) cut young, in order */
    RtGcChunk chunk[RTI_GC_CHUNKS];
} RtGcPart;

/* A thread heap's share of the collector's lists (gc_heap.c): once threads
 * share the runtime, a tracked object from the pools lives on the lists of
 * its pool's heap (its home).  The heap's owner changes them without a lock
 * while the lock is biased towards it (`shared` 0); other threads under the
 * spin lock, and the owner too once `shared` is 1. */
#define RTI_GC_PERMANENT RT_GC_GENERATIONS      /* lists[] index of the frozen */
typedef struct RtGcHeap {
    atomic_int lock;        /* other threads' list changes (and the owner's, shared) */
    atomic_int shared;      /* 1: the owner takes the lock too; back to 0 only
                             * with the world stopped */
    atomic_int owner_busy;  /* the owner is changing the lists without the lock */
    unsigned remote;        /* other threads' changes since the last stop (lock held) */
    unsigned quiet;         /* stops in a row with none */
    unsigned patience;      /* quiet stops the lock waits before it is biased again */
    RtGcHead lists[RT_GC_GENERATIONS + 1];      /* generations, then the permanent one */
    intptr_t delta;         /* allocations - deallocations not yet in the count */
    intptr_t limit;         /* |delta| that goes into the count: RtGcState.delta_limit
                             * as of the last flush (the owner's copy) */
    RtGcPart part;          /* its objects in a parallel collection */
} RtGcHeap;
#endif

typedef struct RtGcState {
    RtGcGeneration gen[RT_GC_GENERATIONS];
    RtGcHead permanent;             /* frozen objects */
#if RT_RC_THREADED
    /* The heaps' deltas added up (gc_heap.c), into gen[0].count when the
     * world stops. */
    atomic_intptr_t pending0;
    atomic_intptr_t delta_limit;    /* the heaps' batch (rti_gc_heaps_retune) */
    RtGcPart part;                  /* the global lists' objects in a parallel collection */
    unsigned phases;                /* parallel phases run (their claims' numbers) */
#endif
    /* The youngest generation whose collections share their passes with
     * the stopped threads (RT_GC_PARALLEL; RT_GC_GENERATIONS: none). */
    int parallel_min;
    RtGcGenStats stats[RT_GC_GENERATIONS];
    bool enabled;
    bool collecting;
    bool timing;
    /* CPython's full-collection heuristic (issue #4074): collect the oldest
     * generation only when the objects that survived young collections
     * since the last full one exceed 25% of those the last full one kept. */
    intptr_t long_lived_total;
    intptr_t long_lived_pending;
    RtGcCallbackSlot callbacks[RTI_GC_MAX_CALLBACKS];
    size_t ncallbacks;
    RtGcPauseLog pauses;
    /* The generation size, in objects, from which the passes prefetch
     * (gc_passes.c; RTI_GC_PREFETCH_MIN; the tests lower it to run both
     * versions of the passes on small heaps). */
    intptr_t prefetch_min;
} RtGcState;

/* ---- invariants (RT_DEBUG >= 2: a walk of the whole list) ---- */
#if RT_DEBUG >= 2
/* CPython's validate_list: list is a well-formed circular list (each
 * node's neighbours point back at it), and each node is a tracked object
 * of a GC type whose COLLECTING flag is as expected, and its UNREACHABLE and
 * PENDING bits both set (in move_unreachable's unreachable list) or clear. */
void rti_gc_validate_list(const RtGcHead *list, bool collecting, bool unreachable);
#define RTI_GC_VALIDATE(list, collecting, unreachable) rti_gc_validate_list((list), (collecting), (unreachable))
/* subtract_refs' postcondition over a list: 0 <= gc_refs <= the count. */
void rti_gc_assert_refs_subtracted(const RtGcHead *containers);
#if RT_RC_THREADED
/* th's collector list 'which': validate_list's checks, and every object on
 * it is th's -- its block is of th's pools (gc_heap.c, 'Lists'). */
struct RtThreadHeap;
void rti_gc_validate_heap_list(struct RtThreadHeap *th, int which);
#endif
#define RTI_GC_ASSERT_REFS_SUBTRACTED(list) rti_gc_assert_refs_subtracted(list)
#else
#define RTI_GC_VALIDATE(list, collecting, unreachable) ((void)0)
#define RTI_GC_ASSERT_REFS_SUBTRACTED(list) ((void)0)
#endif

/* ---- the passes (gc_passes.c), in the order a collection runs them ---- */
intptr_t rti_gc_update_refs(RtGcHead *containers);     /* how many objects */
/* prefetch: run a lookahead that prefetches children (large generations).
 * Returns the references of the built-in containers it followed or
 * passed (NULL ones too): for the choice of rti_gc_move_unreachable's
 * 'mark'. */
intptr_t rti_gc_subtract_refs(RtGcHead *containers, bool prefetch);
/* mark (without prefetch): run mark_pending first, which pays where the
 * objects hold many references each. */
RtGcScan rti_gc_move_unreachable(RtGcHead *young, RtGcHead *unreachable, bool prefetch, bool mark);
RtGcScan rti_gc_deduce_unreachable(RtGcHead *base, RtGcHead *unreachable);
intptr_t rti_gc_clear_unreachable_mask(RtGcHead *unreachable);
intptr_t rti_gc_untrack_tuples(RtGcHead *list);
intptr_t rti_gc_handle_weakrefs(RtGcHead *unreachable, RtGcHead *old, RtGcGarbage *garbage);
intptr_t rti_gc_finalize_garbage(RtGcHead *collectable);
intptr_t rti_gc_handle_resurrected(RtGcHead *unreachable, RtGcHead *still_unreachable, RtGcHead *old);
void rti_gc_delete_garbage(RtGcHead *collectable, RtGcHead *old);

#if RT_RC_THREADED
/* Passes 1-3 over the heaps' generations up to 'generation' and the
 * global lists', shared with the stopped threads (gc_parallel.c); the
 * world stopped, the objects on their homes' lists.  Postcondition: the
 * survivors are on the lists of the generation they join (the same one
 * for the oldest), their tuples untracked; each part's unreachable list
 * holds the rest of its objects as a normal list with COLLECTING set,
 * counted in *garbage.  Returns the survivors' count.  Then one of: */
intptr_t rti_gc_collect_parallel(RtGcState *gc, int generation, RtGcGarbage *garbage);
/* the parts' unreachable lists joined into *unreachable, for the serial
 * tail (weakrefs, finalizers, clears: gc.c); */
void rti_gc_join_unreachable(RtGcState *gc, RtGcHead *unreachable, const RtGcGarbage *garbage);
/* or, where nothing of the tail but the clears is left to do (no weakref
 * alive, no finalizer to run) and each heap's thread owns its part's
 * garbage (biased), the clears run by each thread on its own part, at
 * once; what outlives its clear goes to old.  False, nothing done, where
 * that does not hold. */
bool rti_gc_delete_parallel(RtGcState *gc, RtGcHead *old);
#endif

#endif /* RT_GC_INTERNAL_H */
