/* brc_queue.c -- biased reference counting: the merge queue.
 *
 * When a thread that does not own an object would take its shared count
 * below zero, the object goes to its owner's queue instead (with the
 * reference that thread drops, which the queue then holds), and the owner
 * merges it at its next safepoint or drain: folds its local count into the
 * shared one, after which any thread may free it.  As CPython's
 * Python/brc.c, with one queue per thread state (thread.h) found through
 * the registry instead of a hash table of buckets.
 */

#include "internal.h"

#if RT_RC_BIASED

#include <stdlib.h>

/* ==== the merge queue ==================================================== */

bool
rti_object_array_push(RtObjectArray *a, RtObject *op)
{
    if (a->n == a->capacity) {
        size_t cap = a->capacity ? a->capacity * 2 : 64;
        RtObject **items = realloc(a->items, cap * sizeof *items);
        if (items == NULL)
            return false;
        a->items = items;
        a->capacity = cap;
    }
    a->items[a->n++] = op;
    return true;
}

static int
queue_push(RtMergeQueue *q, RtObject *op)
{
    pthread_mutex_lock(&q->lock);
    bool pushed = rti_object_array_push(&q->objects, op);
    if (pushed)
        atomic_store_explicit(&q->nonempty, true, memory_order_release);
    pthread_mutex_unlock(&q->lock);
    return pushed ? 0 : -1;
}

/* The object's shared count would have gone below zero: the reference we
 * drop stays in the count and goes with the object to its owner's queue. */
void
rti_brc_queue_object(RtObject *op)
{
    uintptr_t tid = rt_brc_tid(atomic_load_explicit(&op->ob_tid_local, memory_order_acquire));
    if (tid == 0) {
        /* The owner merged meanwhile: the shared count is the count. */
        rt_decref(op);
        return;
    }
    RtThreads *threads = &rti_runtime.threads;
    pthread_mutex_lock(&threads->lock);
    RtThreadState *owner = rti_thread_find_locked(threads, tid);
    if (owner != NULL && queue_push(&owner->merge, op) == 0) {
        pthread_mutex_unlock(&threads->lock);
        rti_count_event(&threads->counters.queued_to_owner, 1);
        return;
    }
    if (owner == NULL) {
        /* The owner has gone: nobody writes the local count any more, so
         * merging here is safe (and needed).  The queue's reference goes. */
        intptr_t count = rti_brc_explicit_merge(op, -1);
        pthread_mutex_unlock(&threads->lock);
        if (count == 0)
            rt_dealloc(op);
        return;
    }
    /* No memory for the queue: the reference stays counted, and the object
     * leaks rather than die early (reported by rt_print_stats). */
    threads->queue_oom++;
    pthread_mutex_unlock(&threads->lock);
}

/* Merge every object queued to ts; the caller is ts's thread, or ts's
 * thread is stopped or gone.  Returns the number of objects freed. */
size_t
rti_brc_merge_queue(RtThreadState *ts)
{
    RtMergeQueue *q = &ts->merge;
    if (!atomic_load_explicit(&q->nonempty, memory_order_acquire))
        return 0;
    size_t freed = 0;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        RtObject **items = q->objects.items;
        size_t n = q->objects.n;
        q->objects = (RtObjectArray){NULL, 0, 0};
        atomic_store_explicit(&q->nonempty, false, memory_order_relaxed);
        pthread_mutex_unlock(&q->lock);
        if (n == 0) {
            free(items);
            return freed;
        }
        /* A dealloc below may queue more objects to us: loop. */
        for (size_t i = 0; i < n; i++) {
            if (rti_brc_explicit_merge(items[i], -1) == 0) {
                rt_dealloc(items[i]);
                freed++;
            }
        }
        free(items);
    }
}

#endif /* RT_RC_BIASED */
