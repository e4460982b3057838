/* brc_counts.c -- biased reference counting: per-thread counts.
 *
 * Biased counts make an object's owner count without atomics, but every
 * other thread still adds to the one shared count, and the owner's stores
 * go to the same cache line: an object that all threads take references to
 * (shared_refs' values, CPython's types, code objects and globals) moves
 * its line between the cores on every count.  CPython 3.14 gives such
 * objects a unique id and each thread an array of counts indexed by it
 * (Python/uniqueid.c, _Py_THREAD_INCREF_OBJECT); so does this file:
 *
 *   rt_object_enable_thread_counts(op)  op's owner, before any other
 *       thread sees op: op gets an id (in the tid field), its local count
 *       goes into the shared count, and the local field becomes
 *       RT_REF_LOCAL_THREADS, which the fast paths (rt/brc.h) test
 *       together with immortality.  Ids are 16 bits, as thread indices: with
 *       RT_TID_MAX objects counted per thread, the next keeps its biased
 *       count.
 *   every thread then counts in rt_thread_counts.values[id]: memory only it
 *       writes.  The true count is (shared >> 2) + the sum of every
 *       thread's entry, which may be negative (a thread drops a reference
 *       another took).
 *   rti_brc_fold_counts, with the world stopped (every collection, and
 *       rt_fini): each attached thread's entries go into the shared counts
 *       and are zeroed; an object whose count is then zero is dead: it
 *       becomes a plain merged object of count 0, its id is released, and
 *       it is deallocated.  So it outlives its last reference until the
 *       next collection -- CPython's deferred objects wait for the
 *       collector likewise.
 *   a thread that detaches adds its entries to the shared counts (atomic
 *       adds: other threads may be counting) and frees its array.
 *
 *   while one thread has the runtime, rt_object_enable_thread_counts only
 *       marks op LATER and lists it (RtRefIds.waiting): the owner goes on
 *       counting locally, at full speed, and a fold frees op once its count
 *       is zero (the LATER mark keeps the owner's zero from freeing it, and
 *       lets the others' shared count go below zero).  The stop that lets
 *       a second thread in (thread.c, share_the_heap_locked) gives every
 *       listed object its id: rti_brc_counts_share.
 *
 * Departures from CPython: the id lives in the tid field rather than in a field
 * of each type (any object may be counted per thread, not only types, code
 * and dicts), and an object stays counted per thread until it dies
 * (CPython's stay deferred likewise).  A thread's array grows on its first
 * count of an id past its end (rti_brc_counts_grow, from the slow path in
 * brc.c) to the ids handed out so far.  The ids wait for a second thread
 * (LATER, above): with one thread, a count in the thread's array cost
 * shared_refs 1.2-1.3x nonatomic's time, the owner's count 1.08x.
 *
 * Locking: the ids' lock guards the table; it comes after the registry
 * lock (thread.h).  A thread's array is written by that thread alone, and
 * read by a fold only while the thread is stopped, blocked, or detaching.
 */

#include "internal.h"
#include "brc_internal.h"

#include <stdlib.h>
#include <string.h>

#if RT_RC_BIASED

void
rti_brc_ids_init(RtRefIds *ids)
{
    memset(ids, 0, sizeof *ids);
    pthread_mutex_init(&ids->lock, NULL);
}

void
rti_brc_ids_fini(RtRefIds *ids)
{
    pthread_mutex_destroy(&ids->lock);
    free(ids->objects);
    free(ids->free_ids);
    free(ids->waiting.items);
    memset(ids, 0, sizeof *ids);
}

/* ==== ids =============================================================== */

static bool
ids_reserve(RtRefIds *ids)
{
    if (ids->size < ids->capacity)
        return true;
    size_t cap = ids->capacity ? ids->capacity * 2 : 64;
    RtObject **objects = realloc(ids->objects, cap * sizeof *objects);
    if (objects == NULL)
        return false;
    ids->objects = objects;
    size_t *free_ids = realloc(ids->free_ids, cap * sizeof *free_ids);
    if (free_ids == NULL)
        return false;
    ids->free_ids = free_ids;
    ids->capacity = cap;
    return true;
}

/* A new id for op; 0 when there is no memory, RT_TID_NONE when every id
 * (the tid field's 16 bits) is taken.  Ids lock held. */
static uintptr_t
id_take_locked(RtRefIds *ids, RtObject *op)
{
    uintptr_t id;
    if (ids->nfree > 0) {
        id = ids->free_ids[--ids->nfree];
    } else {
        if (ids->size == 0)
            ids->size = 1;      /* id 0: merged objects' tid */
        if (ids->size > RT_TID_MAX)
            return RT_TID_NONE;
        if (!ids_reserve(ids))
            return 0;
        id = ids->size++;
    }
    ids->objects[id] = op;
    ids->live++;
    return id;
}

/* Every thread's entry for id is zero (a fold just ran). */
static void
id_release_locked(RtRefIds *ids, uintptr_t id)
{
    rti_assert(id > 0 && id < ids->size && ids->objects[id] != NULL);
    ids->objects[id] = NULL;
    ids->free_ids[ids->nfree++] = id;   /* room: nfree < size <= capacity */
    ids->live--;
}

/* Give op, owned by a parked thread or by the caller, the id `id`: its
 * counts merged into the shared one, its word says counted per thread. */
static void
count_per_thread(RtObject *op, uintptr_t id)
{
    rti_brc_merge_into(op, 0, RT_TID_LOCAL(id, RT_REF_LOCAL_THREADS));
}

/* op waits for a second thread: marked LATER, listed.  Returns 0, or -1
 * with RT_ERR_NOMEM. */
static int
wait_for_threads(RtRefIds *ids, RtObject *op)
{
    pthread_mutex_lock(&ids->lock);
    bool listed = rti_object_array_push(&ids->waiting, op);
    pthread_mutex_unlock(&ids->lock);
    if (!listed) {
        rti_nomem();
        return -1;
    }
    /* No other thread sees op yet: published with op. */
    atomic_store_explicit(&op->ob_ref_shared, RT_REF_LATER, memory_order_relaxed);
    return 0;
}

int
rt_object_enable_thread_counts(RtObject *op)
{
    uint32_t local = rt_brc_local(atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed));
    if (local >= RT_REF_LOCAL_THREADS)
        return 0;       /* immortal, or counted per thread already */
    RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_relaxed);
    bool mine = rti_tstate != NULL && rt_is_owned_by_me(op);
    if (mine && shared == RT_REF_LATER)
        return 0;       /* waiting for a second thread already */
    if (!mine || shared != 0) {
        rt_error_set(RT_ERR_STATE, "rt_object_enable_thread_counts: only the thread that made the object, "
                                   "attached, may call it, before any other thread takes a reference");
        return -1;
    }
    RtRefIds *ids = &rti_runtime.threads.ids;
    /* The mode cannot gain RTI_MODE_SHARED before we return: that takes a
     * stop, and this thread reaches no safepoint here. */
    if (!rti_heap_shared())
        return wait_for_threads(ids, op);
    pthread_mutex_lock(&ids->lock);
    uintptr_t id = id_take_locked(ids, op);
    pthread_mutex_unlock(&ids->lock);
    if (id == 0) {
        rti_nomem();
        return -1;
    }
    if (id == RT_TID_NONE)
        return 0;       /* no id left: op keeps its biased count */
    count_per_thread(op, id);
    return 0;
}

void
rti_brc_counts_share(RtThreads *threads)
{
    RtRefIds *ids = &threads->ids;
    pthread_mutex_lock(&ids->lock);
    for (size_t i = 0; i < ids->waiting.n; i++) {
        RtObject *op = ids->waiting.items[i];
        uint32_t word = atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed);
        if (rt_brc_word_immortal(word))
            continue;   /* made immortal since: counted by nobody */
        rti_assert((atomic_load_explicit(&op->ob_ref_shared, memory_order_relaxed) & RT_REF_SHARED_FLAGS)
                   == RT_REF_LATER);
        uintptr_t id = id_take_locked(ids, op);
        if (id == 0 || id == RT_TID_NONE) {
            /* No memory, or no id left: op stays as it is, LATER, counted
             * by its owner and freed by a fold -- correct, only slower
             * where threads contend; listed still. */
            RtObjectArray *w = &ids->waiting;
            memmove(w->items, w->items + i, (w->n - i) * sizeof *w->items);
            w->n -= i;
            pthread_mutex_unlock(&ids->lock);
            return;
        }
        count_per_thread(op, id);
    }
    ids->waiting.n = 0;
    pthread_mutex_unlock(&ids->lock);
}

bool
rti_brc_counts_grow(uintptr_t id)
{
    RtThreadCounts *mine = &rt_thread_counts;
    if (rti_tstate == NULL)
        return false;   /* not attached: no fold would see an array */
    RtRefIds *ids = &rti_runtime.threads.ids;
    pthread_mutex_lock(&ids->lock);
    size_t size = ids->size;
    pthread_mutex_unlock(&ids->lock);
    if (id >= size)
        return false;   /* not an id: a count raced with a merge (cannot happen) */
    intptr_t *values = realloc(mine->values, size * sizeof *values);
    if (values == NULL)
        return false;
    memset(values + mine->size, 0, (size - mine->size) * sizeof *values);
    mine->values = values;
    mine->size = size;
    return true;
}

/* ==== folds ============================================================= */

/* Add one thread's entries to the shared counts and zero them; ids lock
 * held. */
static void
fold_thread_locked(RtRefIds *ids, RtThreadCounts *counts)
{
    size_t n = counts->size < ids->size ? counts->size : ids->size;
    for (size_t id = 1; id < n; id++) {
        intptr_t v = counts->values[id];
        if (v == 0)
            continue;
        RtObject *op = ids->objects[id];
        rti_assert_msg(op != NULL, "a per-thread count for a released id");
        if (rt_unlikely(v > RT_REF_SHARED_MAX || v < -(intptr_t)RT_REF_SHARED_MAX))
            rt_brc_shared_overflow(op);
        /* An atomic add wraps (C11 7.17.7.5), so that partial sums out of
         * range cancel; only the total must fit. */
        atomic_fetch_add_explicit(&op->ob_ref_shared, (RtRefShared)v * RT_REF_SHARED_ONE, memory_order_relaxed);
        counts->values[id] = 0;
    }
}

/* The objects whose count is zero once every entry is folded: made plain
 * merged objects of count 0, their ids released, collected into dead[]
 * (at most ids->live).  Returns how many. */
static size_t
take_dead_locked(RtRefIds *ids, RtObject **dead)
{
    size_t ndead = 0;
    for (size_t id = 1; id < ids->size; id++) {
        RtObject *op = ids->objects[id];
        if (op == NULL)
            continue;
        RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire);
        intptr_t count = shared >> RT_REF_SHARED_SHIFT;
        rti_assert_msg(count >= 0, "a per-thread count folded below zero: a missing incref");
        if (count != 0)
            continue;
        atomic_store_explicit(&op->ob_tid_local, 0, memory_order_relaxed);
        id_release_locked(ids, id);
        dead[ndead++] = op;
    }
    return ndead;
}

/* The waiting objects (LATER) whose count is zero, unlisted and made plain
 * merged objects of count 0, added to dead[]; immortal ones unlisted.
 * Returns how many were added. */
static size_t
take_waiting_dead_locked(RtRefIds *ids, RtObject **dead)
{
    size_t ndead = 0;
    for (size_t i = ids->waiting.n; i-- > 0;) {
        RtObject *op = ids->waiting.items[i];
        uint32_t word = atomic_load_explicit(&op->ob_tid_local, memory_order_relaxed);
        if (!rt_brc_word_immortal(word)) {
            RtRefShared shared = atomic_load_explicit(&op->ob_ref_shared, memory_order_acquire);
            rti_assert((shared & RT_REF_SHARED_FLAGS) == RT_REF_LATER);
            intptr_t count = (intptr_t)rt_brc_local(word) + (shared >> RT_REF_SHARED_SHIFT);
            rti_assert_msg(count >= 0, "a biased count below zero: a missing incref");
            if (count != 0)
                continue;
            atomic_store_explicit(&op->ob_tid_local, 0, memory_order_relaxed);
            atomic_store_explicit(&op->ob_ref_shared, RT_REF_MERGED, memory_order_relaxed);
            dead[ndead++] = op;
        }
        ids->waiting.items[i] = ids->waiting.items[--ids->waiting.n];
    }
    return ndead;
}

size_t
rti_brc_fold_counts(RtThreads *threads)
{
    RtRefIds *ids = &threads->ids;
    pthread_mutex_lock(&threads->lock);
    pthread_mutex_lock(&ids->lock);
    if (ids->live == 0 && ids->waiting.n == 0) {
        pthread_mutex_unlock(&ids->lock);
        pthread_mutex_unlock(&threads->lock);
        return 0;
    }
    for (RtThreadState *ts = threads->head; ts != NULL; ts = ts->next)
        fold_thread_locked(ids, ts->counts);
    /* Without memory for the list the dead wait for the next fold. */
    RtObject **dead = malloc((ids->live + ids->waiting.n) * sizeof *dead);
    size_t ndead = 0;
    if (dead != NULL) {
        ndead = take_dead_locked(ids, dead);
        ndead += take_waiting_dead_locked(ids, dead + ndead);
    }
    pthread_mutex_unlock(&ids->lock);
    pthread_mutex_unlock(&threads->lock);
    /* Outside the locks: a dealloc drops references, which may grow this
     * thread's array (the ids' lock) or free more (the caller's drain loops
     * until nothing is left). */
    for (size_t i = 0; i < ndead; i++)
        rt_dealloc(dead[i]);
    free(dead);
    return ndead;
}

void
rti_brc_counts_leave(RtThreads *threads)
{
    RtThreadCounts *mine = &rt_thread_counts;
    pthread_mutex_lock(&threads->ids.lock);
    fold_thread_locked(&threads->ids, mine);
    pthread_mutex_unlock(&threads->ids.lock);
    free(mine->values);
    mine->values = NULL;
    mine->size = 0;
}

#else /* no per-thread counts: nothing to enable */

int
rt_object_enable_thread_counts(RtObject *op)
{
    (void)op;
    return 0;
}

#endif
