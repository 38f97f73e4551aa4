/* error.h -- errors as values, one way to check them.
 *
 * Every fallible function in llmsweep returns an ls_status (0 = LS_OK) and, on
 * failure, fills a caller-supplied ls_error with a message that names the
 * file, line or field and what was expected. Callers test `if (rc != LS_OK)`
 * (or just `if (rc)`) and forward the error unchanged. Passing a NULL
 * ls_error is allowed: the message is then dropped.
 */
#ifndef LS_ERROR_H
#define LS_ERROR_H

#include <stddef.h>

typedef enum ls_status {
    LS_OK = 0,
    LS_EINVAL = 1,      /* bad input: malformed file, unknown key, wrong type */
    LS_EIO = 2,         /* cannot open, read or write a file */
    LS_ENOMEM = 3,      /* out of memory (most allocations abort instead) */
    LS_EINFEASIBLE = 4, /* a configuration that cannot run (weights do not fit) */
    LS_EINTERRUPTED = 5,/* stopped by a signal; state is consistent */
    LS_EINTERNAL = 6    /* a bug: an invariant did not hold */
} ls_status;

#define LS_ERROR_MSG_MAX 1024

typedef struct ls_error {
    ls_status code;
    char msg[LS_ERROR_MSG_MAX];
} ls_error;

/* Format a message into `e` (if non-NULL) and return `code`. */
ls_status ls_fail(ls_error *e, ls_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in `e` with "prefix: " (context on the way up); returns e->code. */
ls_status ls_error_prefix(ls_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to LS_OK with an empty message. */
void ls_error_clear(ls_error *e);

/* Short lowercase name of a status ("invalid input", "io", ...). */
const char *ls_status_name(ls_status s);

/* Allocation that never returns NULL: aborts with a message on exhaustion. */
void *ls_xmalloc(size_t n);
void *ls_xcalloc(size_t n, size_t size);
void *ls_xrealloc(void *p, size_t n);
char *ls_xstrdup(const char *s);
/* A newly allocated `file` read relative to `base_dir` (a configuration's directory): file itself when
 * it is absolute or base_dir is NULL or empty, else base_dir/file. */
char *ls_path_join(const char *file, const char *base_dir);

/* Forward an error: `LS_TRY(f(...));` returns from the caller on failure. */
#define LS_TRY(expr)                         \
    do {                                     \
        ls_status ls_try_rc_ = (expr);       \
        if (ls_try_rc_ != LS_OK)             \
            return ls_try_rc_;               \
    } while (0)

#endif
