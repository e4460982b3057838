/* registry.c -- the list of workloads.
 *
 * rt_workloads[] is the order `rtbench list` prints and the order of
 * workloads/README.md's table (and of python/run.py's WORKLOADS).
 */
#include "workload.h"

#include <string.h>

/* Each descriptor lives in the workload's own file. */
extern const RtWorkload rt_workload_list_append;
extern const RtWorkload rt_workload_dict_churn;
extern const RtWorkload rt_workload_cycle_storm;
extern const RtWorkload rt_workload_binary_trees;
extern const RtWorkload rt_workload_long_lived;
extern const RtWorkload rt_workload_fragmentation;
extern const RtWorkload rt_workload_gc_collect;
extern const RtWorkload rt_workload_gc_traversal;
extern const RtWorkload rt_workload_shared_refs;

const RtWorkload *const rt_workloads[] = {
    &rt_workload_list_append,
    &rt_workload_dict_churn,
    &rt_workload_cycle_storm,
    &rt_workload_binary_trees,
    &rt_workload_long_lived,
    &rt_workload_fragmentation,
    &rt_workload_gc_collect,
    &rt_workload_gc_traversal,
    &rt_workload_shared_refs,
    NULL,
};

const RtWorkload *
rt_workload_find(const char *name)
{
    for (const RtWorkload *const *w = rt_workloads; *w != NULL; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}

int
rt_workload_nparams(const RtWorkload *w)
{
    int n = 0;
    while (n < RT_WORKLOAD_MAX_PARAMS && w->params[n].name != NULL)
        n++;
    return n;
}
