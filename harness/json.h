/* json.h -- a small JSON document model for the harness.
 *
 * Result files, the worker's report, Google Benchmark's and hyperfine's
 * files all pass through here: parse into a tree, read and build trees,
 * write them back.  Numbers keep their exact int64 value when the literal is
 * an integer that fits, so byte counts survive a round trip.  Object members
 * keep their order (result files diff well and read in a fixed order).
 *
 * Memory comes from the system allocator (never from the runtime under
 * test).  Functions that build trees abort on out-of-memory: the harness is
 * a command-line tool, and a result it cannot hold in memory is not one it
 * can write either.
 */
#ifndef RTB_JSON_H
#define RTB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum RtjType { RTJ_NULL, RTJ_BOOL, RTJ_NUMBER, RTJ_STRING, RTJ_ARRAY, RTJ_OBJECT } RtjType;

typedef struct Rtj Rtj;

/* Parse; NULL with a message ("line L, column C: what") in err. */
Rtj *rtj_parse(const char *text, size_t len, char *err, size_t errlen);
/* Read and parse a file; the message names the problem (not found, empty,
 * truncated, not JSON); the caller adds the path. */
Rtj *rtj_parse_file(const char *path, char *err, size_t errlen);
void rtj_free(Rtj *v);
Rtj *rtj_copy(const Rtj *v);

/* Reading.  Accessors take NULL and wrong types and return the default. */
RtjType rtj_type(const Rtj *v);
bool rtj_is(const Rtj *v, RtjType t);
Rtj *rtj_get(const Rtj *obj, const char *key);         /* NULL when absent */
Rtj *rtj_path(const Rtj *v, const char *dotted);       /* "gc.pauses.p99_s" */
size_t rtj_len(const Rtj *v);                          /* array items, object members */
Rtj *rtj_at(const Rtj *v, size_t i);                   /* item, or member value */
const char *rtj_key_at(const Rtj *obj, size_t i);
double rtj_num(const Rtj *v, double def);
int64_t rtj_int(const Rtj *v, int64_t def);
bool rtj_is_int(const Rtj *v);
const char *rtj_str(const Rtj *v, const char *def);
bool rtj_bool(const Rtj *v, bool def);

/* Building.  Set and append take ownership of the value. */
Rtj *rtj_object(void);
Rtj *rtj_array(void);
Rtj *rtj_string(const char *s);
Rtj *rtj_stringf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
Rtj *rtj_number(double d);
Rtj *rtj_integer(int64_t i);
Rtj *rtj_boolean(bool b);
Rtj *rtj_null(void);
Rtj *rtj_set(Rtj *obj, const char *key, Rtj *value);   /* replaces; returns value */
Rtj *rtj_append(Rtj *arr, Rtj *value);                 /* returns value */
Rtj *rtj_take(Rtj *obj, const char *key);              /* remove and return */
void rtj_set_number(Rtj *v, double d);                 /* change a number in place */

/* Writing: indent 0 writes one line; numbers as the shortest text that
 * reads back to the same double. */
char *rtj_dump(const Rtj *v, int indent, size_t *len);
int rtj_fwrite(const Rtj *v, int indent, FILE *out);

/* The shortest decimal text of d that reads back exactly ("nan"/"inf" are
 * not JSON: they are written as null). */
void rtj_format_double(double d, char *buf, size_t size);

#endif /* RTB_JSON_H */
