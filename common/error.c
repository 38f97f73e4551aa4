/* error.c -- error values and never-failing allocation. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ls_status ls_fail(ls_error *e, ls_status code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

ls_status ls_error_prefix(ls_error *e, const char *fmt, ...)
{
    if (!e)
        return LS_EINTERNAL;
    char prefix[LS_ERROR_MSG_MAX], old[LS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* keep as much of both as fits: prefix, ": ", old message */
    size_t n = strnlen(prefix, sizeof e->msg - 3);
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    size_t room = sizeof e->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(e->msg + n + 2, old, m);
    e->msg[n + 2 + m] = '\0';
    return e->code;
}

void ls_error_clear(ls_error *e)
{
    if (e) {
        e->code = LS_OK;
        e->msg[0] = '\0';
    }
}

const char *ls_status_name(ls_status s)
{
    switch (s) {
    case LS_OK: return "ok";
    case LS_EINVAL: return "invalid input";
    case LS_EIO: return "i/o error";
    case LS_ENOMEM: return "out of memory";
    case LS_EINFEASIBLE: return "infeasible";
    case LS_EINTERRUPTED: return "interrupted";
    case LS_EINTERNAL: return "internal error";
    }
    return "unknown";
}

static void oom(size_t n)
{
    fprintf(stderr, "llmsweep: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ls_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ls_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *ls_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ls_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ls_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *ls_path_join(const char *file, const char *base_dir)
{
    if (file[0] == '/' || !base_dir || !*base_dir)
        return ls_xstrdup(file);
    size_t n = strlen(base_dir) + strlen(file) + 2;
    char *p = ls_xmalloc(n);
    snprintf(p, n, "%s/%s", base_dir, file);
    return p;
}
