/* heap_valid.h -- the pool allocator's own check of every heap, for the
 * threaded tests (test_threads_heap.c, test_gc_parallel.c): true, or
 * false with what is wrong on stderr.  Include after internal.h.
 */
#ifndef RT_TESTS_HEAP_VALID_H
#define RT_TESTS_HEAP_VALID_H

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

#endif /* RT_TESTS_HEAP_VALID_H */
