/* plan_launch.c -- vLLM and SGLang launch commands of a plan's deployment (plan_launch.h). */
#include "plan_launch.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounded appender: every write after the buffer is full is dropped. */
typedef struct out {
    char *buf;
    size_t size, n;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    if (o->n + 1 >= o->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->buf + o->n, o->size - o->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->n = o->n + (size_t)k < o->size ? o->n + (size_t)k : o->size - 1;
}

/* One instance to launch: its sizes and role, and what the row says of its speculation. */
typedef struct instance {
    const ls_result_row *row;
    long long tp, pp, dp;
    int ep;                /* > 1: expert parallelism over tp x dp */
    const char *role;      /* NULL (aggregated), "prefill" or "decode" */
    char method[16];       /* "" (off), draft, eagle, mtp, ngram */
    int k;
    char draft[64];        /* method draft: the draft model; "" when the row does not say */
} instance;

/* The /configs `speculative` label (replay/config_spec.c, ls_config_spec_label):
 * "none", "eagle k3 a0.7", "draft k4 a0.8,0.7,0.6,0.5 llama-3.2-1b", "eagle k3 chat:0.8 ...". */
static void parse_spec(const char *label, instance *in)
{
    in->method[0] = in->draft[0] = 0;
    in->k = 0;
    char m[16];
    int k = 0;
    if (sscanf(label, "%15s k%d", m, &k) != 2 || k < 1 || !strcmp(m, "none"))
        return;
    snprintf(in->method, sizeof in->method, "%s", m);
    in->k = k;
    const char *last = strrchr(label, ' ');
    /* a draft's name ends the label when the acceptance is one list ("a..." before it) */
    if (!strcmp(m, "draft") && last && last[1] && !strchr(last, ':')) {
        const char *prev = last;
        while (prev > label && prev[-1] != ' ')
            prev--;
        if (*prev == 'a')
            snprintf(in->draft, sizeof in->draft, "%s", last + 1);
    }
}

static int ep_of(const char *par)
{
    const char *p = strstr(par, "ep");
    return p ? atoi(p + 2) : 1;
}

static long long budget_of(const ls_result_row *r)
{
    double b = r->m.v[LS_M_MAX_NUM_BATCHED_TOKENS];
    return isnan(b) ? 8192LL : (long long)llround(b);
}

/* The weight format's quantization method: vLLM's and SGLang's --quantization share these
 * names (FP8 online, NVIDIA ModelOpt NVFP4, MXFP4 (gpt-oss), AWQ 4-bit integer). */
static const char *quantization(const char *dtype)
{
    static const struct { const char *dtype, *method; } q[] = {
        {"fp8", "fp8"}, {"nvfp4", "modelopt_fp4"}, {"mxfp4", "mxfp4"}, {"int4", "awq"}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (!strcmp(dtype, q[i].dtype))
            return q[i].method;
    return NULL;
}

/* ---- vLLM: `vllm serve` engine arguments ---- */

static void vllm_line(const instance *in, out *o)
{
    const ls_config_row *c = &in->row->cfg;
    put(o, "vllm serve %s --tensor-parallel-size %lld --pipeline-parallel-size %lld --data-parallel-size %lld%s "
           "--max-num-batched-tokens %lld --max-num-seqs %lld --gpu-memory-utilization %.2f --max-model-len %lld",
        c->model, in->tp, in->pp, in->dp, in->ep > 1 ? " --enable-expert-parallel" : "", budget_of(in->row),
        (long long)c->max_num_seqs, c->gpu_memory_utilization, (long long)c->max_model_len);
    const char *q = quantization(c->dtype_weights);
    if (q)
        put(o, " --quantization %s", q);
    if (!strcmp(c->dtype_kv, "fp8"))
        put(o, " --kv-cache-dtype fp8");
    if (in->role) /* vLLM's NixlConnector moves the KV between the roles, a proxy routes */
        put(o, " --kv-transfer-config '{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}'");
    if (in->k > 0) {
        /* vLLM's speculative_config: method (draft_model, eagle, mtp, ngram), the proposer's
         * checkpoint where it has one, num_speculative_tokens */
        static const struct { const char *sim, *vllm; } m[] = {
            {"draft", "draft_model"}, {"eagle", "eagle"}, {"mtp", "mtp"}, {"ngram", "ngram"}};
        const char *method = in->method;
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (!strcmp(in->method, m[i].sim))
                method = m[i].vllm;
        put(o, " --speculative-config '{\"method\":\"%s\"", method);
        if (!strcmp(in->method, "draft"))
            put(o, ",\"model\":\"%s\"", in->draft[0] ? in->draft : "DRAFT-MODEL");
        else if (!strcmp(in->method, "eagle"))
            put(o, ",\"model\":\"%s-eagle\"", c->model);
        put(o, ",\"num_speculative_tokens\":%d}'", in->k);
    }
}

/* ---- SGLang: `python -m sglang.launch_server` server arguments ---- */

static void sglang_line(const instance *in, out *o)
{
    const ls_config_row *c = &in->row->cfg;
    /* SGLang's --tp-size spans every GPU of an instance; expert parallelism over tp x dp is
     * --dp-size dp with DP attention and --ep-size (vLLM's TP x DP with --enable-expert-parallel) */
    bool ep = in->ep > 1;
    put(o, "python -m sglang.launch_server --model-path %s --tp-size %lld --pp-size %lld --dp-size %lld", c->model,
        ep ? in->tp * in->dp : in->tp, in->pp, in->dp);
    if (ep)
        put(o, " --enable-dp-attention --ep-size %d", in->ep);
    put(o, " --chunked-prefill-size %lld --max-running-requests %lld --mem-fraction-static %.2f --context-length %lld",
        budget_of(in->row), (long long)c->max_num_seqs, c->gpu_memory_utilization, (long long)c->max_model_len);
    const char *q = quantization(c->dtype_weights);
    if (q)
        put(o, " --quantization %s", q);
    if (!strcmp(c->dtype_kv, "fp8"))
        put(o, " --kv-cache-dtype fp8_e4m3");
    if (in->role)
        put(o, " --disaggregation-mode %s --disaggregation-transfer-backend nixl", in->role);
    if (in->k > 0) {
        /* chain drafting (top-k 1): k steps, k + 1 tokens verified; MTP is SGLang's EAGLE over the
         * model's own next-token layer, a separate draft model its STANDALONE algorithm */
        static const struct { const char *sim, *sglang; } m[] = {
            {"draft", "STANDALONE"}, {"eagle", "EAGLE"}, {"mtp", "EAGLE"}, {"ngram", "NGRAM"}};
        const char *alg = in->method;
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (!strcmp(in->method, m[i].sim))
                alg = m[i].sglang;
        put(o, " --speculative-algorithm %s", alg);
        if (!strcmp(in->method, "draft"))
            put(o, " --speculative-draft-model-path %s", in->draft[0] ? in->draft : "DRAFT-MODEL");
        else if (!strcmp(in->method, "eagle"))
            put(o, " --speculative-draft-model-path %s-eagle", c->model);
        if (strcmp(in->method, "ngram"))
            put(o, " --speculative-num-steps %d --speculative-eagle-topk 1", in->k);
        put(o, " --speculative-num-draft-tokens %d", in->k + 1);
    }
}

static const struct engine {
    const char *name;
    void (*line)(const instance *in, out *o);
} ENGINES[] = {{"vllm", vllm_line}, {"sglang", sglang_line}};

bool ls_plan_launch_command(const char *engine, const ls_result_row *row, char *buf, size_t size)
{
    const struct engine *eng = NULL;
    for (size_t i = 0; i < sizeof ENGINES / sizeof ENGINES[0] && !eng; i++)
        if (!strcmp(engine, ENGINES[i].name))
            eng = &ENGINES[i];
    if (size)
        buf[0] = 0;
    if (!eng || !size)
        return eng != NULL;
    out o = {buf, size, 0};
    const ls_config_row *c = &row->cfg;
    instance in = {.row = row, .tp = c->tp, .pp = c->pp, .dp = c->dp, .ep = ep_of(c->parallelism)};
    parse_spec(c->speculative, &in);
    int np, ta, nd, tb;
    char tail;
    if (sscanf(c->parallelism, "%dP-tp%d+%dD-tp%d%c", &np, &ta, &nd, &tb, &tail) == 4) {
        /* disaggregated: one command per role, each run on as many instances as the pool has */
        in.pp = in.dp = 1;
        in.ep = 1;
        put(&o, "prefill x%d: ", np);
        in.tp = ta, in.role = "prefill";
        eng->line(&in, &o);
        put(&o, "  |  decode x%d: ", nd);
        in.tp = tb, in.role = "decode";
        eng->line(&in, &o);
        return true;
    }
    eng->line(&in, &o);
    return true;
}

void ls_plan_vllm_command(const ls_result_row *row, char *buf, size_t size)
{
    ls_plan_launch_command("vllm", row, buf, size);
}
