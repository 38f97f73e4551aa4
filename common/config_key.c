/* config_key.c -- the identity of a configuration apart from its listed rate (see config_key.h). */
#include "config_key.h"

#include <inttypes.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* Append "name=value" and a unit separator (0x1f: no column text holds it). */
static void put(char **buf, size_t *len, size_t *cap, const char *name, const char *value)
{
    size_t need = strlen(name) + strlen(value) + 3;
    if (*len + need > *cap) {
        *cap = 2 * (*len + need);
        *buf = ls_xrealloc(*buf, *cap);
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%s=%s\x1f", name, value);
}

/* Every column of `row` in order, but arrival_rate when skip_rate (with the
 * rescaled trace's window rule) and speculative when skip_spec. */
static char *row_key(const ls_config_row *row, bool skip_rate, bool skip_spec)
{
    size_t len = 0, cap = 512;
    char *k = ls_xmalloc(cap);
    k[0] = '\0';
    bool rescaled = skip_rate && !strcmp(row->arrival_process, "trace") && isfinite(row->arrival_rate);
    for (int c = 0; c < LS_CONFIG_COLUMN_COUNT; c++) {
        const ls_config_column *col = &ls_config_columns[c];
        const char *p = (const char *)row + col->offset;
        char v[LS_CFG_LONGSTR + 32];
        if ((skip_rate && !strcmp(col->name, "arrival_rate")) || (skip_spec && !strcmp(col->name, "speculative")))
            continue;
        if (col->type == LS_COL_STR) {
            snprintf(v, sizeof v, "%.*s", (int)col->size, p);
        } else if (col->type == LS_COL_I64) {
            int64_t x;
            memcpy(&x, p, sizeof x);
            snprintf(v, sizeof v, "%" PRId64, x);
        } else {
            double x;
            memcpy(&x, p, sizeof x);
            if (rescaled && !strcmp(col->name, "duration_s")) {
                /* the window in the trace's own time, in requests' worth: %.9g
                 * absorbs the rounding of the rescaling factor */
                snprintf(v, sizeof v, "%.9g", x * row->arrival_rate);
                put(&k, &len, &cap, "duration_x_rate", v);
                continue;
            }
            if (isnan(x))
                snprintf(v, sizeof v, "nan");
            else
                snprintf(v, sizeof v, "%.17g", x);
        }
        put(&k, &len, &cap, col->name, v);
    }
    return k;
}

char *ls_config_row_capacity_key(const ls_config_row *row)
{
    return row_key(row, true, false);
}

char *ls_config_row_baseline_key(const ls_config_row *row)
{
    return row_key(row, false, true);
}
