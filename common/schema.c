/* schema.c -- the tables behind schema.h. */
#include "schema.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

const ls_column ls_metric_columns[LS_METRIC_COUNT] = {
#define LS_X_COL(E, name, type, unit, desc) {name, type, unit, desc},
    LS_METRICS(LS_X_COL)
#undef LS_X_COL
};

const ls_config_column ls_config_columns[LS_CONFIG_COLUMN_COUNT] = {
#define LS_X_CCOL(f, type, n, unit, desc) \
    {#f, type, offsetof(ls_config_row, f), sizeof(((ls_config_row *)0)->f), unit, desc},
    LS_CONFIG_COLUMNS(LS_X_CCOL)
#undef LS_X_CCOL
};

#define LS_X_PCOL(f, type, unit, desc) {#f, type, unit, desc},
const ls_column ls_input_columns[LS_INPUT_NCOLS] = {LS_INPUT_COLUMNS(LS_X_PCOL)};
const ls_column ls_spec_revision_columns[LS_SPECREV_NCOLS] = {LS_SPEC_REVISION_COLUMNS(LS_X_PCOL)};
const ls_column ls_history_columns[LS_HISTORY_NCOLS] = {LS_HISTORY_COLUMNS(LS_X_PCOL)};
#undef LS_X_PCOL

const ls_request_column ls_request_columns[LS_REQUEST_COLUMN_COUNT] = {
#define LS_X_RQ(f, name, type, text, unit, desc) {name, type, text, offsetof(ls_request_result, f), unit, desc},
    LS_REQUEST_COLUMNS(LS_X_RQ)
#undef LS_X_RQ
};
#define LS_X_ONE(f, name, type, text, unit, desc) +1
_Static_assert(LS_REQUEST_COLUMN_COUNT == 0 LS_REQUEST_COLUMNS(LS_X_ONE), "LS_REQUEST_COLUMN_COUNT");
#undef LS_X_ONE
_Static_assert(sizeof(ls_request_result) == 8 + 8 * 4 + 4 * 8, "ls_request_result must have no padding");
_Static_assert(offsetof(ls_request_result, reserved) + 4 == offsetof(ls_request_result, arrival_s),
               "the int32 fields are contiguous");

double ls_request_value(const ls_request_result *r, const ls_request_column *c)
{
    const char *p = (const char *)r + c->offset;
    if (c->type == LS_RQ_I64) {
        int64_t x;
        memcpy(&x, p, sizeof x);
        return (double)x;
    }
    if (c->type == LS_RQ_I32) {
        int32_t x;
        memcpy(&x, p, sizeof x);
        return (double)x;
    }
    double x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* the count above must match the list */
#define LS_X_ONE(f, type, n, unit, desc) +1
_Static_assert(LS_CONFIG_COLUMN_COUNT == 0 LS_CONFIG_COLUMNS(LS_X_ONE), "LS_CONFIG_COLUMN_COUNT");
#undef LS_X_ONE

const char *ls_run_status_name(ls_run_status s)
{
    switch (s) {
    case LS_RUN_OK: return "ok";
    case LS_RUN_INFEASIBLE: return "infeasible";
    case LS_RUN_ERROR: return "error";
    }
    return "error";
}

int ls_run_status_parse(const char *s)
{
    for (int i = 0; i <= LS_RUN_ERROR; i++)
        if (strcmp(s, ls_run_status_name((ls_run_status)i)) == 0)
            return i;
    return -1;
}

void ls_metrics_init(ls_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->status = LS_RUN_OK;
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        m->v[i] = NAN;
}

int ls_metric_find(const char *name)
{
    for (int i = 0; i < LS_METRIC_COUNT; i++)
        if (strcmp(ls_metric_columns[i].name, name) == 0)
            return i;
    return -1;
}
