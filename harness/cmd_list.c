/* cmd_list.c -- rtbench list: the workloads with their parameters and
 * defaults, the refcount variants, and the allocator backends this build
 * can run (with the reason for those it cannot). */
#include "rtbench.h"

#include <string.h>

int
rtb_cmd_list(int argc, char **argv)
{
    static const RtbOptDef options[] = {{"json", false, RTB_OPT_JSON}, {NULL, false, 0}};
    bool json = false;
    RtbGetopt g = {"list", argc, argv, NULL, 0, NULL, NULL};
    int r;
    while ((r = rtb_getopt(&g, options, NULL)) == 1 && r != RTB_EXIT_USAGE) {
        if (g.id == RTB_OPT_HELP) {
            printf("usage: rtbench list [--json]\n\n"
                   "List the workloads (parameters and defaults), the refcount variants and the\n"
                   "allocator backends available in this build.  --json prints the same as JSON.\n");
            r = -1;
            break;
        }
        if (g.positional != NULL) {
            r = rtb_usage_error("list", "unexpected argument '%s'", g.positional);
            break;
        }
        json = true;
    }
    rtb_getopt_free(&g);
    if (r != 0)
        return r < 0 ? 0 : r;
    Rtj *doc = rtj_object(), *ws = rtj_set(doc, "workloads", rtj_array());
    for (const RtWorkload *const *w = rt_workloads; *w; w++) {
        Rtj *o = rtj_append(ws, rtj_object()), *ps = rtj_array();
        rtj_set(o, "name", rtj_string((*w)->name));
        rtj_set(o, "description", rtj_string((*w)->description));
        for (int p = 0; p < rt_workload_nparams(*w); p++) {
            Rtj *po = rtj_append(ps, rtj_object());
            rtj_set(po, "name", rtj_string((*w)->params[p].name));
            rtj_set(po, "default", rtj_integer((*w)->params[p].def));
            rtj_set(po, "min", rtj_integer((*w)->params[p].min));
            if ((*w)->params[p].max > 0)
                rtj_set(po, "max", rtj_integer((*w)->params[p].max));
            rtj_set(po, "help", rtj_string((*w)->params[p].help));
        }
        rtj_set(o, "params", ps);
    }
    Rtj *rc = rtj_set(doc, "rc", rtj_array()), *backends = rtj_set(doc, "alloc", rtj_array());
    rtj_append(rc, rtj_string("nonatomic"));
    rtj_append(rc, rtj_string("atomic"));
    rtj_append(rc, rtj_string("biased"));
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        Rtj *b = rtj_append(backends, rtj_object());
        rtj_set(b, "name", rtj_string(rt_alloc_name((RtAllocKind)k)));
        const char *why = rt_alloc_unavailable_reason((RtAllocKind)k);
        rtj_set(b, "available", rtj_boolean(why == NULL));
        rtj_set(b, "reason", why ? rtj_string(why) : rtj_null());
    }
    if (json) {
        rtj_fwrite(doc, 2, stdout);
        rtj_free(doc);
        return 0;
    }
    printf("Workloads (rtbench run WORKLOAD --PARAM VALUE ...):\n");
    for (size_t k = 0; k < rtj_len(ws); k++) {
        const Rtj *o = rtj_at(ws, k);
        printf("  %-14s %s\n", rtj_str(rtj_get(o, "name"), ""), rtj_str(rtj_get(o, "description"), ""));
        const Rtj *ps = rtj_get(o, "params");
        for (size_t p = 0; p < rtj_len(ps); p++) {
            const Rtj *po = rtj_at(ps, p), *max = rtj_get(po, "max");
            printf("      --%-9s %-10lld %s", rtj_str(rtj_get(po, "name"), ""), (long long)rtj_int(rtj_get(po, "default"), 0),
                   rtj_str(rtj_get(po, "help"), ""));
            if (max != NULL)
                printf(" [%lld to %lld]", (long long)rtj_int(rtj_get(po, "min"), 0), (long long)rtj_int(max, 0));
            printf("\n");
        }
    }
    printf("\nRefcount variants (--rc): nonatomic (default), atomic, biased\n\nAllocator backends (--alloc):\n");
    for (size_t k = 0; k < rtj_len(backends); k++) {
        const Rtj *b = rtj_at(backends, k);
        if (rtj_bool(rtj_get(b, "available"), false))
            printf("  %-9s available%s\n", rtj_str(rtj_get(b, "name"), ""), k == 0 ? " (default)" : "");
        else
            printf("  %-9s not available: %s\n", rtj_str(rtj_get(b, "name"), ""), rtj_str(rtj_get(b, "reason"), ""));
    }
    rtj_free(doc);
    return 0;
}
