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

/* Always inline (rt/types.h declares it plain, so this stays the external
 * definition), the allocation once threads share the runtime too
 * (rti_object_alloc: only a stop asked calls out).  That path was out of
 * line, a call per int at two threads (biased list_append --n 2000
 * --rounds 1600 --threads 2: 373.5 M instructions, 361.0 M inline, one
 * thread 356.5 M); inline under GCC's plain limit, GCC split the function
 * in dict_churn's put and called its tail (1,268 instructions a step
 * against 1,260). */
RT_ALWAYS_INLINE RtObject *
rt_int_from(int64_t value)
{
    if (value >= RT_SMALL_INT_MIN && value <= RT_SMALL_INT_MAX) {
        return &small_ints[value - RT_SMALL_INT_MIN].ob_base;
    }
    return int_set(rti_object_alloc(&rt_int_type, INT_ROW, INT_BLOCK, 0, false), value);
}
