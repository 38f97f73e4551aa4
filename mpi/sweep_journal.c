/* sweep_journal.c -- an HDF5 virtual file driver with an undo journal (see sweep_journal.h).
 *
 * Journal layout (native byte order, the same machine reads it back):
 *   header  "LSJRNL01" + u64 committed size of the file      (16 bytes)
 *   record  u64 offset, u64 length, length old bytes, u64 check (FNV-1a 64 of the
 *           preceding offset, length and bytes)
 * The header is written before the first write of a batch reaches the file, and
 * a record before the bytes it saves are overwritten, so at any instant the
 * file can be restored: apply the complete records (newest first), truncate to
 * the committed size. A torn last record was never followed by its overwrite.
 */
#include "sweep_journal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep_lock.h"
#include "yamldoc.h" /* ls_hash64 */

#define MAGIC "LSJRNL01"
#define HEAD_BYTES 16
#define MAXADDR ((haddr_t)(((haddr_t)1 << 62) - 1))

typedef struct span {
    uint64_t lo, hi;
} span;

struct ls_journal {
    char *path, *jpath;
    int fd;           /* the result file (the driver's open file), -1 when none */
    int jfd;          /* the journal, -1 until the first batch */
    uint64_t base;    /* committed size of the file */
    uint64_t jend;    /* bytes in the journal; 0: no batch open */
    uint64_t eof;     /* physical size of the file */
    haddr_t eoa;      /* HDF5's end of allocation */
    bool wrote;       /* HDF5 wrote through this open (eoa is then meaningful) */
    span *saved;      /* ranges below base already saved in this batch, sorted, disjoint */
    size_t n_saved, cap_saved;
    int lockfd;       /* PATH.lock, for its batch lock (sweep_lock.h); -1 when none */
    int err;          /* errno of the first failed write: frozen */
    ls_status close_rc;
    ls_error close_err;
};

/* ---- plain I/O ----------------------------------------------------------------- */

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

/* Read n bytes; past the end of the file reads zeros (as HDF5 expects). */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            memset(p, 0, n);
            return 0;
        }
        p += r, n -= (size_t)r, off += (uint64_t)r;
    }
    return 0;
}

/* ---- recovery ------------------------------------------------------------------ */

typedef struct rec {
    uint64_t off, len, at; /* at: offset of the saved bytes in the journal */
} rec;

/* Apply the journal `jfd` to `fd`: restore the saved bytes, cut to the committed size. */
static ls_status rollback(int fd, int jfd, const char *path, const char *jpath, bool *rolled, ls_error *e)
{
    *rolled = false;
    struct stat js;
    if (fstat(jfd, &js) != 0)
        return ls_fail(e, LS_EIO, "%s: %s", jpath, strerror(errno));
    uint64_t size = (uint64_t)js.st_size;
    unsigned char head[HEAD_BYTES];
    if (size < HEAD_BYTES || pread_all(jfd, head, HEAD_BYTES, 0) || memcmp(head, MAGIC, 8))
        return LS_OK; /* no batch was opened: the file was not touched */
    uint64_t base;
    memcpy(&base, head + 8, 8);
    struct stat fs0;
    if (fstat(fd, &fs0) == 0 && (uint64_t)fs0.st_size < base)
        /* the file never shrinks below the committed size within a batch: this is another file */
        return ls_fail(e, LS_EIO, "%s does not belong to %s (the file is shorter than the size it records): "
                                  "the file was replaced after a crash; remove the journal if the file is right",
                       jpath, path);
    rec *rs = NULL;
    size_t n = 0, cap = 0;
    uint64_t at = HEAD_BYTES;
    unsigned char *buf = NULL;
    size_t buf_cap = 0;
    ls_status rc = LS_OK;
    while (at + 24 <= size) {
        uint64_t hdr[2];
        if (pread_all(jfd, hdr, 16, at))
            break;
        uint64_t len = hdr[1];
        if (len > size || at + 24 + len > size)
            break; /* torn record */
        if (16 + len > buf_cap) {
            buf_cap = 16 + len;
            buf = ls_xrealloc(buf, buf_cap);
        }
        uint64_t check;
        if (pread_all(jfd, buf, 16 + len, at) || pread_all(jfd, &check, 8, at + 16 + len))
            break;
        if (ls_hash64(buf, 16 + len) != check)
            break;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            rs = ls_xrealloc(rs, cap * sizeof *rs);
        }
        rs[n++] = (rec){hdr[0], len, at + 16};
        at += 24 + len;
    }
    for (size_t i = n; i-- > 0 && !rc;) {
        if (rs[i].len > buf_cap) {
            buf_cap = rs[i].len;
            buf = ls_xrealloc(buf, buf_cap);
        }
        if (pread_all(jfd, buf, rs[i].len, rs[i].at) || pwrite_all(fd, buf, rs[i].len, rs[i].off))
            rc = ls_fail(e, LS_EIO, "%s: cannot roll back to the last flush from %s: %s", path, jpath,
                         strerror(errno));
    }
    free(buf);
    free(rs);
    struct stat fs;
    if (!rc && fstat(fd, &fs) == 0 && (uint64_t)fs.st_size > base && ftruncate(fd, (off_t)base) != 0)
        rc = ls_fail(e, LS_EIO, "%s: cannot truncate to the last flush: %s", path, strerror(errno));
    if (!rc)
        *rolled = true;
    return rc;
}

static char *journal_path(const char *path)
{
    size_t n = strlen(path) + 9;
    char *s = ls_xmalloc(n);
    snprintf(s, n, "%s.journal", path);
    return s;
}

ls_status ls_journal_recover(const char *path, bool *rolled, ls_error *e)
{
    *rolled = false;
    char *jp = journal_path(path);
    int jfd = open(jp, O_RDONLY);
    if (jfd < 0) {
        free(jp);
        return LS_OK;
    }
    ls_status rc = LS_OK;
    int fd = open(path, O_RDWR);
    if (fd < 0)
        rc = ls_fail(e, LS_EIO, "%s: cannot open to roll back from %s: %s", path, jp, strerror(errno));
    else {
        rc = rollback(fd, jfd, path, jp, rolled, e);
        close(fd);
    }
    close(jfd);
    if (!rc)
        unlink(jp);
    free(jp);
    return rc;
}

/* ---- batches ------------------------------------------------------------------- */

static int fail_io(ls_journal *j, int err)
{
    if (!j->err)
        j->err = err ? err : EIO;
    H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_WRITEERROR, "%s: %s",
             j->path, strerror(j->err));
    return -1;
}

static int cmp_span(const void *a, const void *b)
{
    uint64_t x = ((const span *)a)->lo, y = ((const span *)b)->lo;
    return x < y ? -1 : x > y;
}

static void add_span(ls_journal *j, uint64_t lo, uint64_t hi)
{
    if (j->n_saved == j->cap_saved) {
        j->cap_saved = j->cap_saved ? 2 * j->cap_saved : 32;
        j->saved = ls_xrealloc(j->saved, j->cap_saved * sizeof *j->saved);
    }
    j->saved[j->n_saved++] = (span){lo, hi};
    qsort(j->saved, j->n_saved, sizeof *j->saved, cmp_span);
    size_t k = 0; /* merge touching ranges */
    for (size_t i = 1; i < j->n_saved; i++) {
        if (j->saved[i].lo <= j->saved[k].hi) {
            if (j->saved[i].hi > j->saved[k].hi)
                j->saved[k].hi = j->saved[i].hi;
        } else
            j->saved[++k] = j->saved[i];
    }
    j->n_saved = k + 1;
}

/* Open a batch: the journal starts with the committed size. */
static int begin_batch(ls_journal *j)
{
    if (j->jend)
        return 0;
    /* a reader copying the file (ls_sweep_lock_snapshot) finishes first */
    ls_sweep_lock_batch_begin(j->path, &j->lockfd);
    if (j->jfd < 0) {
        j->jfd = open(j->jpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (j->jfd < 0)
            return fail_io(j, errno);
    } else if (ftruncate(j->jfd, 0) != 0)
        return fail_io(j, errno);
    unsigned char head[HEAD_BYTES];
    memcpy(head, MAGIC, 8);
    memcpy(head + 8, &j->base, 8);
    if (pwrite_all(j->jfd, head, HEAD_BYTES, 0))
        return fail_io(j, errno);
    j->jend = HEAD_BYTES;
    return 0;
}

static int save_range(ls_journal *j, uint64_t lo, uint64_t hi)
{
    size_t len = (size_t)(hi - lo);
    unsigned char *r = ls_xmalloc(24 + len);
    memcpy(r, &lo, 8);
    uint64_t l64 = len;
    memcpy(r + 8, &l64, 8);
    int rc = 0;
    if (pread_all(j->fd, r + 16, len, lo))
        rc = fail_io(j, errno);
    if (!rc) {
        uint64_t check = ls_hash64(r, 16 + len);
        memcpy(r + 16 + len, &check, 8);
        if (pwrite_all(j->jfd, r, 24 + len, j->jend))
            rc = fail_io(j, errno);
        else
            j->jend += 24 + len;
    }
    free(r);
    return rc;
}

/* Before [addr, addr+size) is overwritten: save what of it lies below the committed size. */
static int save_old(ls_journal *j, uint64_t addr, uint64_t size)
{
    if (begin_batch(j))
        return -1;
    uint64_t lo = addr, hi = addr + size < j->base ? addr + size : j->base;
    if (lo >= hi)
        return 0;
    uint64_t cur = lo;
    for (size_t i = 0; i < j->n_saved && cur < hi; i++) {
        const span *s = &j->saved[i];
        if (s->hi <= cur)
            continue;
        if (s->lo >= hi)
            break;
        if (s->lo > cur && save_range(j, cur, s->lo))
            return -1;
        cur = s->hi;
    }
    if (cur < hi && save_range(j, cur, hi))
        return -1;
    add_span(j, lo, hi);
    return 0;
}

void ls_journal_commit(ls_journal *j)
{
    if (!j || j->err || j->fd < 0 || !j->wrote)
        return;
    /* space past HDF5's allocation is free: cut it now that nothing committed lies there */
    if (j->eof > j->eoa && ftruncate(j->fd, (off_t)j->eoa) == 0)
        j->eof = j->eoa;
    j->base = j->eof;
    j->n_saved = 0;
    if (j->jend) {
        if (ftruncate(j->jfd, 0) == 0)
            j->jend = 0;
        /* else: the journal still describes the old batch; the next begin_batch retries */
    }
    ls_sweep_lock_batch_end(j->lockfd); /* the file is whole again: readers may copy it */
}

int ls_journal_failed(const ls_journal *j) { return j ? j->err : 0; }

/* ---- the driver ---------------------------------------------------------------- */

typedef struct jfile {
    H5FD_t pub; /* first: HDF5 casts */
    ls_journal *j;
    dev_t dev;
    ino_t ino;
} jfile;

typedef struct jinfo {
    ls_journal *j;
} jinfo;

static void *jd_fapl_get(H5FD_t *f)
{
    jinfo *i = ls_xmalloc(sizeof *i);
    i->j = ((jfile *)f)->j;
    return i;
}

static void *jd_fapl_copy(const void *p)
{
    jinfo *i = ls_xmalloc(sizeof *i);
    memcpy(i, p, sizeof *i);
    return i;
}

static herr_t jd_fapl_free(void *p)
{
    free(p);
    return 0;
}

static H5FD_t *jd_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    const jinfo *info = H5Pget_driver_info(fapl);
    if (!info || !info->j)
        return NULL;
    ls_journal *j = info->j;
    assert(j->fd < 0); /* one open file per journal */
    bool rw = flags & H5F_ACC_RDWR;
    if (rw && !(flags & H5F_ACC_TRUNC)) {
        /* a writer killed mid-batch left a journal: restore the last flush first */
        bool rolled;
        ls_error e;
        if (ls_journal_recover(name, &rolled, &e)) {
            H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_CANTOPENFILE, "%s",
                     e.msg);
            return NULL;
        }
    }
    int o = rw ? O_RDWR : O_RDONLY;
    if (flags & H5F_ACC_TRUNC)
        o |= O_TRUNC;
    if (flags & H5F_ACC_CREAT)
        o |= O_CREAT;
    if (flags & H5F_ACC_EXCL)
        o |= O_EXCL;
    int fd = open(name, o, 0666);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_CANTOPENFILE,
                 "%s: %s", name, strerror(err));
        return NULL;
    }
    jfile *f = ls_xcalloc(1, sizeof *f);
    f->j = j;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    j->fd = fd;
    j->eof = j->base = (uint64_t)st.st_size;
    j->eoa = 0;
    j->wrote = false;
    j->jend = 0;
    j->n_saved = 0;
    return &f->pub;
}

static herr_t jd_close(H5FD_t *_f)
{
    jfile *f = (jfile *)_f;
    ls_journal *j = f->j;
    if (j->err) {
        /* frozen: put the file back as it was at the last commit */
        bool rolled;
        if (j->jfd >= 0)
            j->close_rc = rollback(j->fd, j->jfd, j->path, j->jpath, &rolled, &j->close_err);
    } else {
        /* HDF5 flushed everything before closing: that is a commit */
        ls_journal_commit(j);
    }
    close(j->fd);
    j->fd = -1;
    ls_sweep_lock_batch_end(j->lockfd);
    if (j->jfd >= 0) {
        close(j->jfd);
        j->jfd = -1;
        if (!j->close_rc && (j->err || j->jend == 0))
            unlink(j->jpath);
    }
    free(f);
    return 0;
}

static int jd_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const jfile *x = (const jfile *)a, *y = (const jfile *)b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static herr_t jd_query(const H5FD_t *f, unsigned long *flags)
{
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

static haddr_t jd_get_eoa(const H5FD_t *f, H5FD_mem_t type) { return ((const jfile *)f)->j->eoa; }

static herr_t jd_set_eoa(H5FD_t *f, H5FD_mem_t type, haddr_t addr)
{
    ((jfile *)f)->j->eoa = addr;
    return 0;
}

static haddr_t jd_get_eof(const H5FD_t *f, H5FD_mem_t type) { return ((const jfile *)f)->j->eof; }

static herr_t jd_get_handle(H5FD_t *f, hid_t fapl, void **handle)
{
    *handle = &((jfile *)f)->j->fd;
    return 0;
}

static herr_t jd_read(H5FD_t *_f, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf)
{
    ls_journal *j = ((jfile *)_f)->j;
    if (addr == HADDR_UNDEF || addr > MAXADDR || size > MAXADDR - addr)
        return -1;
    if (pread_all(j->fd, buf, size, addr)) {
        H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_READERROR, "%s: %s",
                 j->path, strerror(errno));
        return -1;
    }
    return 0;
}

static herr_t jd_write(H5FD_t *_f, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf)
{
    ls_journal *j = ((jfile *)_f)->j;
    if (j->err)
        return 0; /* frozen: dropped, the close rolls back */
    if (addr == HADDR_UNDEF || addr > MAXADDR || size > MAXADDR - addr)
        return fail_io(j, EINVAL);
    if (save_old(j, addr, size))
        return -1;
    if (pwrite_all(j->fd, buf, size, addr))
        return fail_io(j, errno);
    if (addr + size > j->eof)
        j->eof = addr + size;
    j->wrote = true;
    return 0;
}

static herr_t jd_truncate(H5FD_t *_f, hid_t dxpl, hbool_t closing)
{
    ls_journal *j = ((jfile *)_f)->j;
    if (j->err || j->eoa == j->eof)
        return 0;
    /* below the committed size would destroy bytes the last commit may use:
     * such a cut waits for the commit (ls_journal_commit) */
    if (j->eoa < j->base)
        return 0;
    if (ftruncate(j->fd, (off_t)j->eoa) != 0)
        return fail_io(j, errno);
    j->eof = j->eoa;
    return 0;
}

static herr_t jd_lock(H5FD_t *_f, hbool_t rw)
{
    ls_journal *j = ((jfile *)_f)->j;
    if (flock(j->fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 && errno != ENOSYS) {
        H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_CANTLOCKFILE,
                 "%s: unable to lock file: %s", j->path, strerror(errno));
        return -1;
    }
    return 0;
}

static herr_t jd_unlock(H5FD_t *_f)
{
    flock(((jfile *)_f)->j->fd, LOCK_UN);
    return 0;
}

static const H5FD_class_t jd_class = {
    .name = "llmsweep_journal",
    .maxaddr = MAXADDR,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(jinfo),
    .fapl_get = jd_fapl_get,
    .fapl_copy = jd_fapl_copy,
    .fapl_free = jd_fapl_free,
    .open = jd_open,
    .close = jd_close,
    .cmp = jd_cmp,
    .query = jd_query,
    .get_eoa = jd_get_eoa,
    .set_eoa = jd_set_eoa,
    .get_eof = jd_get_eof,
    .get_handle = jd_get_handle,
    .read = jd_read,
    .write = jd_write,
    .truncate = jd_truncate,
    .lock = jd_lock,
    .unlock = jd_unlock,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

/* HDF5 keeps drivers in a process-wide registry: registering once per process
 * is its model, so the id is the one static here. */
static hid_t driver_id(void)
{
    static hid_t id = H5I_INVALID_HID;
    if (id < 0 || H5Iis_valid(id) <= 0)
        id = H5FDregister(&jd_class);
    return id;
}

ls_status ls_journal_fapl(const char *path, ls_journal **out, hid_t *fapl, ls_error *e)
{
    *out = NULL;
    *fapl = H5I_INVALID_HID;
    hid_t id = driver_id();
    if (id < 0)
        return ls_fail(e, LS_EINTERNAL, "%s: cannot register the journal file driver with HDF5", path);
    ls_journal *j = ls_xcalloc(1, sizeof *j);
    j->path = ls_xstrdup(path);
    j->jpath = journal_path(path);
    j->fd = j->jfd = j->lockfd = -1;
    jinfo info = {j};
    hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    if (p < 0 || H5Pset_driver(p, id, &info) < 0) {
        if (p >= 0)
            H5Pclose(p);
        ls_journal_free(j, NULL);
        return ls_fail(e, LS_EINTERNAL, "%s: cannot set up the journal file driver", path);
    }
    *out = j;
    *fapl = p;
    return LS_OK;
}

ls_status ls_journal_free(ls_journal *j, ls_error *e)
{
    if (!j)
        return LS_OK;
    assert(j->fd < 0); /* the HDF5 file is closed */
    if (j->jfd >= 0)
        close(j->jfd);
    ls_sweep_lock_batch_close(&j->lockfd);
    ls_status rc = j->close_rc;
    if (rc && e)
        *e = j->close_err;
    free(j->saved);
    free(j->path);
    free(j->jpath);
    free(j);
    return rc;
}
