/* test_types.c -- the built-in types under reference counting.
 *
 * Each type's operations are checked against their documented behaviour
 * (CPython's, where the type mirrors one): values, errors, reference counts
 * taken and released, and that everything is freed (CHECK_NO_LEAK) at the
 * end of each test.  The cycle collector is disabled here; test_gc.c covers
 * it.  Built for both refcount variants.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

static RtTestMark mark;

static void setup(void) { mark = rt_test_begin_counting(); }
static void teardown(void) { rt_test_finish(mark); }

TEST(ints_small_are_immortal_and_shared)
{
    setup();
    RtObject *a = rt_int_from(7), *b = rt_int_from(7);
    CHECK(a == b);
    CHECK(rt_is_immortal(a));
    CHECK_EQ(rt_getrefcount(a), RT_IMMORTAL_REPORTED);
    rt_decref(a);   /* no effect on an immortal */
    rt_decref(a);
    CHECK_EQ(rt_int_value(a), 7);
    CHECK(rt_int_from(RT_SMALL_INT_MIN) != NULL && rt_int_from(RT_SMALL_INT_MAX) != NULL);
    RtObject *big = rt_int_from(1000), *big2 = rt_int_from(1000);
    CHECK(big != big2);
    CHECK(!rt_is_immortal(big));
    CHECK_EQ(rt_getrefcount(big), 1);
    CHECK_EQ(rt_int_value(big), 1000);
    CHECK_EQ(rt_object_eq(big, big2), 1);
    CHECK_EQ(rt_object_hash(big), rt_object_hash(big2));
    CHECK_EQ(rt_object_hash(rt_int_from(-1)), (uint64_t)-2);
    RtObject *neg = rt_int_from(INT64_MIN);
    CHECK_EQ(rt_int_value(neg), INT64_MIN);
    rt_decref(neg);
    rt_decref(big);
    rt_decref(big2);
    teardown();
}

TEST(strs_hold_bytes_and_hash)
{
    setup();
    RtObject *s = rt_str_from_cstr("hello"), *t = rt_str_printf("hel%s", "lo");
    CHECK_EQ(rt_str_len(s), 5);
    CHECK(strcmp(rt_str_data(t), "hello") == 0);
    CHECK_EQ(rt_object_eq(s, t), 1);
    CHECK_EQ(rt_object_hash(s), rt_object_hash(t));
    RtObject *e = rt_str_from("", 0);
    CHECK_EQ(rt_str_len(e), 0);
    CHECK_EQ(rt_str_data(e)[0], '\0');
    RtObject *nul = rt_str_from("a\0b", 3);
    CHECK_EQ(rt_str_len(nul), 3);
    RtObject *a = rt_str_from_cstr("a");
    CHECK_EQ(rt_object_eq(nul, a), 0);
    rt_decref(a);
    /* A long formatted string (past the small buffer). */
    RtObject *longs = rt_str_printf("%0300d", 5);
    CHECK_EQ(rt_str_len(longs), 300);
    CHECK_EQ(rt_str_data(longs)[299], '5');
    /* Object size: basic size (terminator included) + one byte per char. */
    CHECK_EQ(rt_object_sizeof(s), rt_str_type.basic_size + 5);
    rt_decref(s);
    rt_decref(t);
    rt_decref(e);
    rt_decref(nul);
    rt_decref(longs);
    teardown();
}

/* Integers formatted without stdio (rt_str_from_int, and rt_str_printf's
 * fast path for one %d-like conversion) give what snprintf gives. */
static bool
str_is(RtObject *s, const char *want)
{
    bool ok = s != NULL && rt_str_len(s) == strlen(want) && strcmp(rt_str_data(s), want) == 0;
    if (!ok)
        fprintf(stderr, "  got '%s', want '%s'\n", s ? rt_str_data(s) : "(null)", want);
    rt_xdecref(s);
    return ok;
}

TEST(strs_format_integers_as_printf_does)
{
    setup();
    const long long values[] = {0, 1, 9, 10, 99, 100, 101, 999, 1000, 65535, 4294967295LL, 4294967296LL,
                                123456789012345LL, 9999999999999999LL, INT64_MAX, -1, -10, -100, -4294967296LL,
                                INT64_MIN};
    char want[128];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        long long v = values[i];
        snprintf(want, sizeof want, "%lld", v);
        CHECK(str_is(rt_str_from_int("", v), want));
        snprintf(want, sizeof want, "k%lld", v);
        CHECK(str_is(rt_str_from_int("k", v), want));
        CHECK(str_is(rt_str_printf("k%lld", v), want));
        snprintf(want, sizeof want, "a rather long prefix, past sixteen bytes %lli and a suffix of more than 16", v);
        CHECK(str_is(rt_str_printf("a rather long prefix, past sixteen bytes %lli and a suffix of more than 16", v),
                     want));
        snprintf(want, sizeof want, "<%ld>", (long)v);
        CHECK(str_is(rt_str_printf("<%ld>", (long)v), want));
        snprintf(want, sizeof want, "%d:", (int)v);
        CHECK(str_is(rt_str_printf("%d:", (int)v), want));
        snprintf(want, sizeof want, "prefix of 16 b %i", (int)v);
        CHECK(str_is(rt_str_printf("prefix of 16 b %i", (int)v), want));
    }
    /* Not the fast path's shape: vsnprintf formats them. */
    CHECK(str_is(rt_str_printf("%05d", 42), "00042"));
    CHECK(str_is(rt_str_printf("%d-%d", 1, 2), "1-2"));
    CHECK(str_is(rt_str_printf("100%% %d", 7), "100% 7"));
    CHECK(str_is(rt_str_printf("%u", 4294967295u), "4294967295"));
    CHECK(str_is(rt_str_printf("%lu", 7ul), "7"));
    CHECK(str_is(rt_str_printf("no conversion"), "no conversion"));
    /* The key a twin would make hashes and compares as any equal string. */
    RtObject *a = rt_str_from_int("k", 12345), *b = rt_str_from_cstr("k12345");
    CHECK_EQ(rt_object_eq(a, b), 1);
    CHECK_EQ(rt_object_hash(a), rt_object_hash(b));
    rt_decref(a);
    rt_decref(b);
    teardown();
}

/* The word-at-a-time hash reads every byte: strings that differ in any one
 * byte, at any length up to a few words, hash apart; lengths matter too. */
TEST(str_hash_sees_every_byte)
{
    char buf[40];
    for (size_t len = 0; len <= sizeof buf; len++) {
        memset(buf, 'a', sizeof buf);
        uint64_t base = rti_hash_bytes(buf, len);
        CHECK(len == 0 || base != rti_hash_bytes(buf, len - 1));
        for (size_t i = 0; i < len; i++) {
            buf[i] = 'b';
            if (rti_hash_bytes(buf, len) == base)
                fprintf(stderr, "  length %zu: byte %zu does not change the hash\n", len, i);
            CHECK(rti_hash_bytes(buf, len) != base);
            buf[i] = 'a';
        }
    }
}

TEST(tuples_pack_get_and_release)
{
    setup();
    RtObject *x = rt_int_from(1000), *y = rt_str_from_cstr("y");
    RtObject *t = rt_tuple_pack(2, x, y);
    CHECK_EQ(rt_tuple_size(t), 2);
    CHECK(rt_tuple_get(t, 0) == x && rt_tuple_get(t, 1) == y);
    CHECK_EQ(rt_getrefcount(x), 2);
    CHECK(rt_tuple_get(t, 2) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_INDEX);
    CHECK(rt_gc_is_tracked(t));
    RtObject *u = rt_tuple_pack(2, x, y);
    CHECK_EQ(rt_object_eq(t, u), 1);
    CHECK_EQ(rt_object_hash(t), rt_object_hash(u));
    RtObject *empty = rt_tuple_new(0);
    CHECK_EQ(rt_tuple_size(empty), 0);
    rt_decref(t);
    rt_decref(u);
    CHECK_EQ(rt_getrefcount(x), 1);
    rt_decref(x);
    rt_decref(y);
    rt_decref(empty);
    CHECK(rt_tuple_new(-1) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    teardown();
}

/* CPython 3.11's list growth: capacities seen while appending one at a time. */
TEST(lists_grow_like_cpython)
{
    setup();
    static const intptr_t expected[] = {4, 8, 16, 24, 32, 40, 52, 64, 76, 92, 108, 128, 148};
    RtObject *l = rt_list_new(0);
    CHECK_EQ(rt_list_capacity(l), 0);
    size_t k = 0;
    intptr_t last = 0;
    for (int i = 0; i < 140; i++) {
        RtObject *v = rt_int_from(i);
        CHECK_EQ(rt_list_append(l, v), 0);
        rt_decref(v);
        if (rt_list_capacity(l) != last) {
            last = rt_list_capacity(l);
            if (k < sizeof expected / sizeof expected[0])
                CHECK_EQ(last, expected[k]);
            k++;
        }
    }
    CHECK_EQ(k, 13);
    CHECK_EQ(rt_list_size(l), 140);
    CHECK_EQ(rt_int_value(rt_list_get(l, 139)), 139);
    rt_decref(l);
    teardown();
}

TEST(lists_get_set_insert_pop_clear)
{
    setup();
    RtObject *l = rt_list_new(3);
    CHECK_EQ(rt_list_size(l), 3);
    CHECK(rt_list_get(l, 0) == NULL);   /* not filled yet */
    RtObject *v = rt_int_from(5000);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(rt_list_set(l, i, v), 0);
    CHECK_EQ(rt_getrefcount(v), 4);
    CHECK_EQ(rt_list_set(l, 3, v), -1);
    CHECK_EQ(rt_error(), RT_ERR_INDEX);
    CHECK_EQ(rt_list_set(l, -1, v), -1);
    CHECK(rt_list_get(l, 3) == NULL);
    RtObject *w = rt_str_from_cstr("w");
    CHECK_EQ(rt_list_insert(l, 0, w), 0);
    CHECK_EQ(rt_list_insert(l, 100, w), 0);    /* clamps to the end */
    CHECK_EQ(rt_list_insert(l, -100, w), 0);   /* clamps to the start */
    CHECK_EQ(rt_list_size(l), 6);
    CHECK(rt_list_get(l, 0) == w && rt_list_get(l, 1) == w && rt_list_get(l, 5) == w);
    RtObject *p = rt_list_pop(l, -1);
    CHECK(p == w);
    rt_decref(p);
    p = rt_list_pop(l, 1);
    CHECK(p == w);
    rt_decref(p);
    CHECK(rt_list_pop(l, 10) == NULL);
    CHECK_EQ(rt_list_size(l), 4);
    CHECK_EQ(rt_list_clear(l), 0);
    CHECK_EQ(rt_list_size(l), 0);
    CHECK_EQ(rt_list_capacity(l), 0);
    CHECK_EQ(rt_getrefcount(v), 1);
    CHECK_EQ(rt_getrefcount(w), 1);
    /* Popping shrinks the capacity once below half. */
    for (int i = 0; i < 100; i++)
        rt_list_append(l, v);
    intptr_t big = rt_list_capacity(l);
    while (rt_list_size(l) > 10)
        rt_decref(rt_list_pop(l, -1));
    CHECK(rt_list_capacity(l) < big / 2);
    rt_decref(l);
    rt_decref(v);
    rt_decref(w);
    CHECK(rt_list_new(-3) == NULL);
    teardown();
}

static RtObject *
key(int i)
{
    return rt_str_printf("key%d", i);
}

TEST(dicts_insert_lookup_delete_resize)
{
    setup();
    RtObject *d = rt_dict_new();
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        RtObject *k = key(i), *v = rt_int_from(i);
        CHECK_EQ(rt_dict_set(d, k, v), 0);
        rt_decref(k);
        rt_decref(v);
    }
    CHECK_EQ(rt_dict_size(d), N);
    for (int i = 0; i < N; i += 7) {
        RtObject *k = key(i), *v = rt_dict_get(d, k);
        CHECK(v != NULL && rt_int_value(v) == i);
        rt_decref(k);
    }
    /* Replace a value. */
    RtObject *k0 = key(0), *nv = rt_str_from_cstr("new");
    CHECK_EQ(rt_dict_set(d, k0, nv), 0);
    CHECK(rt_dict_get(d, k0) == nv);
    CHECK_EQ(rt_dict_size(d), N);
    CHECK_EQ(rt_getrefcount(nv), 2);
    /* Delete the odd keys; lookups of deleted keys fail with KEY. */
    for (int i = 1; i < N; i += 2) {
        RtObject *k = key(i);
        CHECK_EQ(rt_dict_del(d, k), 0);
        rt_decref(k);
    }
    CHECK_EQ(rt_dict_size(d), N / 2);
    RtObject *k1 = key(1);
    rt_error_clear();
    CHECK(rt_dict_get(d, k1) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_KEY);
    CHECK(strstr(rt_error_message(), "'key1' not found") != NULL);
    CHECK_EQ(rt_dict_del(d, k1), -1);
    CHECK_EQ(rt_dict_contains(d, k1), 0);
    CHECK_EQ(rt_dict_contains(d, k0), 1);
    /* Iteration is in insertion order and skips deleted entries. */
    intptr_t pos = 0, n = 0, prev = -1;
    RtObject *k, *v;
    bool ordered = true;
    while (rt_dict_next(d, &pos, &k, &v)) {
        if (rt_is_type(v, &rt_int_type)) {
            ordered = ordered && rt_int_value(v) > prev;
            prev = rt_int_value(v);
        }
        n++;
    }
    CHECK(ordered);
    CHECK_EQ(n, N / 2);
    rt_decref(k0);
    rt_decref(k1);
    rt_decref(nv);
    rt_decref(d);
    teardown();
}

/* dict_churn's pattern: a steady size under insert-new/delete-oldest must
 * keep working (resizes reclaim the deleted entries) and stay bounded. */
TEST(dicts_churn_at_steady_size)
{
    setup();
    RtObject *d = rt_dict_new();
    enum { K = 100, STEPS = 20000 };
    for (int i = 0; i < K + STEPS; i++) {
        RtObject *k = key(i), *v = rt_list_new(0);
        CHECK_EQ(rt_dict_set(d, k, v), 0);
        rt_decref(k);
        rt_decref(v);
        if (i >= K) {
            RtObject *old = key(i - K);
            CHECK_EQ(rt_dict_del(d, old), 0);
            rt_decref(old);
        }
    }
    CHECK_EQ(rt_dict_size(d), K);
    RtTypeStats ts[RT_MAX_TYPES];
    size_t nt = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < nt; i++)
        if (strcmp(ts[i].name, "dict") == 0)
            CHECK(ts[i].bytes < 64 * 1024);  /* the table did not grow without bound */
    CHECK_EQ(rt_dict_clear(d), 0);
    CHECK_EQ(rt_dict_size(d), 0);
    rt_decref(d);
    teardown();
}

TEST(dicts_with_int_and_identity_keys)
{
    setup();
    RtObject *d = rt_dict_new();
    RtObject *a = rt_int_from(100000), *b = rt_int_from(100000), *l = rt_list_new(0);
    CHECK_EQ(rt_dict_set(d, a, l), 0);
    CHECK(rt_dict_get(d, b) == l); /* equal ints are the same key */
    CHECK_EQ(rt_dict_set(d, l, a), 0); /* a list keys by identity */
    CHECK(rt_dict_get(d, l) == a);
    RtObject *m = rt_list_new(0);
    CHECK(rt_dict_get(d, m) == NULL);
    CHECK_EQ(rt_dict_size(d), 2);
    RtObject *neg = rt_int_from(-1);
    CHECK_EQ(rt_dict_set(d, neg, neg), 0);
    CHECK(rt_dict_get(d, neg) == neg);
    rt_decref(d);
    rt_decref(a);
    rt_decref(b);
    rt_decref(l);
    rt_decref(m);
    teardown();
}

/* Probes past other keys, at each index width (1-, 2- and 4-byte slots):
 * -1 and -2 have one hash (CPython moves -1, its error value, to -2), and
 * the others' hashes, i << 20, share their low 20 bits, so each probe
 * starts at slot 0 and walks the others' slots.  Each key is found, by
 * itself and by an equal int made anew; a deleted one no longer is, the
 * others still are. */
static RtObject *probe_key(int i) { return rt_int_from(i < 2 ? -1 - i : (int64_t)i << 20); }

TEST(dicts_probe_past_equal_hashes)
{
    setup();
    static const int sizes[] = {40, 300, 50000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int n = sizes[s];
        RtObject *d = rt_dict_new(), *k, *v;
        for (int i = 0; i < n; i++, rt_decref(k)) {
            k = probe_key(i);
            CHECK_EQ(rt_dict_set(d, k, k), 0);
        }
        for (int i = 0; i < n; i++, rt_decref(k)) {
            CHECK((v = rt_dict_get(d, k = probe_key(i))) != NULL && rt_int_value(v) == rt_int_value(k));
            CHECK(rt_dict_get(d, v) == v);          /* the stored key itself */
            CHECK_EQ(i % 3 == 0 ? rt_dict_del(d, k) : 0, 0);
        }
        for (int i = 0; i < n; i++, rt_decref(k))
            CHECK_EQ(rt_dict_contains(d, k = probe_key(i)), i % 3 != 0);
        CHECK_EQ(rt_dict_size(d), n - (n + 2) / 3);
        rt_decref(d);
    }
    teardown();
}

static int finalized;

static void
count_finalizer(RtObject *self)
{
    finalized++;
}

TEST(instances_slots_and_finalizer)
{
    setup();
    RtType *cls = rt_class_new("Point", 3, 0, count_finalizer);
    REQUIRE(cls != NULL);
    CHECK_EQ(rt_class_nslots(cls), 3);
    RtObject *p = rt_instance_new(cls);
    CHECK(rt_is_instance(p));
    CHECK(rt_instance_get(p, 0) == NULL);
    RtObject *v = rt_int_from(123456);
    CHECK_EQ(rt_instance_set(p, 2, v), 0);
    CHECK(rt_instance_get(p, 2) == v);
    CHECK_EQ(rt_getrefcount(v), 2);
    CHECK_EQ(rt_instance_set(p, 3, v), -1);
    CHECK_EQ(rt_error(), RT_ERR_INDEX);
    CHECK_EQ(rt_instance_set(p, 2, NULL), 0);
    CHECK_EQ(rt_getrefcount(v), 1);
    CHECK_EQ(rt_object_sizeof(p), 16 + sizeof(RtObject) + 3 * 8);    /* GC header + header + slots */
    finalized = 0;
    rt_decref(p);
    CHECK_EQ(finalized, 1);
    rt_decref(v);
    CHECK(rt_class_new("Huge", 1u << 30, 0, NULL) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_VALUE);
    teardown();
    rt_class_free(cls); /* after rt_fini: a no-op, classes went with it */
}

/* An instance's fields are zeroed within its own block: with one, two and
 * three slots, a new instance in a freed one's block reads NULL in every
 * slot, and the instance in the block after it keeps its GC header and
 * slots.  (One 16-byte store zeroes two fields, or one that the block
 * rounds up to two -- not after the biased variant's 16 + 24 bytes of
 * headers, where the store would reach the next block's GC header.) */
enum { FIELD_INSTANCES = 64 };

TEST(instance_fields_zeroed_within_their_block)
{
    setup();
    RtObject *v = rt_int_from(123456);
    for (uint32_t nslots = 1; nslots <= 3; nslots++) {
        RtType *cls = rt_class_new("Fields", nslots, 0, NULL);
        REQUIRE(cls != NULL);
        RtObject *inst[FIELD_INSTANCES];
        for (int k = 0; k < FIELD_INSTANCES; k++) {
            inst[k] = rt_instance_new(cls);
            REQUIRE(inst[k] != NULL);
            for (uint32_t i = 0; i < nslots; i++)
                CHECK_EQ(rt_instance_set(inst[k], i, v), 0);
        }
        /* With the pool: one whose block the next block's instance
         * follows (a fresh pool's blocks go out in address order).  Under
         * another backend (RT_MALLOC=malloc, as valgrind runs these) the
         * blocks are not neighbours: only the zeroing is checked. */
        bool pool = rt_alloc_current() == RT_ALLOC_POOL;
        size_t block = (rt_object_sizeof(inst[0]) + 15) / 16 * 16;    /* its class */
        int freed = 0, after = -1;
        for (int k = 0; pool && k < FIELD_INSTANCES && after < 0; k++)
            for (int j = 0; j < FIELD_INSTANCES; j++)
                if ((char *)inst[j] == (char *)inst[k] + block)
                    freed = k, after = j;
        REQUIRE(!pool || after >= 0);
        rt_decref(inst[freed]);
        RtObject *again = rt_instance_new(cls);
        REQUIRE(again != NULL);
        CHECK(!pool || again == inst[freed]);       /* the pool's free list is LIFO */
        for (uint32_t i = 0; i < nslots; i++) {
            CHECK(rt_instance_get(again, i) == NULL);
            CHECK(after < 0 || rt_instance_get(inst[after], i) == v);
        }
        CHECK(rt_gc_is_tracked(again) && (after < 0 || rt_gc_is_tracked(inst[after])));
        inst[freed] = again;
        for (int k = 0; k < FIELD_INSTANCES; k++)
            rt_decref(inst[k]);
    }
    CHECK_EQ(rt_getrefcount(v), 1);
    rt_decref(v);
    teardown();
}

static RtObject *saved;

static void
resurrecting_finalizer(RtObject *self)
{
    finalized++;
    saved = rt_newref(self);
}

TEST(finalizer_may_resurrect_and_runs_once)
{
    setup();
    RtType *cls = rt_class_new("Phoenix", 1, 0, resurrecting_finalizer);
    RtObject *p = rt_instance_new(cls);
    finalized = 0;
    saved = NULL;
    rt_decref(p);
    CHECK_EQ(finalized, 1);
    CHECK(saved == p);
    CHECK_EQ(rt_getrefcount(saved), 1);
    CHECK(rt_gc_is_tracked(saved));
    CHECK(rt_gc_is_finalized(saved));
    rt_decref(saved);   /* dies for good, finalizer not called again */
    CHECK_EQ(finalized, 1);
    rt_class_free(cls);
    teardown();
}

/* A class freed while instances live goes with its last instance; one on
 * the 'other' statistics row (past RT_MAX_TYPES) once no object of that
 * row lives, at the next collection. */
TEST(released_class_goes_with_its_last_instance)
{
    setup();
    RtType *cls = rt_class_new("Kept", 1, 0, NULL);
    RtObject *a = rt_instance_new(cls), *b = rt_instance_new(cls);
    REQUIRE(a != NULL && b != NULL);
    rt_class_free(cls);
    CHECK(rti_class_listed(cls));
    rt_decref(a);
    CHECK(rti_class_listed(cls));
    rt_decref(b);
    CHECK(!rti_class_listed(cls));

    RtType *fill[RT_MAX_TYPES];
    int n = 0;
    do {
        fill[n] = rt_class_new("Fill", 1, 0, NULL);
        REQUIRE(fill[n] != NULL);
    } while (fill[n++]->id != RTI_TYPE_ID_OTHER && n < RT_MAX_TYPES);
    REQUIRE(fill[n - 1]->id == RTI_TYPE_ID_OTHER);
    RtType *x = fill[n - 1], *y = rt_class_new("AlsoOther", 1, 0, NULL);
    REQUIRE(y != NULL && y->id == RTI_TYPE_ID_OTHER);
    RtObject *xi = rt_instance_new(x), *yi = rt_instance_new(y);
    REQUIRE(xi != NULL && yi != NULL);
    rt_class_free(x);
    rt_decref(xi);
    CHECK(rti_class_listed(x));     /* y's instance lives on the same row */
    rt_decref(yi);
    CHECK(rti_class_listed(x));
    CHECK(rt_gc_collect(0) >= 0);
    CHECK(!rti_class_listed(x));
    rt_class_free(y);
    CHECK(!rti_class_listed(y));
    for (int i = 0; i < n - 1; i++)
        rt_class_free(fill[i]);
    teardown();
}

static int callbacks;
static RtObject *callback_saw;

static void
weak_callback(RtObject *wr, RtObject *arg)
{
    callbacks++;
    callback_saw = rt_weakref_get(wr);
    /* Callbacks may allocate. */
    RtObject *tmp = rt_list_new(10);
    rt_decref(tmp);
    if (arg != NULL)
        CHECK(rt_is_type(arg, &rt_str_type));
}

TEST(weakrefs_clear_and_call_back_once)
{
    setup();
    RtType *cls = rt_class_new("Target", 1, RT_CLASS_WEAKREF, NULL);
    RtObject *t = rt_instance_new(cls), *arg = rt_str_from_cstr("arg");
    RtObject *w1 = rt_weakref_new(t, weak_callback, arg), *w2 = rt_weakref_new(t, NULL, NULL);
    RtObject *w3 = rt_weakref_new(t, weak_callback, NULL);
    CHECK(w1 && w2 && w3);
    CHECK_EQ(rt_weakref_count(t), 3);
    CHECK(rt_weakref_get(w1) == t);
    CHECK_EQ(rt_getrefcount(t), 1);     /* weakrefs own nothing */
    rt_decref(w3);                      /* a dead weakref calls nothing */
    CHECK_EQ(rt_weakref_count(t), 2);
    callbacks = 0;
    callback_saw = (RtObject *)1;
    rt_decref(t);
    CHECK_EQ(callbacks, 1);
    CHECK(callback_saw == NULL);        /* the callback sees a cleared ref */
    CHECK(rt_weakref_get(w1) == NULL && rt_weakref_get(w2) == NULL);
    rt_decref(w1);
    rt_decref(w2);
    rt_decref(arg);
    CHECK_EQ(callbacks, 1);
    /* Types without a weakref list refuse. */
    RtObject *l = rt_list_new(0);
    CHECK(rt_weakref_new(l, NULL, NULL) == NULL);
    CHECK_EQ(rt_error(), RT_ERR_TYPE);
    rt_decref(l);
    teardown();
}

/* Deallocating a very long chain must not overflow the C stack. */
TEST(deep_chains_deallocate_iteratively)
{
    setup();
    RtObject *head = rt_list_new(0);
    for (int i = 0; i < 1000000; i++) {
        RtObject *next = rt_list_new(0);
        rt_list_append(next, head);
        rt_decref(head);
        head = next;
    }
    RtType *cls = rt_class_new("Link", 1, 0, NULL);
    RtObject *chain = NULL;
    for (int i = 0; i < 500000; i++) {
        RtObject *n = rt_instance_new(cls);
        rt_instance_set(n, 0, chain);
        rt_xdecref(chain);
        chain = n;
    }
    /* Weakrefs leave the trashcan to the objects they hold, except a
     * weakref held by a weakref: a chain of those nests too. */
    RtType *target_cls = rt_class_new("Target", 0, RT_CLASS_WEAKREF, NULL);
    RtObject *target = rt_instance_new(target_cls), *weak = NULL;
    for (int i = 0; i < 1000000; i++) {
        RtObject *w = rt_weakref_new(target, NULL, weak);
        rt_xdecref(weak);
        weak = w;
    }
    CHECK_EQ(rt_weakref_count(target), 1000000);
    rt_decref(head);
    rt_decref(chain);
    rt_decref(weak);
    CHECK_EQ(rt_weakref_count(target), 0);
    rt_decref(target);
    teardown();
}

TEST(type_statistics_follow_objects)
{
    setup();
    RtObject *l = rt_list_new(0);
    for (int i = 0; i < 100; i++)
        rt_list_append(l, rt_int_from(1));
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ts[i].name, "list") == 0) {
            found = true;
            CHECK_EQ(ts[i].live, 1);
            /* GC header + list object + the item array of 108 slots */
            CHECK_EQ(ts[i].bytes, 16 + (int64_t)sizeof(RtListObject) + 108 * 8);
        }
    }
    CHECK(found);
    rt_decref(l);
    teardown();
}

int
main(void)
{
    RUN(ints_small_are_immortal_and_shared);
    RUN(strs_hold_bytes_and_hash);
    RUN(strs_format_integers_as_printf_does);
    RUN(str_hash_sees_every_byte);
    RUN(tuples_pack_get_and_release);
    RUN(lists_grow_like_cpython);
    RUN(lists_get_set_insert_pop_clear);
    RUN(dicts_insert_lookup_delete_resize);
    RUN(dicts_churn_at_steady_size);
    RUN(dicts_with_int_and_identity_keys);
    RUN(dicts_probe_past_equal_hashes);
    RUN(instances_slots_and_finalizer);
    RUN(instance_fields_zeroed_within_their_block);
    RUN(finalizer_may_resurrect_and_runs_once);
    RUN(released_class_goes_with_its_last_instance);
    RUN(weakrefs_clear_and_call_back_once);
    RUN(deep_chains_deallocate_iteratively);
    RUN(type_statistics_follow_objects);
    return rt_test_summary();
}
