/* lifo_pairs.c -- rtbench-lifo BACKEND SIZE PAIRS: make PAIRS LIFO
 * alloc+free pairs of SIZE bytes, by the same routes as the alloc_free
 * microbenchmarks (one block of the size stays allocated meanwhile).  For instruction counts: run it under
 * valgrind --tool=callgrind with two values of PAIRS and divide the
 * difference of the totals by the difference of PAIRS (scripts/callgrind-lifo).
 */
#include "micro.h"
#include "rt/rt.h"
#include "rt/bench.h"

#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
    RtAllocKind kind;
    if (argc != 4 || rt_alloc_parse(argv[1], &kind) != 0) {
        fprintf(stderr, "usage: rtbench-lifo pool|malloc|debug|mimalloc|jemalloc SIZE PAIRS\n");
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 10);
    long pairs = strtol(argv[3], NULL, 10);
    if (rt_init() != 0) {
        fprintf(stderr, "rtbench-lifo: %s\n", rt_error_message());
        return 1;
    }
    const RtAllocator *a = rt_allocator_direct(kind);
    if (a == NULL) {
        fprintf(stderr, "rtbench-lifo: backend %s: %s\n", argv[1], rt_alloc_unavailable_reason(kind));
        return 1;
    }
    void *(*malloc_fn)(size_t) = kind == RT_ALLOC_POOL ? rt_malloc : a->malloc;
    void (*free_fn)(void *) = kind == RT_ALLOC_POOL ? rt_free : a->free;
    void *resident = malloc_fn(size);  /* as alloc_free/: the heap is not empty */
    for (long i = 0; i < pairs; i++) {
        void *p = malloc_fn(size);
        RT_BENCH_ESCAPE(p);
        free_fn(p);
    }
    free_fn(resident);
    rt_fini();
    return 0;
}
