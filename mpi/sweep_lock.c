/* sweep_lock.c -- FILE.lock: one writer per result file, and consistent copies of a live file
 * (see sweep_lock.h). Open-file-description locks (Linux F_OFD_*) rather than classic POSIX
 * locks: closing any other descriptor of the lock file (the journal's) must not drop them. */
/* F_OFD_SETLK/F_OFD_SETLKW are Linux extensions, declared by <fcntl.h> only under _GNU_SOURCE;
 * without it the kernel lock below is compiled out and only the pid fallback is left. */
#define _GNU_SOURCE
#include "sweep_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep_journal.h"

#define OWNER_BYTE 0
#define BATCH_BYTE 1

struct ls_sweep_lock {
    char *path;
    int fd;
};

typedef struct holder {
    long pid;
    char host[256];
} holder;

static char *lock_path(const char *out)
{
    size_t n = strlen(out) + 6;
    char *s = ls_xmalloc(n);
    snprintf(s, n, "%s.lock", out);
    return s;
}

/* 0, or -1 with errno: EAGAIN/EACCES held by another, EINVAL/ENOLCK/ENOSYS/EOPNOTSUPP no such locks here */
static int ofd_lock(int fd, short type, off_t byte, bool wait)
{
#ifdef F_OFD_SETLK
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = byte;
    fl.l_len = 1;
    int r;
    do
        r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    while (r != 0 && errno == EINTR && wait);
    return r;
#else
    errno = ENOSYS;
    return -1;
#endif
}

static bool held_by_other(int err) { return err == EAGAIN || err == EACCES; }

static void read_holder(int fd, holder *h)
{
    memset(h, 0, sizeof *h);
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return;
    buf[n] = 0;
    const char *p = strstr(buf, "pid ");
    if (p)
        h->pid = strtol(p + 4, NULL, 10);
    p = strstr(buf, "host ");
    if (p)
        sscanf(p + 5, "%255s", h->host);
}

static void this_host(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0)
        snprintf(buf, n, "?");
    buf[n - 1] = 0;
}

/* A zombie counts as gone: it holds no files, and in a container whose init does not reap
 * (a killed MPI rank reparented to it) it would otherwise block every resume. */
static bool zombie(long pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static bool alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) && !zombie(pid);
}

static ls_status refuse(ls_error *e, const char *out, const char *lp, const holder *h, const char *extra)
{
    return ls_fail(e, LS_EIO,
                   "another sweep is writing %s (pid %ld, host %s): wait for it to end or stop it%s (its lock: %s)",
                   out, h->pid, h->host[0] ? h->host : "?", extra, lp);
}

ls_status ls_sweep_lock_take(const char *out, ls_sweep_lock **l, char **note, ls_error *e)
{
    *l = NULL;
    *note = NULL;
    char *lp = lock_path(out);
    char me[256];
    this_host(me, sizeof me);
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            ls_status rc = ls_fail(e, LS_EIO, "%s: cannot create the lock file: %s", lp, strerror(errno));
            free(lp);
            return rc;
        }
        holder h;
        read_holder(fd, &h);
        bool stale = false;
        if (ofd_lock(fd, F_WRLCK, OWNER_BYTE, false) == 0) {
            /* a releasing writer may have removed the file we opened: lock the one on disk */
            struct stat a, b;
            if (fstat(fd, &a) != 0 || stat(lp, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
                close(fd);
                continue;
            }
            read_holder(fd, &h); /* under the lock: what the last holder left */
            stale = h.pid > 0;   /* it left without removing the file: killed */
        } else if (held_by_other(errno)) {
            ls_status rc = refuse(e, out, lp, &h, "");
            close(fd);
            free(lp);
            return rc;
        } else if (h.pid > 0) {
            /* no fcntl locks on this file system: the pid decides, where it can be checked */
            if (strcmp(h.host, me) != 0) {
                ls_status rc = refuse(e, out, lp, &h, "; this file system has no locks, so it cannot be checked "
                                                      "from here: remove the lock file if no sweep runs there");
                close(fd);
                free(lp);
                return rc;
            }
            if (h.pid != (long)getpid() && alive(h.pid)) {
                ls_status rc = refuse(e, out, lp, &h, "");
                close(fd);
                free(lp);
                return rc;
            }
            stale = true;
        }
        if (stale) {
            char *s = ls_xmalloc(600);
            snprintf(s, 600, "took over the stale lock %s of pid %ld (host %s), which is gone", lp, h.pid,
                     h.host[0] ? h.host : "?");
            *note = s;
        }
        char txt[512];
        int n = snprintf(txt, sizeof txt, "pid %ld\nhost %s\nfile %s\n", (long)getpid(), me, out);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, txt, (size_t)n, 0) != n) {
            ls_status rc = ls_fail(e, LS_EIO, "%s: cannot write the lock file: %s", lp, strerror(errno));
            close(fd);
            free(lp);
            free(*note);
            *note = NULL;
            return rc;
        }
        ls_sweep_lock *k = ls_xmalloc(sizeof *k);
        k->path = lp;
        k->fd = fd;
        *l = k;
        return LS_OK;
    }
    ls_status rc = ls_fail(e, LS_EIO, "%s: the lock file keeps changing: is another sweep starting?", lp);
    free(lp);
    return rc;
}

void ls_sweep_lock_release(ls_sweep_lock *l)
{
    if (!l)
        return;
    unlink(l->path); /* while still holding it: the next writer opens a fresh file */
    close(l->fd);
    free(l->path);
    free(l);
}

bool ls_sweep_lock_held(const char *out, long *pid, char *host, size_t host_cap)
{
    char *lp = lock_path(out);
    int fd = open(lp, O_RDONLY | O_CLOEXEC);
    free(lp);
    if (fd < 0)
        return false;
    holder h;
    read_holder(fd, &h);
    bool held;
    if (ofd_lock(fd, F_RDLCK, OWNER_BYTE, false) == 0)
        held = false; /* nobody holds it (the OFD lock goes with the close) */
    else if (held_by_other(errno))
        held = true;
    else {
        char me[256];
        this_host(me, sizeof me);
        held = h.pid > 0 && (strcmp(h.host, me) != 0 || alive(h.pid));
    }
    close(fd);
    if (held) {
        *pid = h.pid;
        snprintf(host, host_cap, "%s", h.host[0] ? h.host : "?");
    }
    return held;
}

void ls_sweep_lock_batch_begin(const char *out, int *fd)
{
    if (*fd < 0) {
        char *lp = lock_path(out);
        *fd = open(lp, O_RDWR | O_CLOEXEC);
        free(lp);
        if (*fd < 0)
            return; /* no lock file: nobody to coordinate with */
    }
    if (ofd_lock(*fd, F_WRLCK, BATCH_BYTE, true) != 0 && !held_by_other(errno)) {
        close(*fd); /* no OFD locks here: no batch lock (and no classic locks to lose by closing) */
        *fd = -1;
    }
}

void ls_sweep_lock_batch_end(int fd)
{
    if (fd >= 0)
        ofd_lock(fd, F_UNLCK, BATCH_BYTE, false);
}

void ls_sweep_lock_batch_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static ls_status copy_file(const char *src, const char *dst, bool must_exist, ls_error *e)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        if (!must_exist && errno == ENOENT)
            return LS_OK;
        return ls_fail(e, LS_EIO, "%s: cannot open: %s", src, strerror(errno));
    }
    int o = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0) {
        close(in);
        return ls_fail(e, LS_EIO, "%s: cannot create: %s", dst, strerror(errno));
    }
    ls_status rc = LS_OK;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ls_fail(e, LS_EIO, "%s: cannot read: %s", src, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(o, buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                rc = ls_fail(e, LS_EIO, "%s: cannot write: %s", dst, strerror(errno));
                break;
            }
            w += k;
        }
        if (rc)
            break;
    }
    close(in);
    if (close(o) != 0 && !rc)
        rc = ls_fail(e, LS_EIO, "%s: cannot write: %s", dst, strerror(errno));
    return rc;
}

ls_status ls_sweep_lock_snapshot(const char *out, const char *dst, ls_error *e)
{
    char *lp = lock_path(out);
    int fd = open(lp, O_RDONLY | O_CLOEXEC);
    free(lp);
    if (fd >= 0)
        ofd_lock(fd, F_RDLCK, BATCH_BYTE, true); /* waits for the batch being written */
    size_t n = strlen(out) + 9;
    char *js = ls_xmalloc(n), *jd = ls_xmalloc(strlen(dst) + 9);
    snprintf(js, n, "%s.journal", out);
    sprintf(jd, "%s.journal", dst);
    ls_status rc = copy_file(out, dst, true, e);
    /* a writer killed mid-batch left its journal: the copy is rolled back to the last flush */
    if (!rc)
        rc = copy_file(js, jd, false, e);
    if (fd >= 0)
        close(fd);
    bool rolled;
    if (!rc)
        rc = ls_journal_recover(dst, &rolled, e);
    remove(jd);
    free(js);
    free(jd);
    return rc;
}

ls_status ls_sweep_lock_live_snapshot(const char *path, char **snap, long *pid, char *host, size_t host_cap,
                                      ls_error *e)
{
    *snap = NULL;
    if (!ls_sweep_lock_held(path, pid, host, host_cap))
        return LS_OK;
    const char *dir = getenv("TMPDIR");
    size_t n = strlen(dir && *dir ? dir : "/tmp") + 40;
    char *t = ls_xmalloc(n);
    snprintf(t, n, "%s/llmsweep-snapshot-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(t);
    if (fd < 0) {
        ls_status rc = ls_fail(e, LS_EIO, "%s is being written by a running sweep (pid %ld, host %s) and no "
                                          "snapshot of it can be made in %s: %s",
                               path, *pid, host, dir && *dir ? dir : "/tmp", strerror(errno));
        free(t);
        return rc;
    }
    close(fd);
    ls_status rc = ls_sweep_lock_snapshot(path, t, e);
    if (rc) {
        remove(t);
        free(t);
        return rc;
    }
    *snap = t;
    return LS_OK;
}

void ls_sweep_lock_snapshot_drop(char *snap)
{
    if (!snap)
        return;
    remove(snap);
    free(snap);
}
