/* dict.c -- CPython's compact dict (3.6+): a sparse index table over a dense,
 * insertion-ordered entry array.
 *
 *   keys block:  [ header | indices: size slots | entries: usable slots ]
 *
 * The index table has size = 2^k slots (k >= 3), each holding an entry
 * number, EMPTY (-1) or DUMMY (-2, a deleted key: probing must go on past
 * it).  Slots are 1, 2, 4 or 8 bytes wide depending on the size, so small
 * dicts stay small.  Entries are appended in insertion order; a deleted
 * entry keeps its place with key == NULL until the next resize compacts the
 * array.  Probing is CPython's: i = hash & mask, then
 * i = (5*i + perturb + 1) & mask with perturb >>= 5 each step, which
 * visits every slot and lets all hash bits matter.
 *
 * Invariants: used <= nentries; usable + nentries == USABLE_FRACTION(size);
 * at least one index slot is EMPTY (usable is 2/3 of size), so a probe for a
 * missing key ends.  When no entry is left (usable == 0), an insert resizes
 * to the smallest power of two >= 3 * used (CPython's GROWTH_RATE), which
 * also drops the deleted entries: a churn of inserts and deletes at a steady
 * size resizes in place every size/3 or so steps, as CPython does.
 */
#include "internal.h"

#include <string.h>

#define DKIX_EMPTY (-1)
#define DKIX_DUMMY (-2)
#define DKIX_ERROR (-3)
#define LOG2_MINSIZE 3
#define USABLE_FRACTION(n) (((n) << 1) / 3)

typedef RtDictEntry DictEntry;     /* internal.h: the collector reads them too */

typedef struct DictKeys {
    uint8_t log2_size;
    uint8_t log2_index_bytes;
    intptr_t usable;    /* entries that can still be appended */
    intptr_t nentries;  /* entries appended, deleted ones included */
    _Alignas(8) uint8_t indices[];
} DictKeys;

typedef struct RtDictObject {
    RtObject ob_base;
    intptr_t used;      /* live entries */
    DictKeys *keys;     /* NULL for a dict never written */
} RtDictObject;

#define DICT_ROW RTI_BUILTIN_COUNTERS(RTI_TYPE_ID_DICT)
#define DICT_BLOCK (sizeof(RtGcHead) + sizeof(RtDictObject))
#define DICT(op) ((RtDictObject *)(op))
#define assert_dict(op) rti_assert_msg(rt_is_type((op), &rt_dict_type), "an rt_dict_* function on a non-dict")

static inline size_t keys_size(const DictKeys *k) { return (size_t)1 << k->log2_size; }
static inline DictEntry *
keys_entries(DictKeys *k)
{
    return (DictEntry *)(k->indices + ((size_t)1 << k->log2_index_bytes));
}

/* Slot i of an index table whose slots are 1 << width bytes wide. */
static RT_ALWAYS_INLINE intptr_t
index_at(const uint8_t *indices, size_t i, unsigned width)
{
    switch (width) {
    case 0: return ((const int8_t *)indices)[i];
    case 1: return ((const int16_t *)indices)[i];
    case 2: return ((const int32_t *)indices)[i];
    default: return (intptr_t)((const int64_t *)indices)[i];
    }
}

static inline unsigned index_width(const DictKeys *k) { return (unsigned)(k->log2_index_bytes - k->log2_size); }
static inline intptr_t get_index(const DictKeys *k, size_t i) { return index_at(k->indices, i, index_width(k)); }

/* Store ix in slot i, at index_at's width. */
static inline void
set_index(DictKeys *k, size_t i, intptr_t ix)
{
    switch (index_width(k)) {
    case 0: ((int8_t *)k->indices)[i] = (int8_t)ix; break;
    case 1: ((int16_t *)k->indices)[i] = (int16_t)ix; break;
    case 2: ((int32_t *)k->indices)[i] = (int32_t)ix; break;
    default: ((int64_t *)k->indices)[i] = ix; break;
    }
}

static size_t
keys_block_size(uint8_t log2_size, uint8_t log2_index_bytes)
{
    size_t size = (size_t)1 << log2_size;
    return sizeof(DictKeys) + ((size_t)1 << log2_index_bytes) + (size_t)USABLE_FRACTION(size) * sizeof(DictEntry);
}

static DictKeys *
new_keys(uint8_t log2_size)
{
    /* Slot width: entries must fit, and -1/-2 too. */
    uint8_t width = log2_size < 8 ? 0 : log2_size < 16 ? 1 : log2_size < 32 ? 2 : 3;
    uint8_t log2_index_bytes = (uint8_t)(log2_size + width);
    size_t bytes = keys_block_size(log2_size, log2_index_bytes);
    DictKeys *k = rt_malloc(bytes);
    if (k == NULL)
        return NULL;
    k->log2_size = log2_size;
    k->log2_index_bytes = log2_index_bytes;
    k->usable = USABLE_FRACTION((intptr_t)1 << log2_size);
    k->nentries = 0;
    memset(k->indices, 0xff, (size_t)1 << log2_index_bytes);    /* all EMPTY */
    rti_row_extra_bytes(DICT_ROW, (int64_t)bytes);
    return k;
}

static void
free_keys(DictKeys *k)
{
    if (k == NULL)
        return;
    rti_row_extra_bytes(DICT_ROW, -(int64_t)keys_block_size(k->log2_size, k->log2_index_bytes));
    rt_free(k);
}

/* The probe's next slot: CPython's recurrence (the opening comment). */
#define NEXT_SLOT(i, perturb, mask) ((perturb) >>= 5, (i) = ((i) * 5 + (perturb) + 1) & (mask))

/* lookup from slot i on, where an entry with key's hash but another key
 * sits: the keys are compared (a call through the type), and the probe
 * goes on comparing. */
static RT_NOINLINE intptr_t
lookup_compare(DictKeys *k, RtObject *key, uint64_t hash, size_t *slot, size_t i, size_t perturb)
{
    size_t mask = keys_size(k) - 1;
    DictEntry *entries = keys_entries(k);
    for (;; NEXT_SLOT(i, perturb, mask)) {
        intptr_t ix = get_index(k, i);
        if (ix == DKIX_EMPTY) {
            *slot = i;
            return DKIX_EMPTY;
        }
        if (ix < 0 || (entries[ix].key != key && entries[ix].hash != hash))
            continue;
        int eq = rt_object_eq(entries[ix].key, key);    /* 1 at once for the key itself */
        if (eq < 0)
            return DKIX_ERROR;
        if (eq) {
            *slot = i;
            return ix;
        }
    }
}

/* lookup's probe for one slot width, a constant once inlined: the slot
 * read is one load, with no switch a probe.  It settles the common cases
 * alone -- the key itself found (identity: the caller's own key object, as
 * shared_refs' lookups), or an EMPTY slot -- and makes no call, so it
 * saves no register.  At an entry with key's hash but another key (an
 * equal key made anew, or a collision) it hands the probe on to
 * lookup_compare, a tail call. */
static RT_ALWAYS_INLINE intptr_t
lookup_width(DictKeys *k, RtObject *key, uint64_t hash, size_t *slot, unsigned width)
{
    size_t mask = keys_size(k) - 1, i = (size_t)hash & mask, perturb = (size_t)hash;
    const DictEntry *entries = keys_entries(k);
    for (;; NEXT_SLOT(i, perturb, mask)) {
        intptr_t ix = index_at(k->indices, i, width);
        if (ix >= 0) {
            if (entries[ix].key == key) {
                *slot = i;
                return ix;
            }
            if (entries[ix].hash == hash)
                return lookup_compare(k, key, hash, slot, i, perturb);
        } else if (ix == DKIX_EMPTY) {
            *slot = i;
            return DKIX_EMPTY;
        }
    }
}

/* The entry holding key, or DKIX_EMPTY (then *slot is where the probe
 * ended), or DKIX_ERROR when a comparison failed.  Inline in its callers
 * (four in a release build), four copies of the probe each (1.4 KB): a
 * hit of rt_dict_get by identity takes 50 instructions, where one call of
 * a shared lookup, switching on the width every probe and saving
 * registers for the compare's call, took 97 (shared_refs, callgrind). */
static RT_ALWAYS_INLINE intptr_t
lookup(DictKeys *k, RtObject *key, uint64_t hash, size_t *slot)
{
    switch (index_width(k)) {
    case 0: return lookup_width(k, key, hash, slot, 0);
    case 1: return lookup_width(k, key, hash, slot, 1);
    case 2: return lookup_width(k, key, hash, slot, 2);
    default: return lookup_width(k, key, hash, slot, 3);
    }
}

/* The first slot on hash's probe path that holds no entry (EMPTY or DUMMY). */
static size_t
find_empty_slot(const DictKeys *k, uint64_t hash)
{
    size_t mask = keys_size(k) - 1, i = (size_t)hash & mask, perturb = (size_t)hash;
    while (get_index(k, i) >= 0)
        NEXT_SLOT(i, perturb, mask);
    return i;
}

/* The identity between the counts (cheap: checked after every change). */
static inline bool
counts_hold(const RtDictObject *d)
{
    const DictKeys *k = d->keys;
    return k == NULL || (k->usable + k->nentries == USABLE_FRACTION((intptr_t)keys_size(k)) && d->used <= k->nentries);
}
#define assert_counts(d) rti_assert_msg(counts_hold(d), "a dict's usable + nentries no longer make two thirds of its table")

#if RT_DEBUG >= 2
/* Every invariant of the opening comment, by a walk of the whole table:
 * the counts, the index slots (an entry number below nentries, EMPTY or
 * DUMMY, at least one EMPTY), each live entry indexed exactly once, and
 * found by a lookup of its key. */
static void
validate(RtDictObject *d)
{
    assert_counts(d);
    DictKeys *k = d->keys;
    if (k == NULL)
        return;
    DictEntry *e = keys_entries(k);
    intptr_t indexed = 0, empty = 0, live = 0;
    for (size_t i = 0; i < keys_size(k); i++) {
        intptr_t ix = get_index(k, i);
        rti_assert(ix >= DKIX_DUMMY && ix < k->nentries);
        empty += ix == DKIX_EMPTY;
        if (ix >= 0) {
            rti_assert_msg(e[ix].key != NULL, "an index slot points at a deleted entry");
            indexed++;
        }
    }
    for (intptr_t i = 0; i < k->nentries; i++) {
        if (e[i].key == NULL)
            continue;
        size_t slot;
        live++;
        rti_assert_msg(lookup(k, e[i].key, e[i].hash, &slot) == i, "a dict entry its key does not find");
    }
    rti_assert(empty > 0 && indexed == live && live == d->used);
}
#define validate_dict(d) validate(d)
#else
#define validate_dict(d) ((void)0)
#endif

/* Move the live entries into a table of at least minsize slots. */
static int
resize(RtDictObject *d, intptr_t minsize)
{
    uint8_t log2 = LOG2_MINSIZE;
    while (((intptr_t)1 << log2) < minsize)
        log2++;
    DictKeys *old = d->keys, *k = new_keys(log2);
    if (k == NULL)
        return -1;
    DictEntry *dst = keys_entries(k);
    intptr_t n = 0;
    if (old != NULL) {
        DictEntry *src = keys_entries(old);
        for (intptr_t i = 0; i < old->nentries; i++) {
            if (src[i].key == NULL)
                continue;
            dst[n] = src[i];
            set_index(k, find_empty_slot(k, src[i].hash), n);
            n++;
        }
    }
    k->nentries = n;
    k->usable -= n;
    d->keys = k;
    free_keys(old);
    validate_dict(d);
    return 0;
}

/* Drop the references of the entries from i up to *end, read at each
 * step (as the loop read k->nentries before the chunks). */
static inline void
drop_entries(DictEntry *e, intptr_t i, const intptr_t *end)
{
    for (; i < *end; i++) {
        rt_xdecref(e[i].key);
        rt_xdecref(e[i].value);
    }
}

#if RT_RC_THREADED
/* dict_dealloc's first entries of a large table, by chunks with the
 * deallocs' safepoints between (internal.h): all but the last chunk;
 * returns where the last begins.  Out of line, as rti_decref_items'. */
static RT_NOINLINE intptr_t
drop_entries_chunked(DictEntry *e, intptr_t n)
{
    intptr_t i = 0;
    for (intptr_t end; n - i > RTI_DEALLOC_SAFEPOINT; i = end, rti_safepoint()) {
        end = i + RTI_DEALLOC_SAFEPOINT;
        drop_entries(e, i, &end);
    }
    return i;
}
#endif

static void
dict_dealloc(RtObject *op)
{
    rti_gc_untrack(op);
    if (rti_trash_begin(op))
        return;
    DictKeys *k = DICT(op)->keys;
    if (k != NULL) {
        DictEntry *e = keys_entries(k);
        intptr_t i = 0;
#if RT_RC_THREADED
        if (rt_unlikely(k->nentries > RTI_DEALLOC_SAFEPOINT))
            i = drop_entries_chunked(e, k->nentries);
#endif
        drop_entries(e, i, &k->nentries);
        free_keys(k);
    }
    rti_object_release(op, DICT_ROW, DICT_BLOCK, 0, true);
    rti_trash_end();
}

/* Value, then key, first entry to last: CPython's dict_traverse for a
 * table of general keys. */
static int
dict_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    DictKeys *k = DICT(op)->keys;
    if (k == NULL)
        return 0;
    DictEntry *e = keys_entries(k);
    for (intptr_t i = 0; i < k->nentries; i++) {
        if (e[i].key == NULL)
            continue;
        int r = visit(e[i].value, arg);
        if (r == 0)
            r = visit(e[i].key, arg);
        if (r)
            return r;
    }
    return 0;
}

RtDictEntry *
rti_dict_entries(RtObject *op, intptr_t *n)
{
    DictKeys *k = DICT(op)->keys;
    *n = k ? k->nentries : 0;
    return k ? keys_entries(k) : NULL;
}

/* Detach the table first, so deallocs the decrefs trigger see an empty
 * dict, then drop the entries. */
static int
dict_clear(RtObject *op)
{
    DictKeys *k = DICT(op)->keys;
    DICT(op)->keys = NULL;
    DICT(op)->used = 0;
    if (k == NULL)
        return 0;
    DictEntry *e = keys_entries(k);
    for (intptr_t i = 0; i < k->nentries; i++) {
        rt_xdecref(e[i].key);
        rt_xdecref(e[i].value);
    }
    free_keys(k);
    return 0;
}

RtType rt_dict_type = {
    .name = "dict",
    .basic_size = sizeof(RtDictObject),
    .flags = RT_TYPE_GC,
    .dealloc = dict_dealloc,
    .traverse = dict_traverse,
    .clear = dict_clear,
    .id = RTI_TYPE_ID_DICT,
};

RtObject *
rt_dict_new(void)
{
    RtDictObject *d = (RtDictObject *)rti_object_alloc(&rt_dict_type, DICT_ROW, DICT_BLOCK, 0, true);
    if (d == NULL)
        return NULL;
    d->used = 0;
    d->keys = NULL;
    rti_gc_track((RtObject *)d);
    return (RtObject *)d;
}

int
rt_dict_set(RtObject *op, RtObject *key, RtObject *value)
{
    assert_dict(op);
    RtDictObject *d = DICT(op);
    if (d->keys == NULL && resize(d, 1 << LOG2_MINSIZE) < 0)
        return -1;
    uint64_t hash = rti_object_hash(key);
    size_t slot;
    intptr_t ix = lookup(d->keys, key, hash, &slot);
    if (ix == DKIX_ERROR)
        return -1;
    if (ix >= 0) {
        rt_incref(value);
        rt_setref(&keys_entries(d->keys)[ix].value, value);
        return 0;
    }
    if (d->keys->usable <= 0) {
        if (resize(d, d->used * 3) < 0)
            return -1;
    }
    DictKeys *k = d->keys;
    slot = find_empty_slot(k, hash);
    DictEntry *e = &keys_entries(k)[k->nentries];
    e->hash = hash;
    e->key = rt_newref(key);
    e->value = rt_newref(value);
    set_index(k, slot, k->nentries);
    k->nentries++;
    k->usable--;
    d->used++;
    assert_counts(d);
    return 0;
}

static int
key_error(RtObject *key)
{
    if (rt_is_type(key, &rt_str_type))
        rt_error_set(RT_ERR_KEY, "key '%.60s' not found", rt_str_data(key));
    else if (rt_is_type(key, &rt_int_type))
        rt_error_set(RT_ERR_KEY, "key %jd not found", (intmax_t)rt_int_value(key));
    else
        rt_error_set(RT_ERR_KEY, "key of type %s not found", RT_TYPE(key)->name);
    return -1;
}

RtObject *
rt_dict_get(RtObject *op, RtObject *key)
{
    assert_dict(op);
    RtDictObject *d = DICT(op);
    size_t slot;
    intptr_t ix = d->keys ? lookup(d->keys, key, rti_object_hash(key), &slot) : DKIX_EMPTY;
    if (ix >= 0)
        return keys_entries(d->keys)[ix].value;
    if (ix == DKIX_EMPTY)
        key_error(key);
    return NULL;
}

int
rt_dict_contains(RtObject *op, RtObject *key)
{
    assert_dict(op);
    RtDictObject *d = DICT(op);
    size_t slot;
    intptr_t ix = d->keys ? lookup(d->keys, key, rti_object_hash(key), &slot) : DKIX_EMPTY;
    return ix == DKIX_ERROR ? -1 : ix >= 0;
}

int
rt_dict_del(RtObject *op, RtObject *key)
{
    assert_dict(op);
    RtDictObject *d = DICT(op);
    size_t slot;
    intptr_t ix = d->keys ? lookup(d->keys, key, rti_object_hash(key), &slot) : DKIX_EMPTY;
    if (ix == DKIX_ERROR)
        return -1;
    if (ix == DKIX_EMPTY)
        return key_error(key);
    DictEntry *e = &keys_entries(d->keys)[ix];
    RtObject *old_key = e->key, *old_value = e->value;
    set_index(d->keys, slot, DKIX_DUMMY);
    e->key = e->value = NULL;
    d->used--;
    assert_counts(d);
    rt_decref(old_key);
    rt_decref(old_value);
    return 0;
}

intptr_t
rt_dict_size(const RtObject *op)
{
    assert_dict(op);
    return DICT(op)->used;
}

bool
rt_dict_next(RtObject *op, intptr_t *pos, RtObject **key, RtObject **value)
{
    assert_dict(op);
    DictKeys *k = DICT(op)->keys;
    if (k == NULL)
        return false;
    DictEntry *e = keys_entries(k);
    for (intptr_t i = *pos; i < k->nentries; i++) {
        if (e[i].key != NULL) {
            *key = e[i].key;
            *value = e[i].value;
            *pos = i + 1;
            return true;
        }
    }
    *pos = k->nentries;
    return false;
}

int
rt_dict_clear(RtObject *op)
{
    assert_dict(op);
    return dict_clear(op);
}
