/* heap_valid.h -- the pool allocator's own check of every heap, for the
 * threaded tests (test_threads.c, test_threads_heap.c,
 * test_threads_gc_heap.c, test_gc_parallel.c): true, or false with what is
 * wrong on stderr; the blocks in use over every heap; the threads'
 * statistics; a function run on a thread of its own, and a join that
 * waits blocked.  Include after
 * internal.h.
 */
#ifndef RT_TESTS_HEAP_VALID_H
#define RT_TESTS_HEAP_VALID_H

#include <pthread.h>
#include <stdio.h>

static bool
heap_valid(void)
{
    char err[256];
    if (rti_pools_validate(&rti_runtime.heap.arenas, err, sizeof err) == 0)
        return true;
    fprintf(stderr, "     heap: %s\n", err);
    return false;
}

/* The threaded paths' slow events so far (rt_thread_stats). */
static inline RtThreadStats
thread_stats(void)
{
    RtThreadStats t;
    rt_thread_stats(&t);
    return t;
}

static inline int64_t
blocks_in_use(void)
{
    RtAllocStats st;
    rt_alloc_stats(&st);
    return st.blocks.current;
}

/* Run fn on a new attached thread and wait for it (blocked meanwhile, so
 * that its attach and its collections need not wait for us). */
static inline void
run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    rt_thread_block_begin();
    pthread_create(&t, NULL, fn, arg);
    pthread_join(t, NULL);
    rt_thread_block_end();
}

/* Wait for thread t, blocked meanwhile (its detach, and a stop it asks
 * for on the way out, need not wait for us). */
static inline void
join_blocked(pthread_t t)
{
    rt_thread_block_begin();
    pthread_join(t, NULL);
    rt_thread_block_end();
}

#endif /* RT_TESTS_HEAP_VALID_H */
