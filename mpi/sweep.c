/* sweep.c -- dynamic self-scheduling of configurations over MPI ranks (see sweep.h). */
#include "sweep.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG_WORK 11   /* rank 0 -> worker: one int64 config id, -1 = no more */
#define TAG_RESULT 12 /* worker -> rank 0: msg_head + request rows */
#define DEPTH_MIN 2   /* configurations held by a worker: at least one running, one queued */
#define DEPTH_MAX 64  /* ... and at most this many (tiny configurations, slow flushes) */
#define REQ_WRITE_ROWS (1u << 20) /* write buffered request rows once this many wait */
#define FLUSH_AGE_S 0.25 /* rank 0 flushes finished results at least this often while it computes */

/* Header of a result message; request rows follow. */
typedef struct msg_head {
    int64_t config_id;
    int32_t status;      /* ls_run_status */
    int32_t interrupted; /* 1: abandoned, no result */
    int64_t n_rows;
    double wall_s;       /* the worker's time for it, capacity search included */
    char message[LS_MESSAGE_MAX];
    double v[LS_METRIC_COUNT];
} msg_head;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Polite waiting: start at 50 us so a busy sweep answers fast, back off to
 * 1 ms so an idle rank costs ~nothing (hpc.md section 3). */
static void nap(long *ns)
{
    struct timespec t = {0, *ns};
    nanosleep(&t, NULL);
    *ns = *ns * 2 > 1000000 ? 1000000 : *ns * 2;
}

/* ---- small helpers ----------------------------------------------------------- */

ls_status ls_sweep_parse_requests(const char *s, ls_reqs_mode *mode, size_t *n, ls_error *e)
{
    *n = 0;
    if (!strcmp(s, "none"))
        *mode = LS_REQS_NONE;
    else if (!strcmp(s, "all"))
        *mode = LS_REQS_ALL;
    else if (!strncmp(s, "sample:", 7)) {
        char *end;
        errno = 0;
        long long v = strtoll(s + 7, &end, 10);
        if (errno || *end || end == s + 7 || v <= 0)
            return ls_fail(e, LS_EINVAL, "--requests: expected sample:N with N > 0, got '%s'", s);
        *mode = LS_REQS_SAMPLE;
        *n = (size_t)v;
    } else
        return ls_fail(e, LS_EINVAL, "--requests: expected all, none or sample:N, got '%s'", s);
    return LS_OK;
}

void ls_sweep_format_requests(ls_reqs_mode mode, size_t n, char *buf, size_t cap)
{
    if (mode == LS_REQS_ALL)
        snprintf(buf, cap, "all");
    else if (mode == LS_REQS_SAMPLE)
        snprintf(buf, cap, "sample:%zu", n);
    else
        snprintf(buf, cap, "none");
}

void ls_sweep_rowbuf_push(ls_sweep_rowbuf *b, const ls_sweep_reqrow *r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = ls_xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = *r;
}

void ls_sweep_rowbuf_free(ls_sweep_rowbuf *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

static void rowbuf_append(ls_sweep_rowbuf *b, const ls_sweep_reqrow *r, size_t n)
{
    if (n == 0)
        return; /* r may be NULL then */
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = ls_xrealloc(b->v, b->cap * sizeof *b->v);
    }
    memcpy(b->v + b->n, r, n * sizeof *r);
    b->n += n;
}

/* splitmix64: a fixed mixing function, so the sample does not depend on ranks or order */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

typedef struct keyed {
    uint64_t key;
    ls_sweep_reqrow row;
} keyed;

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return x < y ? -1 : x > y;
}

static int cmp_index(const void *a, const void *b)
{
    int64_t x = ((const ls_sweep_reqrow *)a)->r.index, y = ((const ls_sweep_reqrow *)b)->r.index;
    return x < y ? -1 : x > y;
}

/* Keep `n` rows chosen by a hash of (config hash, request index): the same
 * requests whatever the ranks; in request order. */
static void sample_rows(ls_sweep_rowbuf *b, size_t n, const char *hash)
{
    if (b->n <= n)
        return;
    uint64_t salt = ls_hash64(hash, strlen(hash));
    keyed *k = ls_xmalloc(b->n * sizeof *k);
    for (size_t i = 0; i < b->n; i++) {
        k[i].key = mix64(salt ^ (uint64_t)b->v[i].r.index);
        k[i].row = b->v[i];
    }
    qsort(k, b->n, sizeof *k, cmp_key);
    for (size_t i = 0; i < n; i++)
        b->v[i] = k[i].row;
    b->n = n;
    free(k);
    qsort(b->v, n, sizeof *b->v, cmp_index);
}

/* Run one configuration through the callback; never fails: errors become a
 * status-error result. Returns true when the run was abandoned (stop). */
static bool run_one(const ls_sweep_opts *o, size_t id, ls_metrics *m, ls_sweep_rowbuf *rows)
{
    ls_metrics_init(m);
    rows->n = 0;
    if (*o->stop)
        return true;
    ls_error err;
    ls_error_clear(&err);
    double t0 = now_s();
    ls_status rc = o->run(o->run_ctx, id, m, o->requests != LS_REQS_NONE ? rows : NULL, o->stop, &err);
    if (rc == LS_EINTERRUPTED)
        return true;
    if (rc != LS_OK) {
        ls_metrics_init(m);
        m->status = LS_RUN_ERROR;
        snprintf(m->message, sizeof m->message, "%.255s", err.msg[0] ? err.msg : ls_status_name(rc));
    }
    if (isnan(m->v[LS_M_WALL_TIME_S]))
        m->v[LS_M_WALL_TIME_S] = now_s() - t0;
    m->message[LS_MESSAGE_MAX - 1] = 0;
    if (m->status != LS_RUN_OK && m->status != LS_RUN_INFEASIBLE)
        rows->n = 0; /* a failed run's partial requests would be orphans in the file */
    for (size_t i = 0; i < rows->n; i++)
        rows->v[i].config_id = (int64_t)id;
    if (o->requests == LS_REQS_SAMPLE)
        sample_rows(rows, o->sample_n, o->spec->configs[id].hash);
    return false;
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct progress {
    bool on, tty;
    size_t total;
    double start, last;
    size_t last_pct, last_done;
    bool shown;
} progress;

static void fmt_dur(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)(s / 3600), (int)fmod(s / 60, 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
}

static void progress_show(progress *p, const ls_sweep_stats *st, bool final)
{
    if (!p->on || (final && p->shown && p->last_done == st->done && !p->tty))
        return;
    double t = now_s(), el = t - p->start;
    size_t pct = p->total ? st->done * 100 / p->total : 100;
    /* terminal: a live line, at most 4 per second; log: every 5 % or 10 s */
    if (!final && (p->tty ? t - p->last < 0.25 : (pct < p->last_pct + 5 && t - p->last < 10)))
        return;
    p->last = t;
    p->last_pct = pct;
    p->last_done = st->done;
    p->shown = true;
    double rate = el > 0 ? (double)st->done / el : 0;
    char eta[32], ela[32];
    fmt_dur(eta, sizeof eta, rate > 0 ? (double)(p->total - st->done) / rate : NAN);
    fmt_dur(ela, sizeof ela, el);
    fprintf(stderr, "%ssweep: %zu/%zu (%zu%%) %.1f cfg/s elapsed %s ETA %s failures %zu%s",
            p->tty ? "\r" : "", st->done, p->total, pct, rate, ela, eta, st->failed,
            p->tty ? (final ? "\n" : "  ") : "\n");
    fflush(stderr);
}

/* ---- rank 0 ------------------------------------------------------------------ */

typedef struct coord {
    const ls_sweep_opts *o;
    ls_sweep_stats *st;
    ls_sweep_result *pend;   /* results not yet written */
    size_t n_pend, cap_pend;
    ls_sweep_rowbuf reqs;    /* request rows not yet written */
    bool io_failed;
    ls_error io_err;
    progress prog;
    double cfg_s;            /* running mean of the time per configuration, capacity search included */
} coord;

static void write_pending(coord *c, bool flush)
{
    if (!c->o->out || c->io_failed) {
        c->n_pend = 0;
        c->reqs.n = 0;
        return;
    }
    if (c->n_pend == 0 && c->reqs.n == 0)
        return;
    double t0 = now_s();
    /* requests first, then results, then flush: a crash in between leaves only
     * request rows without a result, which resume removes */
    ls_status rc = ls_h5_append_requests(c->o->out, c->reqs.v, c->reqs.n, &c->io_err);
    if (!rc)
        c->st->request_rows += c->reqs.n;
    c->reqs.n = 0;
    if (!rc && flush) {
        rc = ls_h5_append_results(c->o->out, c->pend, c->n_pend, &c->io_err);
        c->n_pend = 0;
        if (!rc)
            rc = ls_h5_flush(c->o->out, &c->io_err);
    }
    if (rc) {
        c->io_failed = true;
        *c->o->stop = 1; /* nowhere to put results: stop handing out work */
    }
    c->st->write_s += now_s() - t0;
}

static void record(coord *c, int64_t id, const ls_metrics *m, double took_s, const ls_sweep_reqrow *rows,
                   size_t n_rows)
{
    assert(id >= 0 && (size_t)id < c->o->spec->n);
    if (c->n_pend == c->cap_pend) {
        c->cap_pend = c->cap_pend ? c->cap_pend * 2 : 64;
        c->pend = ls_xrealloc(c->pend, c->cap_pend * sizeof *c->pend);
    }
    ls_sweep_result *r = &c->pend[c->n_pend++];
    r->config_id = id;
    memcpy(r->hash, c->o->spec->configs[id].hash, LS_HASH_HEX);
    r->m = *m;
    rowbuf_append(&c->reqs, rows, n_rows);
    c->st->done++;
    double wt = took_s; /* not wall_time_s: that is the listed run's alone */
    if (isfinite(wt) && wt >= 0)
        c->cfg_s += (wt - c->cfg_s) / (double)(c->st->done < 100 ? c->st->done : 100);
    if (m->status == LS_RUN_ERROR)
        c->st->failed++;
    else if (m->status == LS_RUN_INFEASIBLE)
        c->st->infeasible++;
    if (c->reqs.n >= REQ_WRITE_ROWS)
        write_pending(c, false);
    progress_show(&c->prog, c->st, false);
}

static void handle_message(coord *c, const unsigned char *buf, size_t len)
{
    msg_head h;
    assert(len >= sizeof h);
    memcpy(&h, buf, sizeof h);
    assert(len == sizeof h + (size_t)h.n_rows * sizeof(ls_sweep_reqrow));
    if (h.interrupted) {
        c->st->interrupted++;
        *c->o->stop = 1; /* a worker was signalled: the job is being stopped */
        return;
    }
    ls_metrics m;
    ls_metrics_init(&m);
    m.status = (ls_run_status)h.status;
    memcpy(m.message, h.message, sizeof m.message);
    memcpy(m.v, h.v, sizeof m.v);
    record(c, h.config_id, &m, h.wall_s, (const ls_sweep_reqrow *)(buf + sizeof h), (size_t)h.n_rows);
}

static void send_id(MPI_Comm comm, int w, int64_t id)
{
    MPI_Send(&id, 1, MPI_INT64_T, w, TAG_WORK, comm);
}

typedef struct costed {
    double cost; /* of the configuration's group */
    size_t group, id;
} costed;

static int cmp_cost_desc(const void *a, const void *b)
{
    const costed *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    if (x->group != y->group) /* a group's members stay together */
        return x->group < y->group ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id; /* ties: config order, for determinism */
}

/* The group id of configuration `id` (itself without groups). */
static size_t group_of(const ls_sweep_opts *o, size_t id)
{
    int64_t g = o->group ? o->group[id] : -1;
    return g >= 0 && (size_t)g < o->spec->n ? (size_t)g : id;
}

typedef struct inflight {
    MPI_Request req;
    unsigned char *buf;
    int len;
} inflight;

/* Rank 0's hand-out state: what is left (order[head..tail)), what each worker holds. */
typedef struct handout {
    const ls_sweep_opts *o;
    const size_t *order;
    size_t head, tail;      /* workers take from head (expensive), rank 0 from tail */
    int *outstanding;       /* by rank: ids sent, results not yet seen */
    bool *stop_sent;
    int want;               /* ids a worker should hold */
    inflight *fl;           /* results being received */
    size_t n_fl, cap_fl;
} handout;

/* Hand worker w the next configuration from the head, and the rest of its group. */
static void hand_out(handout *h, int w)
{
    size_t g = group_of(h->o, h->order[h->head]);
    do {
        send_id(h->o->comm, w, (int64_t)h->order[h->head++]);
        h->outstanding[w]++;
    } while (h->head < h->tail && group_of(h->o, h->order[h->head]) == g);
}

/* Take the results that have arrived (their bytes are received later) and hand
 * each worker that sent one its next ids. Returns whether any arrived. */
static bool take_results(handout *h)
{
    bool progressed = false;
    for (;;) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status status;
        MPI_Improbe(MPI_ANY_SOURCE, TAG_RESULT, h->o->comm, &flag, &msg, &status);
        if (!flag)
            break;
        int len = 0, w = status.MPI_SOURCE;
        MPI_Get_count(&status, MPI_BYTE, &len);
        if (h->n_fl == h->cap_fl) {
            h->cap_fl = h->cap_fl ? h->cap_fl * 2 : 16;
            h->fl = ls_xrealloc(h->fl, h->cap_fl * sizeof *h->fl);
        }
        h->fl[h->n_fl].buf = ls_xmalloc((size_t)len);
        h->fl[h->n_fl].len = len;
        MPI_Imrecv(h->fl[h->n_fl].buf, len, MPI_BYTE, &msg, &h->fl[h->n_fl].req);
        h->n_fl++;
        h->outstanding[w]--;
        if (!*h->o->stop && h->head < h->tail) {
            /* a group handed out whole may leave it above `want` for a while */
            while (h->outstanding[w] < h->want && h->head < h->tail)
                hand_out(h, w);
        } else if (!h->stop_sent[w]) {
            send_id(h->o->comm, w, -1);
            h->stop_sent[w] = true;
        }
        progressed = true;
    }
    return progressed;
}

/* The engine's poll while rank 0 runs a configuration itself (ls_sweep_opts.set_poll). */
static void poll_results(void *ctx)
{
    take_results(ctx);
}

static ls_status coordinate(const ls_sweep_opts *o, int size, ls_sweep_stats *st, ls_error *e)
{
    const ls_sweep_spec *s = o->spec;
    costed *cs = ls_xmalloc((s->n ? s->n : 1) * sizeof *cs);
    double *gcost = ls_xcalloc(s->n ? s->n : 1, sizeof *gcost); /* by group id: its members' sum */
    bool *gseen = ls_xcalloc(s->n ? s->n : 1, sizeof *gseen);
    size_t n = 0, n_groups = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!o->todo || o->todo[i]) {
            size_t g = group_of(o, i);
            cs[n++] = (costed){0, g, i};
            gcost[g] += o->cost && isfinite(o->cost[i]) ? o->cost[i] : 0;
            n_groups += !gseen[g];
            gseen[g] = true;
        }
    free(gseen);
    /* a worker holds DEPTH_MIN groups at least: one running, one queued (the rest of a
     * group is often taken whole from its search's probes, so counts of ids would leave
     * it one search deep) */
    int depth_min = DEPTH_MIN * (n_groups ? (int)((n + n_groups - 1) / n_groups) : 1);
    for (size_t i = 0; i < n; i++)
        cs[i].cost = gcost[cs[i].group];
    free(gcost);
    qsort(cs, n, sizeof *cs, cmp_cost_desc);
    size_t *order = ls_xmalloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = cs[i].id;
    free(cs);
    coord c = {.o = o, .st = st};
    st->total = n;
    c.prog = (progress){.on = o->progress, .tty = isatty(2), .total = n, .start = now_s()};
    c.prog.last = c.prog.start;
    handout h = {.o = o, .order = order, .head = 0, .tail = n};
    int nw = size - 1;
    h.outstanding = ls_xcalloc((size_t)size, sizeof *h.outstanding);
    h.stop_sent = ls_xcalloc((size_t)size, sizeof *h.stop_sent);
    for (int round = 0; round < depth_min; round++)
        for (int w = 1; w <= nw; w++)
            if (h.head < h.tail && !*o->stop && h.outstanding[w] < depth_min)
                hand_out(&h, w);
    for (int w = 1; w <= nw; w++)
        if (h.outstanding[w] == 0) {
            send_id(o->comm, w, -1);
            h.stop_sent[w] = true;
        }
    ls_metrics m;
    ls_sweep_rowbuf rows = {0};
    long backoff = 50000;
    double last_flush = now_s(), last_run_s = 0, write_max = 0;
    h.want = depth_min;
    if (o->set_poll) /* rank 0 answers the workers between its own probes too */
        o->set_poll(o->run_ctx, poll_results, &h);
    for (;;) {
        /* new results: hand out the next ids at once (before the bytes arrive) */
        bool progressed = take_results(&h);
        for (size_t i = 0; i < h.n_fl;) {
            int done = 0;
            MPI_Test(&h.fl[i].req, &done, MPI_STATUS_IGNORE);
            if (!done) {
                i++;
                continue;
            }
            handle_message(&c, h.fl[i].buf, (size_t)h.fl[i].len);
            free(h.fl[i].buf);
            h.fl[i] = h.fl[--h.n_fl];
            progressed = true;
        }
        if (*o->stop)
            for (int w = 1; w <= nw; w++)
                if (!h.stop_sent[w]) {
                    send_id(o->comm, w, -1);
                    h.stop_sent[w] = true;
                }
        bool busy = h.n_fl > 0;
        for (int w = 1; w <= nw && !busy; w++)
            busy = h.outstanding[w] > 0 || !h.stop_sent[w];
        bool work = h.head < h.tail && !*o->stop;
        if (!busy && !work)
            break;
        double t_now = now_s();
        if (progressed && t_now - last_flush < 0.05) {
            backoff = 50000;
            continue; /* drain everything that is ready before writing */
        }
        /* About to wait: put what we have on disk. About to compute: the same
         * once the last flush is FLUSH_AGE_S old. A flush re-compresses the
         * results' open chunks (~0.5-1 ms): flushing after every configuration
         * of a plan (10-30 ms each) took 2.5% of its CPU. A kill loses at most
         * FLUSH_AGE_S of finished results besides those in flight; --resume
         * computes them again. */
        if (!work || t_now - last_flush >= FLUSH_AGE_S) {
            /* Workers must not run dry while rank 0 writes: each holds enough
             * configurations to cover the slowest recent write (at least
             * DEPTH_MIN), judged from the mean configuration time so far (rank 0
             * answers them between the probes of its own capacity searches). */
            for (int w = 1; w <= nw && !*o->stop; w++)
                while (h.outstanding[w] < h.want && h.head < h.tail)
                    hand_out(&h, w);
            double tw = now_s();
            write_pending(&c, true);
            double dw = now_s() - tw;
            last_flush = t_now;
            write_max = dw > 0.9 * write_max ? dw : 0.9 * write_max;
            if (c.st->done > 0 && c.cfg_s > 0) {
                double d = depth_min + ceil(write_max / c.cfg_s);
                h.want = d > DEPTH_MAX ? DEPTH_MAX : (int)d;
            }
        }
        /* the top-up above may have handed the workers the last ids: `work` is stale then */
        if (work && h.head < h.tail && !*o->stop) {
            size_t id = order[--h.tail];
            double t0 = now_s();
            bool abandoned = run_one(o, id, &m, &rows);
            last_run_s = now_s() - t0;
            if (abandoned)
                st->interrupted++;
            else {
                st->by_rank0++;
                record(&c, (int64_t)id, &m, last_run_s, rows.v, rows.n);
            }
            backoff = 50000;
        } else {
            double t0 = now_s();
            nap(&backoff);
            st->idle_s += now_s() - t0;
        }
    }
    if (o->set_poll)
        o->set_poll(o->run_ctx, NULL, NULL);
    write_pending(&c, true);
    progress_show(&c.prog, st, true);
    ls_sweep_rowbuf_free(&rows);
    ls_sweep_rowbuf_free(&c.reqs);
    free(c.pend);
    free(h.fl);
    free(h.outstanding);
    free(h.stop_sent);
    free(order);
    if (c.io_failed) {
        if (e)
            *e = c.io_err;
        return c.io_err.code ? c.io_err.code : LS_EIO;
    }
    return st->done < st->total ? LS_EINTERRUPTED : LS_OK;
}

/* ---- workers ----------------------------------------------------------------- */

typedef struct outmsg {
    MPI_Request req;
    unsigned char *buf;
} outmsg;

static void drain_sends(outmsg *out, size_t *n, bool wait)
{
    long backoff = 50000;
    for (;;) {
        for (size_t i = 0; i < *n;) {
            int done = 0;
            MPI_Test(&out[i].req, &done, MPI_STATUS_IGNORE);
            if (done) {
                free(out[i].buf);
                out[i] = out[--*n];
            } else
                i++;
        }
        if (!wait || *n == 0)
            return;
        nap(&backoff);
    }
}

static void work(const ls_sweep_opts *o, ls_sweep_stats *st)
{
    int64_t *queue = NULL, next = -1; /* FIFO: queue[q_head .. q_end) */
    size_t q_head = 0, q_end = 0, q_cap = 0;
    bool got_stop = false;
    MPI_Request rreq;
    MPI_Irecv(&next, 1, MPI_INT64_T, 0, TAG_WORK, o->comm, &rreq);
    outmsg *out = NULL;
    size_t n_out = 0, cap_out = 0;
    ls_metrics m;
    ls_sweep_rowbuf rows = {0};
    long backoff = 50000;
    for (;;) {
        while (!got_stop) {
            int flag = 0;
            MPI_Test(&rreq, &flag, MPI_STATUS_IGNORE);
            if (!flag)
                break;
            if (next < 0)
                got_stop = true;
            else {
                if (q_head == q_end)
                    q_head = q_end = 0;
                if (q_end == q_cap) {
                    q_cap = q_cap ? 2 * q_cap : 16;
                    queue = ls_xrealloc(queue, q_cap * sizeof *queue);
                }
                queue[q_end++] = next;
                MPI_Irecv(&next, 1, MPI_INT64_T, 0, TAG_WORK, o->comm, &rreq);
            }
        }
        drain_sends(out, &n_out, false);
        if (q_head < q_end) {
            int64_t id = queue[q_head++];
            double t0 = now_s();
            bool abandoned = run_one(o, (size_t)id, &m, &rows);
            msg_head h;
            memset(&h, 0, sizeof h);
            h.config_id = id;
            h.wall_s = now_s() - t0;
            h.interrupted = abandoned;
            h.status = (int32_t)m.status;
            h.n_rows = abandoned ? 0 : (int64_t)rows.n;
            memcpy(h.message, m.message, sizeof h.message);
            memcpy(h.v, m.v, sizeof h.v);
            size_t len = sizeof h + (size_t)h.n_rows * sizeof(ls_sweep_reqrow);
            assert(len < (size_t)1 << 31);
            unsigned char *buf = ls_xmalloc(len);
            memcpy(buf, &h, sizeof h);
            if (h.n_rows)
                memcpy(buf + sizeof h, rows.v, (size_t)h.n_rows * sizeof(ls_sweep_reqrow));
            if (n_out == cap_out) {
                cap_out = cap_out ? cap_out * 2 : 8;
                out = ls_xrealloc(out, cap_out * sizeof *out);
            }
            out[n_out].buf = buf;
            MPI_Isend(buf, (int)len, MPI_BYTE, 0, TAG_RESULT, o->comm, &out[n_out].req);
            n_out++;
            backoff = 50000;
            continue;
        }
        if (got_stop)
            break;
        double t0 = now_s();
        nap(&backoff);
        st->idle_s += now_s() - t0;
    }
    drain_sends(out, &n_out, true);
    free(queue);
    free(out);
    ls_sweep_rowbuf_free(&rows);
}

ls_status ls_sweep_execute(const ls_sweep_opts *o, ls_sweep_stats *st, ls_error *e)
{
    assert(o->stop && o->run && o->spec);
    int rank, size;
    MPI_Comm_rank(o->comm, &rank);
    MPI_Comm_size(o->comm, &size);
    ls_sweep_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    double t0 = now_s();
    int32_t outcome = LS_OK;
    if (rank == 0)
        outcome = (int32_t)coordinate(o, size, st, e);
    else
        work(o, st);
    /* every rank leaves with the same verdict */
    MPI_Bcast(&outcome, 1, MPI_INT32_T, 0, o->comm);
    st->wall_s = now_s() - t0;
    if (rank != 0 && outcome != LS_OK && outcome != LS_EINTERRUPTED)
        return ls_fail(e, (ls_status)outcome, "rank 0 could not write the results");
    if (rank != 0 && outcome == LS_EINTERRUPTED)
        return ls_fail(e, LS_EINTERRUPTED, "interrupted");
    return (ls_status)outcome;
}
