/* gc_passes.c -- the passes of a collection, each a separate function so
 * that a strategy (gc.c's generational one today; an incremental one later)
 * can compose them.  The algorithm is CPython's gcmodule.c:
 *
 *   1. update_refs       gc_refs = refcount, for every object being collected
 *   2. subtract_refs     for every reference from one such object to
 *                        another, gc_refs -= 1: what is left counts the
 *                        references from outside the set
 *   3. move_unreachable  objects with gc_refs > 0 are reachable, and so is
 *                        everything they reach; the rest moves to the
 *                        tentatively unreachable list
 *   4. handle_weakrefs   clear weakrefs to unreachable objects; call the
 *                        callbacks of weakrefs that are themselves reachable
 *   5. finalize_garbage  run each finalizer once (may resurrect)
 *   6. handle_resurrected  redo 1-3 on the unreachable set: what a finalizer
 *                        made reachable again survives, with all it reaches
 *   7. delete_garbage    call clear on what is left, which breaks the cycles;
 *                        reference counting frees the objects
 *
 * Worked example: a <-> b, c -> a, and a C local holds c.  Refcounts are
 * a=2 (from b and c), b=1, c=1.  subtract_refs takes the references inside
 * the set away: a=0, b=0, c=1 (only the local's).  move_unreachable finds c
 * reachable; traversing c revives a, traversing a revives b: no garbage.
 * Once the local drops c, reference counting frees c, a falls to 1, and the
 * next collection finds a and b unreachable.
 *
 * No pass allocates: lists are threaded through the GC headers.
 *
 * With threads, a collection of generation 1 or older runs passes 1-3
 * differently, on every stopped thread at once (gc_parallel.c: an atomic
 * subtract, and a marking in place of move_unreachable); 4-7 are these.
 * What each reference costs in each pass is in gc_visit.h, shared by both.
 *
 * Speed.  The passes that follow references (subtract_refs and
 * move_unreachable) do a few instructions per reference, and on a large
 * heap wait on memory, since every reference leads to a random object:
 *   - The built-in containers' references (list, tuple, instance, dict)
 *     are read inline (for_each_child), each pass's work on one reference
 *     inlined into the loop, a list's loop unrolled: no call per
 *     reference.  Other types go through traverse and a visit function.
 *   - On a generation the cache holds whose objects hold several
 *     references each, move_unreachable tests one bit per reference
 *     (PENDING, see gc_internal.h) where CPython tests three.
 *   - On a generation of RTI_GC_PREFETCH_MIN objects or more, a lookahead
 *     pointer walks the list PREFETCH_DISTANCE objects ahead of the pass,
 *     prefetching the headers of that object's children, so that their
 *     cache misses overlap instead of coming one after another; a second
 *     lookahead twice as far ahead prefetches lists' item arrays, which
 *     the first one then reads.  On a smaller generation, which stays in
 *     the cache, the lookahead's walk would be pure cost (measured: 1.2 to
 *     2x slower collections up to 30,000 objects, 1.1x faster from
 *     100,000 and 1.5x from 300,000; rtbench-micro's gc_collect_live).
 *   gc_traversal's full collection (1,001 lists, 499,500 references) takes
 *   10.6 M instructions, 21 per reference for both passes (26.9 M before:
 *   a call per reference, and the lookahead always on).
 */
#include "gc_visit.h"

/* ==== invariants ========================================================= */

#if RT_DEBUG >= 2
void
rti_gc_validate_list(const RtGcHead *list, bool collecting, bool unreachable)
{
    uintptr_t flag = unreachable ? RTI_GC_NEXT_UNREACHABLE : 0;
    const RtGcHead *prev = list;
    for (const RtGcHead *g = rti_gc_next(list); g != list; prev = g, g = (RtGcHead *)(g->gc_next & ~flag)) {
        rti_assert_msg(g->gc_next != 0, "an untracked object on a collector list");
        rti_assert_msg((g->gc_next & RTI_GC_NEXT_UNREACHABLE) == flag, "the UNREACHABLE bit is not as this list expects");
        rti_assert_msg(rti_gc_pending(g) == unreachable, "the PENDING bit is not as this list expects");
        rti_assert_msg(rti_gc_prev(g) == prev, "a collector list's links do not match: an object freed while tracked?");
        rti_assert_msg(rti_gc_is_collecting(g) == collecting, "the COLLECTING flag is not as this list expects");
        rti_assert_msg(is_gc(RTI_FROM_GC(g)), "an object of a type without RT_TYPE_GC on a collector list");
    }
    rti_assert_msg(rti_gc_prev(list) == prev, "a collector list's head does not point back at its last object");
}

/* subtract_refs' postcondition: 0 <= gc_refs <= the count, everywhere. */
void
rti_gc_assert_refs_subtracted(const RtGcHead *containers)
{
    for (const RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        intptr_t rc = rt_refcnt(RTI_FROM_GC(g));
        rti_assert_msg(rti_gc_is_collecting(g) && rti_gc_refs(g) <= (rc < 0 ? IMMORTAL_REFS : rc),
                       "refcount is too small: an object has fewer references than the objects "
                       "being collected hold to it (a traverse visits a reference its object does "
                       "not own, or a reference was stored without its incref)");
    }
}
#endif

/* ==== 1-3: deduce the unreachable set ==================================== */

/* Postcondition: every object of containers has COLLECTING set and gc_refs
 * equal to its reference count; gc_prev links are gone (singly linked).
 * Returns how many objects there are. */
intptr_t
rti_gc_update_refs(RtGcHead *containers)
{
    RTI_GC_VALIDATE(containers, false, false);
    intptr_t n = 0;
    for (RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        update_one(g);
        n++;
    }
    return n;
}

static ALWAYS_INLINE intptr_t
subtract_refs(RtGcHead *containers, bool prefetch)
{
    intptr_t refs = 0;
    Lookahead la = lookahead_start(containers, prefetch ? rti_gc_next(containers) : containers);
    for (RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        if (prefetch)
            lookahead_step(&la);
        for_each_child(SUBTRACT, RTI_FROM_GC(g), NULL, NULL, &refs);
    }
    return refs;
}

/* Postcondition: gc_refs >= 0 counts references from outside the set. */
intptr_t
rti_gc_subtract_refs(RtGcHead *containers, bool prefetch)
{
    intptr_t refs = prefetch ? subtract_refs(containers, true) : subtract_refs(containers, false);
    RTI_GC_ASSERT_REFS_SUBTRACTED(containers);
    return refs;
}

/* PENDING on every object of young with gc_refs 0: one test per reference
 * in move_unreachable for one per object here.  Only for a generation that
 * the cache holds: on a large one this walk would cost a cache miss per
 * object, more than it saves; and only where the objects hold several
 * references each (rti_gc_deduce_unreachable). */
static void
mark_pending(RtGcHead *young)
{
    for (RtGcHead *g = rti_gc_next(young); g != young; g = rti_gc_next(g))
        if (rti_gc_refs(g) == 0)
            g->gc_prev |= RTI_GC_PENDING;
}

static ALWAYS_INLINE RtGcScan
move_unreachable(RtGcHead *young, RtGcHead *unreachable, bool prefetch, bool marked)
{
    RtGcScan scan = {0, 0};
    RtGcHead *prev = young, *g = rti_gc_next(young);
    /* Objects ahead of the scan keep their links until the scan reaches
     * them, so the lookahead can follow gc_next. */
    Lookahead la = lookahead_start(young, prefetch ? g : young);
    while (g != young) {
        if (prefetch)
            lookahead_step(&la);
        if (rti_gc_refs(g) != 0) {
            RtObject *op = RTI_FROM_GC(g);
            scan.survivors++;
            for_each_child(marked ? REACH_MARKED : REACH, op, young, &scan.tuples, NULL);
            rti_gc_set_prev(g, prev);   /* relink; gc_refs are done with */
            rti_gc_clear_collecting(g);
            prev = g;
        } else {
            /* Move g to unreachable.  'young' is singly linked during the
             * scan, so only prev's next changes. */
            prev->gc_next = g->gc_next;
            RtGcHead *last = rti_gc_prev(unreachable);
            /* Every node of unreachable gets the flag, the list head's next
             * word too; that is repaired at the end. */
            last->gc_next = RTI_GC_NEXT_UNREACHABLE | (uintptr_t)g;
            rti_gc_set_prev(g, last);
            g->gc_prev |= RTI_GC_PENDING;
            g->gc_next = RTI_GC_NEXT_UNREACHABLE | (uintptr_t)unreachable;
            unreachable->gc_prev = (uintptr_t)g;
        }
        g = (RtGcHead *)prev->gc_next;
    }
    young->gc_prev = (uintptr_t)prev;
    unreachable->gc_next &= ~RTI_GC_NEXT_UNREACHABLE;
    return scan;
}

/* Invariants of the scan: objects left of 'g' in young are reachable, have
 * COLLECTING cleared and proper prev links; objects in unreachable have
 * gc_refs == 0 (lost: prev is a link there) and the UNREACHABLE bit in
 * their next word.  Postcondition: young holds the reachable objects as a
 * normal list; unreachable holds the rest, flagged (UNREACHABLE in next,
 * PENDING in prev), COLLECTING still set.
 * Each object that stays in young is scanned exactly once as reachable,
 * which is where the scan counts survivors and tuples (RtGcScan). */
RtGcScan
rti_gc_move_unreachable(RtGcHead *young, RtGcHead *unreachable, bool prefetch, bool mark)
{
    RtGcScan scan;
    if (prefetch) {
        scan = move_unreachable(young, unreachable, true, false);
    } else if (mark) {
        mark_pending(young);
        scan = move_unreachable(young, unreachable, false, true);
    } else {
        scan = move_unreachable(young, unreachable, false, false);
    }
    RTI_GC_VALIDATE(young, false, false);
    RTI_GC_VALIDATE(unreachable, true, true);
    return scan;
}

/* 1-3.  The passes prefetch only for a generation too large for the
 * cache (RTI_GC_PREFETCH_MIN objects or more: gc.c).  mark_pending, a
 * pass of about 8 instructions an object, saves move_unreachable about 3
 * a reference into the set: it runs where the objects hold at least
 * MARK_MIN_REFS references each on average (subtract_refs counts those
 * of the built-in containers) -- gc_traversal's lists, not a young
 * generation of two-slot tree nodes. */
#define MARK_MIN_REFS 3
RtGcScan
rti_gc_deduce_unreachable(RtGcHead *base, RtGcHead *unreachable)
{
    intptr_t n = rti_gc_update_refs(base);
    bool prefetch = n >= rti_runtime.gc.prefetch_min;
    intptr_t refs = rti_gc_subtract_refs(base, prefetch);
    rti_gc_list_init(unreachable);
    return rti_gc_move_unreachable(base, unreachable, prefetch, refs >= MARK_MIN_REFS * n);
}

/* Drop g's UNREACHABLE and PENDING bits. */
static inline void
clear_mask(RtGcHead *g)
{
    g->gc_next &= ~RTI_GC_NEXT_UNREACHABLE;
    g->gc_prev &= ~RTI_GC_PENDING;
}

/* Drop the bits of every object of unreachable, making it a normal list;
 * returns its length. */
intptr_t
rti_gc_clear_unreachable_mask(RtGcHead *unreachable)
{
    intptr_t n = 0;
    for (RtGcHead *g = rti_gc_next(unreachable); g != unreachable; g = rti_gc_next(g)) {
        clear_mask(g);
        n++;
    }
    RTI_GC_VALIDATE(unreachable, true, false);
    return n;
}

static void
clear_collecting_all(RtGcHead *list)
{
    for (RtGcHead *g = rti_gc_next(list); g != list; g = rti_gc_next(g))
        rti_gc_clear_collecting(g);
}

/* ==== tuples ============================================================= */

/* A tuple whose items can never be part of a cycle needs no tracking
 * (CPython's _PyTuple_MaybeUntrack): every item is set, and is either not
 * a GC object or an untracked tuple. */
static bool
tuple_may_untrack(RtObject *op)
{
    RtTupleObject *t = (RtTupleObject *)op;
    for (intptr_t i = 0; i < RT_SIZE(op); i++) {
        RtObject *item = t->items[i];
        if (item == NULL)
            return false;
        if (is_gc(item) && (!rt_is_type(item, &rt_tuple_type) || rti_gc_tracked(RTI_AS_GC(item))))
            return false;
    }
    return true;
}

/* Untrack those tuples of list; returns how many objects stay in list (the
 * survivors' count the full-collection heuristic needs, without another
 * walk). */
intptr_t
rti_gc_untrack_tuples(RtGcHead *list)
{
    intptr_t kept = 0;
    RtGcHead *next;
    for (RtGcHead *g = rti_gc_next(list); g != list; g = next) {
        next = rti_gc_next(g);
        RtObject *op = RTI_FROM_GC(g);
        if (rt_is_type(op, &rt_tuple_type) && tuple_may_untrack(op))
            rti_gc_list_remove(g);
        else
            kept++;
    }
    RTI_GC_VALIDATE(list, false, false);
    return kept;
}

/* ==== 4: weak references ================================================= */

/* Clear every weakref to an unreachable object, and every weakref that is
 * itself unreachable (its callback must not run later, from inside
 * delete_garbage, where it could see objects already cleared).  Callbacks
 * run only for weakrefs outside the unreachable set.  Returns the weakrefs
 * that the callbacks left dead (CPython counts them as collected).
 *
 * The same walk drops the unreachable mask (CPython drops it in
 * move_legacy_finalizers' walk) and fills *garbage: the unreachable
 * objects, and those with a finalizer still to run -- none, and
 * finalize_garbage's walk is not needed.  The callbacks cannot change
 * either: they reach no unreachable object.  Each walk of a large
 * unreachable set is a cache miss per object, more when the objects were
 * made on another core (cycle_storm's full collections at 2 threads). */
intptr_t
rti_gc_handle_weakrefs(RtGcHead *unreachable, RtGcHead *old, RtGcGarbage *garbage)
{
    RtGcHead wrcb_to_call;
    rti_gc_list_init(&wrcb_to_call);
    *garbage = (RtGcGarbage){0, 0};
    for (RtGcHead *g = rti_gc_next(unreachable); g != unreachable; g = rti_gc_next(g)) {
        clear_mask(g);      /* first: the next link is read once it is clear */
        RtObject *op = RTI_FROM_GC(g);
        garbage->count++;
        garbage->finalizers += RT_TYPE(op)->finalize != NULL && !rti_gc_finalized(g);
        if (rt_is_type(op, &rt_weakref_type))
            rti_weakref_detach(op);
        RtObject **head = rti_weaklist_slot(op);
        if (head == NULL)
            continue;
        while (*head != NULL) {
            RtObject *wr = *head;
            rti_assert_msg(rt_refcnt(wr) > 0 && rti_gc_tracked(RTI_AS_GC(wr)),
                           "a dead weakref on its referent's list: a weakref must leave the list at "
                           "once when it dies (weakref.c), never wait in the trashcan on it");
            rti_weakref_detach(wr);
            if (!rti_weakref_has_callback(wr) || rti_gc_is_collecting(RTI_AS_GC(wr)))
                continue;
            rt_incref(wr);
            rti_gc_list_move(RTI_AS_GC(wr), &wrcb_to_call);
        }
    }
    intptr_t num_freed = 0;
    while (!rti_gc_list_is_empty(&wrcb_to_call)) {
        RtGcHead *g = rti_gc_next(&wrcb_to_call);
        RtObject *wr = RTI_FROM_GC(g);
        rti_weakref_call(wr);
        rt_decref(wr);
        if (rti_gc_next(&wrcb_to_call) == g)
            rti_gc_list_move(g, old);   /* still alive */
        else
            num_freed++;
    }
    RTI_GC_VALIDATE(unreachable, true, false);
    RTI_GC_VALIDATE(old, false, false);
    return num_freed;
}

/* ==== 5-6: finalizers and resurrection =================================== */

/* Run each object's finalizer once (the FINALIZED bit survives across
 * collections).  Objects move to a side list as they are visited, so a
 * finalizer that frees others cannot derail the walk.  Returns how many
 * finalizers ran. */
intptr_t
rti_gc_finalize_garbage(RtGcHead *collectable)
{
    RtGcHead seen;
    intptr_t ran = 0;
    rti_gc_list_init(&seen);
    while (!rti_gc_list_is_empty(collectable)) {
        RtGcHead *g = rti_gc_next(collectable);
        RtObject *op = RTI_FROM_GC(g);
        rti_gc_list_move(g, &seen);
        rti_assert_msg(rt_refcnt(op) != 0 || rti_brc_fold_frees(op), "an object being collected has a count of 0");
        void (*finalize)(RtObject *) = RT_TYPE(op)->finalize;
        if (finalize != NULL && !rti_gc_finalized(g)) {
            rti_gc_set_finalized(g);
            rt_incref(op);
            finalize(op);
            rt_decref(op);
            ran++;
        }
    }
    rti_gc_list_merge(&seen, collectable);
    RTI_GC_VALIDATE(collectable, true, false);
    return ran;
}

/* Split unreachable into what finalizers resurrected (back to old, with
 * everything it reaches) and what is still unreachable; returns how many
 * are still unreachable. */
intptr_t
rti_gc_handle_resurrected(RtGcHead *unreachable, RtGcHead *still_unreachable, RtGcHead *old)
{
    clear_collecting_all(unreachable);
    rti_gc_deduce_unreachable(unreachable, still_unreachable);
    intptr_t left = rti_gc_clear_unreachable_mask(still_unreachable);
    rti_gc_list_merge(unreachable, old);
    RTI_GC_VALIDATE(old, false, false);
    return left;
}

/* ==== 7: break the cycles ================================================ */

#if RT_RC_BIASED
/* Biased, the world stopped by the caller: the caller counts as op's owner
 * while it clears op, so that its decrements of what that thread owns --
 * the rest of op's cycle, as a rule -- take the owner's path: no atomic,
 * freed at once.  Else each took the others' path: a CAS on the shared
 * count, a hand-over to the owner's queue under two locks, and a merge and
 * a free by the owner after the restart (cycle_storm --n 20000 --rounds
 * 32 at 2 threads: 190,000 hand-overs a run, from the young collections
 * and from the parts of a parallel deletion whose thread came too late).
 * Sound because the owner is parked, blocked or gone: no other thread
 * writes op's local count meanwhile (rti_brc_explicit_merge's rule).
 * Departure: CPython 3.13t merges every unreachable object's counts in its
 * scan, the world stopped (merge_refcount(op, 1)), and clears after the
 * restart with atomic decrements of the merged counts; here the clears run
 * with the world stopped, and plain.
 * Returns the caller's own tag, for clear_as_owner_end. */
static inline uint32_t
clear_as_owner_begin(const RtObject *op)
{
    uint32_t mine = rt_thread_tag;
    if (rti_world_stopped_here()) {
        uint32_t tid = rt_brc_owner(atomic_load_explicit(&((RtObject *)op)->ob_tid_local, memory_order_relaxed));
        if (tid != 0)
            rt_thread_tag = RT_TID_LOCAL(tid, 0);
    }
    return mine;
}
static inline void clear_as_owner_end(uint32_t mine) { rt_thread_tag = mine; }
#else
static inline uint32_t clear_as_owner_begin(const RtObject *op) { (void)op; return 0; }
static inline void clear_as_owner_end(uint32_t mine) { (void)mine; }
#endif

/* Call clear on each object under a temporary reference.  Clearing drops
 * references, so objects free themselves (and unlink from this list) as
 * the cycles break; an object still first in the list after its clear is
 * alive for another reason and moves to old.  Tuples, when 'tuples' is
 * given, move there uncleared. */
static void
clear_each(RtGcHead *collectable, RtGcHead *old, RtGcHead *tuples)
{
    while (!rti_gc_list_is_empty(collectable)) {
        RtGcHead *g = rti_gc_next(collectable);
        RtObject *op = RTI_FROM_GC(g);
        /* One freed by a fold only may read 0: a clear dropped its last
         * reference; it moves to old, and the fold after the collection
         * frees it. */
        rti_assert_msg(rt_refcnt(op) > 0 || rti_brc_fold_frees(op), "refcount is too small: an object still "
                       "unreachable after the finalizers has a count of 0");
        if (tuples != NULL && rt_is_type(op, &rt_tuple_type)) {
            rti_gc_list_move(g, tuples);
            continue;
        }
        int (*clear)(RtObject *) = RT_TYPE(op)->clear;
        if (clear != NULL) {
            uint32_t tag = clear_as_owner_begin(op);
            rt_incref(op);
            clear(op);
            rt_decref(op);
            clear_as_owner_end(tag);
        }
        if (rti_gc_next(collectable) == g) {
            rti_gc_clear_collecting(g);
            rti_gc_list_move(g, old);
        }
    }
}

/* CPython's tuples have no clear (Python cannot make a cycle of tuples
 * alone): delete_garbage passes them by, and they die as the other objects
 * of their cycles are cleared, in CPython's order.  rtbench's C API can
 * make a cycle of tuples alone (rt_tuple_init_item), which CPython would
 * keep for ever: what is left of the tuples once everything else was
 * cleared is cleared last. */
void
rti_gc_delete_garbage(RtGcHead *collectable, RtGcHead *old)
{
    RtGcHead tuples;
    rti_gc_list_init(&tuples);
    clear_each(collectable, old, &tuples);
    clear_each(&tuples, old, NULL);
    RTI_GC_VALIDATE(old, false, false);
}
