/* schema_check.c -- validate JSON files against a JSON Schema, in C.
 *
 *   rtb_schema_check SCHEMA FILE...
 *
 * The subset of JSON Schema (draft 7) that results/schema.json uses: type
 * (a name or a list), enum, const, properties, required,
 * additionalProperties (false or a schema), propertyNames, items, minItems,
 * maxItems, minimum, maximum, oneOf, and $ref to "#/definitions/NAME".  A
 * keyword outside the subset is an error, so that the schema cannot grow a
 * rule this checker silently skips.  tests/harness/test_cli.py runs it on
 * every result file it produces, beside Python's jsonschema: two
 * independent readers of the one schema.  Exit status: 0 all valid, 1 a
 * file is not (each problem on stderr with its path in the document), 2 a
 * bad schema or unreadable file.
 */
#define _GNU_SOURCE
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Ctx {
    const Rtj *root;
    int errors;
    bool bad_schema;
} Ctx;

static bool validate(Ctx *c, const Rtj *schema, const Rtj *v, const char *path, bool report);

static char *
rtb_test_join(const char *path, const char *key)
{
    char *p = NULL;
    if (asprintf(&p, "%s%s%s", path, *path ? "/" : "", key) < 0)
        abort();
    return p;
}


static const char *const known[] = {"$schema", "$id", "title", "description", "x-rtbench-defaults", "definitions",
                                    "type", "enum", "const", "properties", "required", "additionalProperties",
                                    "propertyNames", "items", "minItems", "maxItems", "minimum", "maximum", "oneOf",
                                    "$ref", NULL};

static bool
equal(const Rtj *a, const Rtj *b)
{
    char *x = rtj_dump(a, 0, NULL), *y = rtj_dump(b, 0, NULL);
    bool same = strcmp(x, y) == 0;
    free(x);
    free(y);
    return same;
}

static bool
type_is(const Rtj *v, const char *t)
{
    if (strcmp(t, "null") == 0) return rtj_is(v, RTJ_NULL);
    if (strcmp(t, "boolean") == 0) return rtj_is(v, RTJ_BOOL);
    if (strcmp(t, "number") == 0) return rtj_is(v, RTJ_NUMBER);
    if (strcmp(t, "integer") == 0) return rtj_is_int(v);
    if (strcmp(t, "string") == 0) return rtj_is(v, RTJ_STRING);
    if (strcmp(t, "array") == 0) return rtj_is(v, RTJ_ARRAY);
    if (strcmp(t, "object") == 0) return rtj_is(v, RTJ_OBJECT);
    return false;
}

static bool
fail(Ctx *c, bool report, const char *path, const char *what)
{
    if (report) {
        fprintf(stderr, "  %s: %s\n", *path ? path : "(top)", what);
        c->errors++;
    }
    return false;
}

static const Rtj *
resolve(Ctx *c, const char *ref)
{
    if (strncmp(ref, "#/definitions/", 14) != 0) {
        c->bad_schema = true;
        return NULL;
    }
    return rtj_get(rtj_get(c->root, "definitions"), ref + 14);
}

static bool
check_type(Ctx *c, const Rtj *t, const Rtj *v, const char *path, bool report)
{
    if (t == NULL)
        return true;
    if (rtj_is(t, RTJ_STRING))
        return type_is(v, rtj_str(t, "")) || fail(c, report, path, "wrong type");
    for (size_t k = 0; k < rtj_len(t); k++)
        if (type_is(v, rtj_str(rtj_at(t, k), "")))
            return true;
    return fail(c, report, path, "wrong type");
}

static bool
check_object(Ctx *c, const Rtj *s, const Rtj *v, const char *path, bool report)
{
    bool ok = true;
    const Rtj *props = rtj_get(s, "properties"), *req = rtj_get(s, "required");
    const Rtj *extra = rtj_get(s, "additionalProperties"), *names = rtj_get(s, "propertyNames");
    for (size_t k = 0; k < rtj_len(req); k++)
        if (rtj_get(v, rtj_str(rtj_at(req, k), "")) == NULL) {
            char *p = rtb_test_join(path, rtj_str(rtj_at(req, k), ""));
            ok = fail(c, report, p, "required, missing");
            free(p);
        }
    for (size_t k = 0; k < rtj_len(v); k++) {
        const char *key = rtj_key_at(v, k);
        char *p = rtb_test_join(path, key);
        const Rtj *sub = rtj_get(props, key);
        if (names != NULL) {
            Rtj *kv = rtj_string(key);
            ok = validate(c, names, kv, p, report) && ok;
            rtj_free(kv);
        }
        if (sub != NULL)
            ok = validate(c, sub, rtj_at(v, k), p, report) && ok;
        else if (rtj_is(extra, RTJ_BOOL) && !rtj_bool(extra, true))
            ok = fail(c, report, p, "not allowed here") && ok;
        else if (rtj_is(extra, RTJ_OBJECT))
            ok = validate(c, extra, rtj_at(v, k), p, report) && ok;
        free(p);
    }
    return ok;
}

static bool
check_array(Ctx *c, const Rtj *s, const Rtj *v, const char *path, bool report)
{
    bool ok = true;
    const Rtj *items = rtj_get(s, "items"), *lo = rtj_get(s, "minItems"), *hi = rtj_get(s, "maxItems");
    if (lo && rtj_len(v) < (size_t)rtj_int(lo, 0))
        ok = fail(c, report, path, "too few items");
    if (hi && rtj_len(v) > (size_t)rtj_int(hi, 0))
        ok = fail(c, report, path, "too many items");
    for (size_t k = 0; items && k < rtj_len(v); k++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", k);
        char *p = rtb_test_join(path, idx);
        ok = validate(c, items, rtj_at(v, k), p, report) && ok;
        free(p);
    }
    return ok;
}

static bool
validate(Ctx *c, const Rtj *s, const Rtj *v, const char *path, bool report)
{
    for (size_t k = 0; k < rtj_len(s); k++) {
        bool found = false;
        for (int i = 0; known[i] && !found; i++)
            found = strcmp(rtj_key_at(s, k), known[i]) == 0;
        if (!found) {
            fprintf(stderr, "schema: keyword '%s' is not supported by this checker\n", rtj_key_at(s, k));
            c->bad_schema = true;
        }
    }
    const Rtj *ref = rtj_get(s, "$ref");
    if (ref != NULL) {
        const Rtj *target = resolve(c, rtj_str(ref, ""));
        return target ? validate(c, target, v, path, report) : false;
    }
    const Rtj *one = rtj_get(s, "oneOf");
    if (one != NULL) {
        int matches = 0;
        for (size_t k = 0; k < rtj_len(one); k++)
            matches += validate(c, rtj_at(one, k), v, path, false);
        if (matches != 1)
            return fail(c, report, path, matches ? "matches more than one of oneOf" : "matches none of oneOf");
    }
    if (!check_type(c, rtj_get(s, "type"), v, path, report))
        return false;
    const Rtj *en = rtj_get(s, "enum"), *cst = rtj_get(s, "const");
    if (en != NULL) {
        bool in = false;
        for (size_t k = 0; k < rtj_len(en) && !in; k++)
            in = equal(rtj_at(en, k), v);
        if (!in)
            return fail(c, report, path, "not one of the values allowed");
    }
    if (cst != NULL && !equal(cst, v))
        return fail(c, report, path, "not the constant required");
    const Rtj *min = rtj_get(s, "minimum"), *max = rtj_get(s, "maximum");
    if (rtj_is(v, RTJ_NUMBER) && ((min && rtj_num(v, 0) < rtj_num(min, 0)) || (max && rtj_num(v, 0) > rtj_num(max, 0))))
        return fail(c, report, path, "out of range");
    if (rtj_is(v, RTJ_OBJECT))
        return check_object(c, s, v, path, report);
    if (rtj_is(v, RTJ_ARRAY))
        return check_array(c, s, v, path, report);
    return true;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rtb_schema_check SCHEMA FILE...\n");
        return 2;
    }
    char err[512];
    Rtj *schema = rtj_parse_file(argv[1], err, sizeof err);
    if (schema == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 2;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        Rtj *doc = rtj_parse_file(argv[i], err, sizeof err);
        if (doc == NULL) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            status = 2;
            continue;
        }
        Ctx c = {schema, 0, false};
        fprintf(stderr, "%s:\n", argv[i]);
        bool ok = validate(&c, schema, doc, "", true);
        if (c.bad_schema)
            status = 2;
        else if (!ok && status == 0)
            status = 1;
        fprintf(stderr, "  %s\n", ok && !c.bad_schema ? "valid" : "NOT valid");
        rtj_free(doc);
    }
    rtj_free(schema);
    return status;
}
