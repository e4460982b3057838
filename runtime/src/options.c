/* options.c -- run-time options from the environment, in one table.
 *
 * Each row names a variable, the values it accepts (for messages and help)
 * and a parser that applies a value to an RtConfig.  A bad value is
 * reported and the field keeps what it had, as mimalloc's options.c does:
 * a typo in an environment variable must never stop a benchmark silently
 * with other settings than the user asked for, nor crash it.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_STR_(x) #x
#define RT_STR(x) RT_STR_(x)

typedef struct RtOption {
    const char *name;
    const char *accepted;
    int (*apply)(RtConfig *cfg, const char *value);
    const char *help;
} RtOption;

/* 1;TRUE;YES;ON or 0;FALSE;NO;OFF, in any case. */
static int
parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* A whole non-negative decimal number that fits in a long. */
static int
parse_count(const char *s, const char **end, long *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *e;
    long v = strtol(s, &e, 10);
    if (errno != 0 || v < 0)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

int
rt_parse_threshold(const char *text, long threshold[RT_GC_GENERATIONS])
{
    long v[RT_GC_GENERATIONS];
    int n = 0;
    const char *s = text;
    while (n < RT_GC_GENERATIONS) {
        if (parse_count(s, &s, &v[n]) < 0)
            return -1;
        n++;
        if (*s == '\0')
            break;
        if (*s++ != ',')
            return -1;
    }
    if (*s != '\0')
        return -1;
    for (int i = 0; i < n; i++)
        threshold[i] = v[i];
    return n;
}

static int
apply_malloc(RtConfig *cfg, const char *v)
{
    return rt_alloc_parse(v, &cfg->alloc);
}

static int
apply_threshold(RtConfig *cfg, const char *v)
{
    return rt_parse_threshold(v, cfg->gc_threshold) < 0 ? -1 : 0;
}

static int apply_gc(RtConfig *cfg, const char *v) { return parse_bool(v, &cfg->gc_enabled); }
static int apply_timing(RtConfig *cfg, const char *v) { return parse_bool(v, &cfg->gc_timing); }
static int apply_stats(RtConfig *cfg, const char *v) { return parse_bool(v, &cfg->show_stats); }

/* N: fail the Nth allocation; N+: that one and all after it. */
static int
apply_fail_after(RtConfig *cfg, const char *v)
{
    long n;
    const char *end;
    if (parse_count(v, &end, &n) < 0 || (end[0] != '\0' && strcmp(end, "+") != 0))
        return -1;
    cfg->fail_after = (uint64_t)n;
    cfg->fail_persistent = end[0] == '+';
    return 0;
}

/* Milliseconds, up to a day (a larger value is surely a mistake). */
static int
apply_arena_decay(RtConfig *cfg, const char *v)
{
    long ms;
    const char *end;
    if (parse_count(v, &end, &ms) < 0 || *end != '\0' || ms > RT_ARENA_DECAY_MAX_MS)
        return -1;
    cfg->arena_decay_ms = ms;
    return 0;
}

const char *
rt_gc_parallel_name(int generation)
{
    static const char *const names[RT_GC_GENERATIONS] = {"0", "1", "2"};
    return generation >= 0 && generation < RT_GC_GENERATIONS ? names[generation] : "off";
}

int
rt_parse_gc_parallel(const char *text, int *generation)
{
    bool on;
    if (parse_bool(text, &on) == 0 && !on && strcmp(text, "0") != 0) {
        *generation = RT_GC_GENERATIONS;
        return 0;
    }
    for (int g = 0; g < RT_GC_GENERATIONS; g++) {
        if (strcmp(text, rt_gc_parallel_name(g)) == 0) {
            *generation = g;
            return 0;
        }
    }
    return -1;
}

static int apply_parallel(RtConfig *cfg, const char *v) { return rt_parse_gc_parallel(v, &cfg->gc_parallel_min); }

static const RtOption options[] = {
    {"RT_MALLOC", "pool|malloc|debug|mimalloc|jemalloc", apply_malloc,
     "allocator backend (default pool)"},
    {"RT_GC_THRESHOLD", "T0[,T1[,T2]] (non-negative integers)", apply_threshold,
     "collector thresholds (default 700,10,10; T0=0: no automatic collection)"},
    {"RT_GC", "1|0 (or true/false, yes/no, on/off)", apply_gc,
     "automatic collection (default 1)"},
    {"RT_GC_TIMING", "1|0", apply_timing, "time every collection for pause statistics (default 1)"},
    {"RT_SHOW_STATS", "1|0", apply_stats, "print allocator, type and collector statistics at exit"},
    {"RT_FAIL_AFTER", "N or N+ (N >= 1)", apply_fail_after,
     "fault injection: fail the Nth allocation (N+: and every later)"},
    {"RT_GC_PARALLEL", "0|1|2|off", apply_parallel,
     "threaded variants: collections of this generation and older run their passes "
     "on every stopped thread (default 1; off: on the collecting thread alone)"},
    {"RT_ARENA_DECAY_MS", "MS, 0 to 86400000 (0: release at once)", apply_arena_decay,
     "keep free arenas mapped this long (default " RT_STR(RT_ARENA_DECAY_DEFAULT_MS) " ms)"},
};

void
rt_config_default(RtConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->alloc = RT_ALLOC_POOL;
    cfg->gc_threshold[0] = 700;
    cfg->gc_threshold[1] = 10;
    cfg->gc_threshold[2] = 10;
    cfg->gc_enabled = true;
    cfg->gc_timing = true;
    cfg->arena_decay_ms = RT_ARENA_DECAY_DEFAULT_MS;
    cfg->gc_parallel_min = RT_GC_PARALLEL_DEFAULT;
}

int
rt_config_from_env(RtConfig *cfg, FILE *warn)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const RtOption *o = &options[i];
        const char *v = getenv(o->name);
        if (v == NULL || v[0] == '\0')
            continue;
        RtConfig trial = *cfg;
        if (o->apply(&trial, v) == 0) {
            *cfg = trial;
            continue;
        }
        bad++;
        if (warn != NULL)
            fprintf(warn, "rt: environment option %s has an invalid value '%s' (accepted: %s); "
                          "keeping the default\n", o->name, v, o->accepted);
    }
    return bad;
}

void
rt_options_help(FILE *out)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        fprintf(out, "  %-16s %s\n  %-16s   values: %s\n", options[i].name, options[i].help, "",
                options[i].accepted);
}
