/* gc_parallel.c -- a collection's first three passes, shared by the
 * stopped threads (the threaded variants, once threads share the runtime).
 *
 * Why.  With the world stopped, one thread ran every pass over every
 * thread's objects.  The objects a thread made sit in its core's cache;
 * walked from the other core, each line is fetched across: cycle_storm's
 * full collections (--n 20000 --rounds 32, biased) took 289 ns per object
 * at 2 threads against 87 ns at one, and 0.72 s of its 1.19 s.  Here each
 * stopped thread walks its own heap's objects, and the threads do it at
 * once.
 *
 * How.  The objects being collected are left in parts (RtGcPart): each
 * heap's generations up to the collected one, and the global lists'.  Four
 * phases, each a task that the stopping thread and every parked thread run
 * (rti_world_help); each caller takes its own heap's part first, then
 * what nobody has taken of the others.  A phase ends when every caller has
 * returned, so each phase sees the whole of the one before.
 *
 *   update    each object of the part: gc_refs = its count, COLLECTING
 *             (gc_passes.c's update_refs); the part is cut into chunks
 *             (below).  Whole parts are claimed.
 *   ...       the other three, chunk by chunk (any thread, any part):
 *   subtract  each reference from an object of the part to one being
 *             collected takes one off the target's gc_refs -- an atomic
 *             decrement, since the target may be in another part.
 *             Postcondition: gc_refs counts the references from outside.
 *   mark      from each object of the part with gc_refs > 0, mark (PENDING)
 *             everything reachable that is being collected, with a stack
 *             threaded through gc_prev; an atomic or decides which thread
 *             marks an object two threads reach at once.  Postcondition:
 *             an object is marked if and only if it is reachable from
 *             outside the set.
 *   sweep     each chunk splits: marked objects stay, relinked, with
 *             COLLECTING and PENDING cleared; the rest go to the chunk's
 *             unreachable list, COLLECTING kept.  Then, alone, the chunks'
 *             lists are joined in order into the part's.
 *
 * Chunks.  Parts are as large as the heaps: a thread that built a long-
 * lived structure holds it in its own part, which one thread walked while
 * the others, done with theirs, waited -- binary_trees at two threads ran
 * 838 perf samples in the passes on thread 0 against 322 on thread 1.  So
 * the update, which walks each part anyway, records a cut every `size`
 * objects (RTI_GC_CHUNK_MIN at first, doubling whenever RTI_GC_CHUNKS cuts
 * are taken, every other one kept: no memory to allocate), and the next
 * three phases take chunks -- runs from one cut to the next -- off a
 * counter per part, own part first.  A chunk ends where the next begins,
 * so the cuts only have to be in list order; the sweep reads each next
 * link before it relinks the object and writes only its own chunk's
 * objects and lists.  Full collections of biased binary_trees at two
 * threads: 4.39 -> 3.20 ms each, cycle_storm's 11.54 -> 10.33 ms (medians
 * of 15 and 11 alternated runs).  The update itself still goes by part.
 *
 * Then, alone, the stopping thread untracks the survivors' tuples and
 * moves each part's survivors to the generation they join -- on their own
 * heap: no walk to send them home.  Where no weakref is alive and no
 * finalizer is to run (biased), the clears are all that is left, and a
 * fifth phase runs them:
 *
 *   delete    each thread clears the garbage its own thread owns, on its
 *             own heap's part, through the owner's paths (no atomic, frees
 *             to its own pools); the stopping thread runs its share as a
 *             peer (stw.c), and the parts of threads that did not come,
 *             alone after, as their owner (gc_passes.c, clear_each).
 *             What outlives its clear goes to old.  Why only then:
 *             rti_gc_delete_parallel.  cycle_storm --n 20000
 *             --rounds 32 at 2 threads: 360 -> 299 ms (11 interleaved
 *             rounds), the deletion having taken 0.09-0.11 s on the
 *             stopping thread against 0.034 s for one thread's garbage.
 *
 * Else the stopping thread joins the unreachable lists, and the weakrefs,
 * finalizers and clears run on it as before (gc.c).
 *
 * Departure from CPython 3.11's move_unreachable (gc_passes.c keeps it for
 * the single thread, young collections, and RT_GC_PARALLEL=off): a marking
 * with a stack finds the same objects in any order, so it can run on
 * several threads; it is how CPython's free-threaded build finds them
 * (gc_free_threading.c, mark_heap_visitor), over its heaps.  The survivors
 * keep their heap's order; the unreachable list comes part by part.  What
 * is collected, and how many, is the same.
 *
 * Which collections: those of generation RtGcState.parallel_min and older
 * (RT_GC_PARALLEL, default 1).  A young collection is tens of
 * microseconds, about what the four hand-overs cost.
 */

#include "gc_visit.h"
#include "brc_internal.h"

#if RT_RC_THREADED

typedef enum Phase { PHASE_UPDATE, PHASE_SUBTRACT, PHASE_MARK, PHASE_SWEEP, PHASE_DELETE } Phase;

/* A phase, as each thread running it sees it. */
typedef struct Collection {
    RtGcState *gc;
    Phase phase;
    unsigned number;    /* what its claims write (never 0: a new part's) */
} Collection;

static inline RtGcPart *heap_part(RtPoolHeap *ph) { return &((RtThreadHeap *)ph)->gc.part; }

/* Whether the caller is the first to take p in this phase. */
static inline bool
claim(RtGcPart *p, unsigned number)
{
    return atomic_exchange_explicit(&p->claimed, number, memory_order_relaxed) != number;
}

/* ==== the phases, on one chunk or part ================================== */

/* The object after chunk i of p: the next chunk's first, or the list's
 * head after the last. */
static inline RtGcHead *
chunk_end(RtGcPart *p, uint32_t i)
{
    return i + 1 < p->chunks ? p->chunk[i + 1].first : &p->young;
}

/* update_refs over the part, cutting it into chunks as it goes: a cut every
 * `size` objects, size doubling (every other cut kept) whenever the table
 * is full.  Postcondition: every object has its gc_refs and COLLECTING;
 * chunk[0..chunks) start at objects 0, size, 2 size, ... in list order. */
static void
update_and_cut(RtGcPart *p)
{
    RtGcHead *young = &p->young;
    intptr_t n = 0, size = RTI_GC_CHUNK_MIN;
    uint32_t cuts = 0;
    for (RtGcHead *g = rti_gc_next(young); g != young; g = rti_gc_next(g), n++) {
        if ((n & (size - 1)) == 0) {
            if (cuts == RTI_GC_CHUNKS) {
                for (uint32_t i = 0; i < RTI_GC_CHUNKS / 2; i++)
                    p->chunk[i].first = p->chunk[2 * i].first;
                cuts = RTI_GC_CHUNKS / 2;
                size *= 2;      /* n = RTI_GC_CHUNKS * old size: a multiple still */
            }
            p->chunk[cuts++].first = g;
        }
        update_one(g);
    }
    rti_assert(cuts <= RTI_GC_CHUNKS && (cuts == 0) == (n == 0));
    p->objects = n;
    p->chunks = cuts;
}

static ALWAYS_INLINE void
subtract_atomic(RtGcHead *list, RtGcHead *first, RtGcHead *end, bool prefetch)
{
    Lookahead la = lookahead_start(list, prefetch ? first : list);
    for (RtGcHead *g = first; g != end; g = rti_gc_next(g)) {
        if (prefetch)
            lookahead_step(&la);
        for_each_child(SUBTRACT_ATOMIC, RTI_FROM_GC(g), NULL, NULL, NULL);
    }
}

/* Mark everything reachable from the chunk's objects that are referenced
 * from outside the set.  An object another thread marked has PENDING set
 * and its stack link where gc_refs were: PENDING is tested first. */
static void
mark(RtGcHead *first, RtGcHead *end)
{
    RtGcMarkStack stack = {NULL};
    for (RtGcHead *g = first; g != end; g = rti_gc_next(g)) {
        uintptr_t v = gc_prev_load(g);
        if ((v & RTI_GC_PENDING) || (v >> RTI_GC_REFS_SHIFT) == 0)
            continue;
        mark_push(g, &stack);
        while (stack.top != NULL)
            for_each_child(MARK, RTI_FROM_GC(mark_pop(&stack)), &stack, NULL, NULL);
    }
}

/* Split chunk i of p: its marked objects to the chunk's young list, with
 * COLLECTING and PENDING cleared; the rest to its unreachable list (or,
 * owned by another thread, foreign), COLLECTING kept.  Each object's next
 * link is read before the object is relinked, and only the chunk's own
 * objects are written: neighbouring chunks are swept at once.  Counts the
 * survivors and their tuples, the rest and their finalizers still to run
 * (what handle_weakrefs' walk would count, gc.c). */
static void
sweep(RtGcPart *p, uint32_t i)
{
    RtGcChunk *k = &p->chunk[i];
    RtGcHead *young = &k->young, *dead = &k->unreachable, *prev = young, *next;
    RtGcHead *end = chunk_end(p, i);
    RtGcScan scan = {0, 0};
    RtGcGarbage garbage = {0, 0};
    rti_gc_list_init(dead);
    rti_gc_list_init(&k->foreign);
    for (RtGcHead *g = k->first; g != end; g = next) {
        next = rti_gc_next(g);
        uintptr_t v = g->gc_prev;
        if (v & RTI_GC_PENDING) {
            scan.survivors++;
            scan.tuples += rt_is_type(RTI_FROM_GC(g), &rt_tuple_type);
            g->gc_prev = (uintptr_t)prev | (v & RTI_GC_FINALIZED);
            rti_gc_set_next(prev, g);
            prev = g;
        } else {
            garbage.count++;
            garbage.finalizers += RT_TYPE(RTI_FROM_GC(g))->finalize != NULL && !(v & RTI_GC_FINALIZED);
            RtGcHead *to = dead;
#if RT_RC_BIASED
            if (rt_brc_owner(atomic_load_explicit(&RTI_FROM_GC(g)->ob_tid_local, memory_order_relaxed)) != p->owner)
                to = &k->foreign;
#endif
            RtGcHead *last = rti_gc_prev(to);
            g->gc_prev = (uintptr_t)last | (v & (RTI_GC_FINALIZED | RTI_GC_COLLECTING));
            rti_gc_set_next(last, g);
            rti_gc_set_next(g, to);
            to->gc_prev = (uintptr_t)g;
        }
    }
    rti_gc_set_next(prev, young);
    young->gc_prev = (uintptr_t)prev;
    k->scan = scan;
    k->garbage = garbage;
}

/* After the sweep, alone: the chunks' lists joined in order into the
 * part's, their counts summed.  Postcondition: young holds the survivors
 * in their old order, unreachable and foreign the rest, in theirs. */
static void
join_chunks(RtGcPart *p)
{
    rti_gc_list_init(&p->young);
    rti_gc_list_init(&p->unreachable);
    rti_gc_list_init(&p->foreign);
    p->scan = (RtGcScan){0, 0};
    p->garbage = (RtGcGarbage){0, 0};
    for (uint32_t i = 0; i < p->chunks; i++) {
        RtGcChunk *k = &p->chunk[i];
        rti_gc_list_merge(&k->young, &p->young);
        rti_gc_list_merge(&k->unreachable, &p->unreachable);
        rti_gc_list_merge(&k->foreign, &p->foreign);
        p->scan.survivors += k->scan.survivors;
        p->scan.tuples += k->scan.tuples;
        p->garbage.count += k->garbage.count;
        p->garbage.finalizers += k->garbage.finalizers;
    }
    rti_assert_msg(p->scan.survivors + p->garbage.count == p->objects,
                   "the chunks' sweeps did not see each object of the part once");
    RTI_GC_VALIDATE(&p->young, false, false);
    RTI_GC_VALIDATE(&p->unreachable, true, false);
    RTI_GC_VALIDATE(&p->foreign, true, false);
}

/* A phase on chunk i of p. */
static void
run_chunk(const Collection *c, RtGcPart *p, uint32_t i)
{
    RtGcHead *first = p->chunk[i].first, *end = chunk_end(p, i);
    switch (c->phase) {
    case PHASE_SUBTRACT:
        /* The lookahead where one thread's part is too large for the
         * cache: the serial passes' rule, per part. */
        if (p->objects >= c->gc->prefetch_min)
            subtract_atomic(&p->young, first, end, true);
        else
            subtract_atomic(&p->young, first, end, false);
        break;
    case PHASE_MARK:
        mark(first, end);
        break;
    case PHASE_SWEEP:
        sweep(p, i);
        break;
    default:
        rti_assert_msg(false, "a phase on whole parts run by chunks");
    }
}

/* A phase on the whole of p. */
static void
run_part(const Collection *c, RtGcPart *p)
{
    if (c->phase == PHASE_UPDATE) {
        update_and_cut(p);
    } else {
        rti_assert(c->phase == PHASE_DELETE);
        /* young, emptied by finish(), takes what outlives its clear. */
        rti_gc_delete_garbage(&p->unreachable, &p->young);
    }
}

/* The chunks of p nobody has claimed yet in this phase, one by one. */
static void
run_chunks(const Collection *c, RtGcPart *p)
{
    for (uint32_t i; (i = atomic_fetch_add_explicit(&p->next_chunk, 1, memory_order_relaxed)) < p->chunks;)
        run_chunk(c, p, i);
}

/* p's share of the phase that the caller is the first to take. */
static void
take(const Collection *c, RtGcPart *p)
{
    if (c->phase != PHASE_UPDATE)
        run_chunks(c, p);
    else if (claim(p, c->number))
        run_part(c, p);
}

/* The task: the caller's own heap's part first (its objects are in its
 * core's cache), then what is left of any part. */
static void
work(void *arg)
{
    const Collection *c = arg;
    if (rti_theap != NULL)
        take(c, heap_part(rti_theap));
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
        take(c, heap_part(ph));
    take(c, &c->gc->part);
}

/* The deletion's task: the caller's own heap's part only -- the garbage
 * its thread owns, cleared through the owner's paths (no atomic, frees to
 * its own pools), beside the other threads doing theirs. */
static void
work_own(void *arg)
{
    const Collection *c = arg;
    if (rti_theap != NULL && claim(heap_part(rti_theap), c->number))
        run_part(c, heap_part(rti_theap));
}

/* Run phase on the stopped threads; returns its claims' number. */
static unsigned
run_phase(RtGcState *gc, Phase phase)
{
    if (++gc->phases == 0)
        gc->phases = 1;
    Collection c = {gc, phase, gc->phases};
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap)
        atomic_store_explicit(&heap_part(ph)->next_chunk, 0, memory_order_relaxed);
    atomic_store_explicit(&gc->part.next_chunk, 0, memory_order_relaxed);
    if (phase == PHASE_DELETE)
        rti_world_help_as_peers(work_own, &c);
    else
        rti_world_help(work, &c);
    return c.number;
}

/* ==== the collection ==================================================== */

/* Each part's objects: its lists up to generation, joined. */
static void
gather(RtGcPart *p, RtGcHead *lists, size_t stride, int generation)
{
    rti_gc_list_init(&p->young);
    for (int i = 0; i <= generation; i++)
        rti_gc_list_merge((RtGcHead *)((char *)lists + (size_t)i * stride), &p->young);
}

/* The part's survivors to the lists of the generation they join, its
 * unreachable objects counted into *garbage; returns how many survive. */
static intptr_t
finish(RtGcPart *p, RtGcHead *next, RtGcGarbage *garbage)
{
    garbage->count += p->garbage.count;
    garbage->finalizers += p->garbage.finalizers;
    intptr_t survivors = p->scan.tuples ? rti_gc_untrack_tuples(&p->young) : p->scan.survivors;
    rti_gc_list_merge(&p->young, next);
    return survivors;
}

/* Each heap part's owner: the id its thread's objects record (biased);
 * RTI_GC_NO_OWNER, which no object records, for a heap no thread holds
 * and for the global lists' part: all their garbage reads as foreign. */
static void
set_owners(RtGcState *gc, RtPoolHeap *heaps)
{
    gc->part.owner = RTI_GC_NO_OWNER;
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        heap_part(ph)->owner = RTI_GC_NO_OWNER;
#if RT_RC_BIASED
    RtThreads *threads = &rti_runtime.threads;
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState *ts = threads->head; ts != NULL; ts = ts->next)
        if (ts->heap != NULL)
            heap_part(ts->heap)->owner = ts->tid;
    pthread_mutex_unlock(&threads->lock);
#endif
}

intptr_t
rti_gc_collect_parallel(RtGcState *gc, int generation, RtGcGarbage *garbage)
{
    rti_assert(rti_world_stopped_here() && rti_heap_shared());
    /* Every thread's per-thread counts in the shared ones, so that any
     * thread reads an object's true count (rt_refcnt adds the caller's
     * entry only): the start callbacks may have counted since the stop's
     * own drain. */
    rti_drain_all();
    int next = generation + 1 < RT_GC_GENERATIONS ? generation + 1 : generation;
    RtPoolHeap *heaps = rti_runtime.heap.arenas.heaps;
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        gather(heap_part(ph), ((RtThreadHeap *)ph)->gc.lists, sizeof(RtGcHead), generation);
    gather(&gc->part, &gc->gen[0].head, sizeof gc->gen[0], generation);
    set_owners(gc, heaps);

    run_phase(gc, PHASE_UPDATE);
    run_phase(gc, PHASE_SUBTRACT);
#if RT_DEBUG >= 2
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        rti_gc_assert_refs_subtracted(&heap_part(ph)->young);
    rti_gc_assert_refs_subtracted(&gc->part.young);
#endif
    run_phase(gc, PHASE_MARK);
    run_phase(gc, PHASE_SWEEP);
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        join_chunks(heap_part(ph));
    join_chunks(&gc->part);

    *garbage = (RtGcGarbage){0, 0};
    intptr_t survivors = 0;
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        survivors += finish(heap_part(ph), &((RtThreadHeap *)ph)->gc.lists[next], garbage);
    survivors += finish(&gc->part, &gc->gen[next].head, garbage);
    return survivors;
}

void
rti_gc_join_unreachable(RtGcState *gc, RtGcHead *unreachable, const RtGcGarbage *garbage)
{
    rti_gc_list_init(unreachable);
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        rti_gc_list_merge(&heap_part(ph)->unreachable, unreachable);
        rti_gc_list_merge(&heap_part(ph)->foreign, unreachable);
    }
    rti_gc_list_merge(&gc->part.unreachable, unreachable);
    rti_gc_list_merge(&gc->part.foreign, unreachable);
    RTI_GC_VALIDATE(unreachable, true, false);
#if RT_DEBUG >= 2
    rti_assert_msg(rti_gc_list_size(unreachable) == garbage->count, "the sweep miscounted the unreachable set");
#endif
    (void)garbage;
}

/* Why only then.  A thread that clears its own objects drops references
 * to other threads' objects too; biased, those decrements go to the shared
 * counts, and an object whose count would reach zero there is queued to
 * its owner (brc.c) -- never freed by a thread walking another part --
 * unless it is merged (tid 0: any thread frees it at zero) or its owner
 * has gone (rti_brc_queue_object merges and frees it).  So each part
 * clears only objects its thread owns: the sweep sets the others aside
 * (all of the global lists' part, which is no thread's own), those owned
 * by another part's thread go to that part (send_home), and any other
 * sends the collection to the serial deletion; and no object is merged
 * while the clears run (rti_brc_merges_deferred: an owner queues to
 * itself instead).
 * Untracked containers a thread frees this way drop counts, give blocks
 * to their heaps' delayed lists, and untrack nothing of another part.
 * The atomic variant frees an object on whichever thread drops its count
 * to zero: it keeps the serial deletion.  CPython 3.13t clears on the
 * collecting thread, with the world restarted; here the world stays
 * stopped and every thread clears its own. */
#if RT_RC_BIASED
/* The heap part whose thread owns op; NULL when none does (merged, owner
 * gone, counted per thread). */
static RtGcPart *
owner_part(RtPoolHeap *heaps, const RtObject *op)
{
    uintptr_t tid = rt_brc_owner(atomic_load_explicit(&((RtObject *)op)->ob_tid_local, memory_order_relaxed));
    if (tid == 0)
        return NULL;
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        if (heap_part(ph)->owner == tid)
            return heap_part(ph);
    return NULL;
}

/* Each foreign object of p (owned by another part's thread: a block one
 * thread freed into its cache and another allocated) onto its owner's
 * part; false, the rest left, at the first one that has none. */
static bool
send_home(RtPoolHeap *heaps, RtGcPart *p)
{
    while (!rti_gc_list_is_empty(&p->foreign)) {
        RtGcHead *g = rti_gc_next(&p->foreign);
        RtGcPart *home = owner_part(heaps, RTI_FROM_GC(g));
        if (home == NULL)
            return false;
        rti_gc_list_move(g, &home->unreachable);
    }
    return true;
}
#endif

bool
rti_gc_delete_parallel(RtGcState *gc, RtGcHead *old)
{
#if RT_RC_BIASED
    rti_assert(rti_world_stopped_here());
    RtPoolHeap *heaps = rti_runtime.heap.arenas.heaps;
    if (!rti_gc_list_is_empty(&gc->part.foreign))
        return false;
    rti_assert(rti_gc_list_is_empty(&gc->part.unreachable));
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        if (!send_home(heaps, heap_part(ph)))
            return false;
    atomic_store_explicit(&rti_brc_merges_deferred, true, memory_order_relaxed);   /* the task's post publishes it */
    unsigned number = run_phase(gc, PHASE_DELETE);
    /* Here, alone, the parts whose thread did not come in time. */
    Collection late = {gc, PHASE_DELETE, number};
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        if (claim(heap_part(ph), number))
            run_part(&late, heap_part(ph));
    atomic_store_explicit(&rti_brc_merges_deferred, false, memory_order_relaxed);
    rti_count_event(&rti_runtime.threads.counters.parallel_deletes, 1);
    for (RtPoolHeap *ph = heaps; ph != NULL; ph = ph->next_heap)
        rti_gc_list_merge(&heap_part(ph)->young, old);
    RTI_GC_VALIDATE(old, false, false);
    return true;
#else
    (void)gc, (void)old;
    return false;
#endif
}

#endif
