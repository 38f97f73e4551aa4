/* plan_spec.c -- the --speculative values of `llmsweep plan` (plan_spec.h). */
#include "plan_spec.h"

#include <stdlib.h>
#include <string.h>

#include "spec_decode.h"

/* vLLM's method names and the simulator's (replay/config_spec.c accepts the same aliases) */
static const struct { const char *word, *method; } METHODS[] = {
    {"draft", "draft"}, {"draft_model", "draft"}, {"eagle", "eagle"}, {"eagle3", "eagle"},
    {"mtp", "mtp"},     {"deepseek_mtp", "mtp"},  {"ngram", "ngram"}};

/* the characters of a catalog name (written unquoted into the specification) */
static const char NAME_CHARS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

static bool rate_ok(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && *v >= 0 && *v <= 1;
}

/* "0.8/0.7/0.6" into YAML; the count of rates in *n. */
static ls_status parse_acceptance(const char *value, const char *v, ls_plan_spec *s, int *n, ls_error *e)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s", v);
    size_t len = 0;
    *n = 0;
    char *save = NULL;
    bool list = strchr(v, '/') != NULL;
    if (list)
        len += (size_t)snprintf(s->acceptance + len, sizeof s->acceptance - len, "[");
    for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        double a;
        if (!rate_ok(t, &a))
            return ls_fail(e, LS_EINVAL, "plan: --speculative %s: acceptance: expected a rate in [0, 1] (or k of them "
                                         "separated by '/'), got '%s'", value, t);
        if (len < sizeof s->acceptance)
            len += (size_t)snprintf(s->acceptance + len, sizeof s->acceptance - len, "%s%.6g", *n ? ", " : "", a);
        (*n)++;
    }
    if (list && len < sizeof s->acceptance)
        len += (size_t)snprintf(s->acceptance + len, sizeof s->acceptance - len, "]");
    if (*n == 0 || len >= sizeof s->acceptance)
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: acceptance: expected a rate in [0, 1]", value);
    return LS_OK;
}

ls_status ls_plan_spec_parse(const char *value, ls_plan_spec *s, ls_error *e)
{
    memset(s, 0, sizeof *s);
    snprintf(s->given, sizeof s->given, "%s", value);
    if (!strcmp(value, "off") || !strcmp(value, "none")) {
        snprintf(s->method, sizeof s->method, "none");
        return LS_OK;
    }
    const char *colon = strchr(value, ':');
    size_t mlen = colon ? (size_t)(colon - value) : strlen(value);
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0] && !s->method[0]; i++)
        if (strlen(METHODS[i].word) == mlen && !strncmp(value, METHODS[i].word, mlen))
            snprintf(s->method, sizeof s->method, "%s", METHODS[i].method);
    if (!s->method[0])
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: expected off, or METHOD:k=K,acceptance=A with METHOD "
                                     "draft, eagle, mtp or ngram (e.g. eagle:k=3,acceptance=0.7)", value);
    if (!colon || !colon[1])
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: needs k=K and acceptance=A (e.g. %.*s:k=3,acceptance=0.7)",
                       value, (int)mlen, value);
    char buf[512];
    if (strlen(colon + 1) >= sizeof buf)
        return ls_fail(e, LS_EINVAL, "plan: --speculative: value too long");
    snprintf(buf, sizeof buf, "%s", colon + 1);
    int n_rates = 0;
    bool have_acc = false;
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1])
            return ls_fail(e, LS_EINVAL, "plan: --speculative %s: '%s': expected KEY=VALUE (k, acceptance, model)",
                           value, kv);
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(kv, "k") || !strcmp(kv, "num_speculative_tokens")) {
            char *end;
            long k = strtol(v, &end, 10);
            if (end == v || *end || k < 1 || k > LS_SPEC_MAX_K)
                return ls_fail(e, LS_EINVAL, "plan: --speculative %s: %s: expected 1 to %d draft tokens, got '%s'",
                               value, kv, LS_SPEC_MAX_K, v);
            s->k = (int)k;
        } else if (!strcmp(kv, "acceptance")) {
            LS_TRY(parse_acceptance(value, v, s, &n_rates, e));
            have_acc = true;
        } else if (!strcmp(kv, "model")) {
            if (strcmp(s->method, "draft"))
                return ls_fail(e, LS_EINVAL, "plan: --speculative %s: only method draft takes a model (the %s "
                                             "proposer is derived from the target)", value, s->method);
            if (strlen(v) >= sizeof s->model || strspn(v, NAME_CHARS) != strlen(v))
                return ls_fail(e, LS_EINVAL, "plan: --speculative %s: model: expected a catalog model name "
                                             "(llmsweep catalog), got '%s'", value, v);
            snprintf(s->model, sizeof s->model, "%s", v);
        } else {
            return ls_fail(e, LS_EINVAL, "plan: --speculative %s: unknown key '%s' (expected k or "
                                         "num_speculative_tokens, acceptance, model)", value, kv);
        }
    }
    if (!s->k)
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: missing k=K (num_speculative_tokens, 1 to %d)", value,
                       LS_SPEC_MAX_K);
    if (!have_acc)
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: missing acceptance=A (the rate at which the target "
                                     "accepts a draft token, in [0, 1]: vLLM reports it as the draft acceptance "
                                     "rate)", value);
    if (n_rates > 1 && n_rates != s->k)
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: acceptance: %d rates for k=%d (one rate, or one per "
                                     "draft position)", value, n_rates, s->k);
    if (!strcmp(s->method, "draft") && !s->model[0])
        return ls_fail(e, LS_EINVAL, "plan: --speculative %s: method draft needs model=M (a catalog model sharing "
                                     "the target's tokenizer)", value);
    return LS_OK;
}

void ls_plan_spec_yaml(const ls_plan_spec *s, FILE *f)
{
    fprintf(f, "{method: %s, num_speculative_tokens: %d, acceptance: %s", s->method, s->k, s->acceptance);
    if (s->model[0])
        fprintf(f, ", model: %s", s->model);
    fputc('}', f);
}

bool ls_plan_spec_same(const ls_plan_spec *a, const ls_plan_spec *b)
{
    if (!ls_plan_spec_on(a) || !ls_plan_spec_on(b))
        return ls_plan_spec_on(a) == ls_plan_spec_on(b);
    return !strcmp(a->method, b->method) && a->k == b->k && !strcmp(a->acceptance, b->acceptance) &&
           !strcmp(a->model, b->model);
}
