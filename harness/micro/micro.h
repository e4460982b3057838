/* micro.h -- the microbenchmark suite (rtbench micro): each file registers
 * its benchmarks through rt_bench.h; micro_main.c calls the registrations.
 *
 * Families and names (what scripts and the README refer to):
 *   alloc_free/<backend>/<size>          LIFO alloc+free pair, one block of
 *                                        the size kept alive meanwhile
 *   alloc_free_empty/<backend>/<size>    the same with nothing else alive
 *   alloc_free_random/<backend>/<size>   free+alloc at a random slot of a
 *                                        working set of 1M live blocks
 *   incref_decref/<variant>              one incref+decref pair, private object
 *   incref_decref_shared/<variant>/threads:<n>  all threads on one object
 *                                        (atomic, biased)
 *   incref_decref_perthread/biased/threads:<n>  all threads on one object
 *                                        counted per thread
 *   gc_collect_live/<n>                  full collection of a live heap
 *   gc_collect_cycles/<n>                collecting n objects in 2-cycles
 *   gc_young/<threshold0>                tracked allocation with young collections
 *   ceiling_walk/threads:<n>             each thread around 512 KiB of its own
 *                                        nodes, in random order (the cores)
 *   ceiling_stream/threads:<n>           each thread through 64 MiB of its own
 *                                        nodes, in address order (the memory)
 */
#ifndef RT_MICRO_H
#define RT_MICRO_H

#include "rt_bench.h"

void rt_micro_register_alloc(void);
void rt_micro_register_ceiling(void);
void rt_micro_register_rc_nonatomic(void);
void rt_micro_register_rc_atomic(void);
void rt_micro_register_rc_biased(void);
void rt_micro_register_gc(void);

#endif /* RT_MICRO_H */
