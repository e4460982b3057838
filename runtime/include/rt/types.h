/* rt/types.h -- the built-in types: int, str, tuple, list, dict, instance,
 * weakref.
 *
 * Conventions (CPython's):
 *   - A function returning RtObject* returns a new reference unless it says
 *     "borrowed"; NULL means failure with rt_error() set.
 *   - A function taking an object to store takes its own reference (the
 *     caller keeps its reference), except those named *_steal.
 *   - An int returning function returns 0 on success, -1 on failure.
 *
 * Containers (tuple, list, dict, instance, weakref) are collector types:
 * they are tracked from creation until deallocation.
 */
#ifndef RT_TYPES_H
#define RT_TYPES_H

#include "rt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

extern RtType rt_int_type;
extern RtType rt_str_type;
extern RtType rt_tuple_type;
extern RtType rt_list_type;
extern RtType rt_dict_type;
extern RtType rt_weakref_type;

static inline bool rt_is_type(const RtObject *op, const RtType *t) { return op->ob_type == t; }

/* ---- int: a boxed 64-bit integer; -5..256 are static immortals. ---- */
#define RT_SMALL_INT_MIN (-5)
#define RT_SMALL_INT_MAX 256
typedef struct RtIntObject {
    RtObject ob_base;
    int64_t value;
} RtIntObject;
RtObject *rt_int_from(int64_t value);
static inline int64_t rt_int_value(const RtObject *op) { return ((const RtIntObject *)op)->value; }

/* ---- str: an immutable byte string with a cached hash. ---- */
typedef struct RtStrObject {
    RtVarObject ob_base;    /* ob_size = length in bytes */
    uint64_t hash;          /* 0 = not computed yet */
    char data[];            /* NUL-terminated */
} RtStrObject;
RtObject *rt_str_from(const char *bytes, size_t len);
RtObject *rt_str_from_cstr(const char *s);
/* printf into a new string; a format of literal text around one %d, %i,
 * %ld, %li, %lld or %lli (no flags, no width) is formatted without stdio. */
RtObject *rt_str_printf(const char *fmt, ...) RT_PRINTF(1, 2);
/* prefix (may be "") followed by the decimal text of value, without
 * stdio: str(value), or a dict key such as "k%lld" makes. */
RtObject *rt_str_from_int(const char *prefix, int64_t value);
static inline const char *rt_str_data(const RtObject *op) { return ((const RtStrObject *)op)->data; }
static inline size_t rt_str_len(const RtObject *op) { return (size_t)RT_SIZE(op); }

/* ---- tuple: fixed size; items are set once after creation. ---- */
typedef struct RtTupleObject {
    RtVarObject ob_base;
    RtObject *items[];
} RtTupleObject;
/* A tuple of n NULL items to fill with rt_tuple_init_item. */
RtObject *rt_tuple_new(intptr_t n);
/* A tuple of n items (each gets a new reference). */
RtObject *rt_tuple_pack(intptr_t n, ...);
/* Store item (a new reference taken) at i of a tuple still being built. */
void rt_tuple_init_item(RtObject *tuple, intptr_t i, RtObject *item);
RtObject *rt_tuple_get(RtObject *tuple, intptr_t i); /* borrowed */
static inline intptr_t rt_tuple_size(const RtObject *t) { return RT_SIZE(t); }

/* ---- list: growable array with CPython's over-allocation. ---- */
typedef struct RtListObject {
    RtVarObject ob_base;    /* ob_size = length */
    RtObject **items;
    intptr_t allocated;     /* capacity of items; 0 <= ob_size <= allocated */
} RtListObject;
/* A list of n NULL items (n == 0 for an empty list). */
RtObject *rt_list_new(intptr_t n);
int rt_list_append(RtObject *list, RtObject *item);
RtObject *rt_list_get(RtObject *list, intptr_t i);  /* borrowed */
int rt_list_set(RtObject *list, intptr_t i, RtObject *item);
int rt_list_insert(RtObject *list, intptr_t i, RtObject *item);
RtObject *rt_list_pop(RtObject *list, intptr_t i);  /* i < 0 counts from the end */
int rt_list_clear(RtObject *list);
static inline intptr_t rt_list_size(const RtObject *l) { return RT_SIZE(l); }
static inline intptr_t rt_list_capacity(const RtObject *l) { return ((const RtListObject *)l)->allocated; }

/* ---- dict: CPython's compact dict (an index table over an ordered
 * entry array), open addressing with perturbed probing. ---- */
RtObject *rt_dict_new(void);
int rt_dict_set(RtObject *dict, RtObject *key, RtObject *value);
/* Borrowed; NULL with RT_ERR_KEY when absent (or another error). */
RtObject *rt_dict_get(RtObject *dict, RtObject *key);
int rt_dict_del(RtObject *dict, RtObject *key);   /* RT_ERR_KEY when absent */
int rt_dict_contains(RtObject *dict, RtObject *key); /* 1, 0, or -1 */
intptr_t rt_dict_size(const RtObject *dict);
/* Iterate in insertion order: start with *pos = 0; borrowed key and value. */
bool rt_dict_next(RtObject *dict, intptr_t *pos, RtObject **key, RtObject **value);
int rt_dict_clear(RtObject *dict);

/* ---- instance: an object of a class with N slots (like __slots__). ---- */
enum {
    RT_CLASS_WEAKREF = 1u << 0, /* instances support weak references */
};
/* A new class.  finalize (may be NULL) is the class's __del__: called once,
 * may resurrect.  NULL with an error when out of memory or nslots too big. */
RtType *rt_class_new(const char *name, uint32_t nslots, unsigned options,
                     void (*finalize)(RtObject *self));
/* Free a class: at once if it has no live instance, else when the last one
 * dies (garbage instances may wait for the collector) -- once threads share
 * the runtime, at the first collection after that.  Classes still there
 * at rt_fini() are freed then. */
void rt_class_free(RtType *cls);
uint32_t rt_class_nslots(const RtType *cls);
bool rt_is_instance(const RtObject *op);
RtObject *rt_instance_new(RtType *cls);
RtObject *rt_instance_get(RtObject *inst, uint32_t slot);   /* borrowed, may be NULL */
int rt_instance_set(RtObject *inst, uint32_t slot, RtObject *value); /* value may be NULL */

/* ---- weakref: a reference that does not keep its referent alive. ---- */
typedef void (*RtWeakCallback)(RtObject *weakref, RtObject *arg);
/* A weak reference to referent (whose type must support weakrefs, else
 * RT_ERR_TYPE).  callback (may be NULL) is called once, with the cleared
 * weakref and arg, when the referent dies while the weakref lives; arg (may
 * be NULL) is held strongly by the weakref, as a Python weakref holds its
 * callback: until the weakref dies, or until the callback has run for a
 * referent that died by reference count (then the weakref gives it up,
 * as CPython's does; a collection leaves it to the weakref). */
RtObject *rt_weakref_new(RtObject *referent, RtWeakCallback callback, RtObject *arg);
RtObject *rt_weakref_get(RtObject *weakref);    /* borrowed; NULL once dead */
intptr_t rt_weakref_count(RtObject *referent);  /* weakrefs pointing at it */

#ifdef __cplusplus
}
#endif

#endif /* RT_TYPES_H */
