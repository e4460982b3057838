/* int.c -- boxed 64-bit integers.
 *
 * Like CPython, the integers -5..256 are preallocated and shared; they are
 * immortal: reference counting never frees them (in the threaded variants
 * it writes nothing to them either; rt/object.h).  They live in static
 * storage, set up once by rt_init.
 */
#include "internal.h"

#define INT_ROW RTI_BUILTIN_COUNTERS(RTI_TYPE_ID_INT)
#define INT_BLOCK sizeof(RtIntObject)

static void int_dealloc(RtObject *op) { rti_object_release(op, INT_ROW, INT_BLOCK, 0, false); }

static uint64_t
int_hash(RtObject *op)
{
    int64_t v = rt_int_value(op);
    return (uint64_t)(v == -1 ? -2 : v);    /* -1 is CPython's error value */
}

static int int_eq(RtObject *a, RtObject *b) { return rt_int_value(a) == rt_int_value(b); }

RtType rt_int_type = {
    .name = "int",
    .basic_size = sizeof(RtIntObject),
    .flags = RT_TYPE_HASHABLE,
    .dealloc = int_dealloc,
    .hash = int_hash,
    .eq = int_eq,
    .id = RTI_TYPE_ID_INT,
};

#define NSMALL (RT_SMALL_INT_MAX - RT_SMALL_INT_MIN + 1)
static RtIntObject small_ints[NSMALL];

void
rti_small_ints_init(void)
{
    for (int i = 0; i < NSMALL; i++) {
        small_ints[i].ob_base.ob_type = &rt_int_type;
        small_ints[i].value = RT_SMALL_INT_MIN + i;
        rt_set_immortal(&small_ints[i].ob_base);
    }
}

static inline RtObject *
int_set(RtObject *op, int64_t value)
{
    if (rt_likely(op != NULL))
        ((RtIntObject *)op)->value = value;
    return op;
}

#if RT_RC_THREADED
/* rt_int_from's allocation once threads share the runtime (the mode word
 * not 0): apart, so that the one-thread path is small enough for the
 * compiler to inline rt_int_from into its callers.  With both paths in
 * one body GCC split it and called the rest with a stack frame: biased
 * list_append 129 instructions an append alone, 120 now; atomic 110, 100
 * now; at two threads the int still costs one call, to here (callgrind). */
static RT_NOINLINE RtObject *
int_new_threaded(unsigned mode, int64_t value)
{
    return int_set(rti_object_alloc_moded(mode, &rt_int_type, INT_ROW, INT_BLOCK, 0, false), value);
}
#endif

/* inline: a hint that raises GCC's limit for the link-time inlining into
 * the workloads (rt/types.h declares it plain, so this stays the external
 * definition). */
inline RtObject *
rt_int_from(int64_t value)
{
    if (value >= RT_SMALL_INT_MIN && value <= RT_SMALL_INT_MAX) {
        return &small_ints[value - RT_SMALL_INT_MIN].ob_base;
    }
#if RT_RC_THREADED
    unsigned mode = rti_mode();
    if (rt_unlikely(mode != 0))
        return int_new_threaded(mode, value);
#endif
    return int_set(rti_object_alloc_alone(&rt_int_type, INT_ROW, INT_BLOCK, 0, false), value);
}
