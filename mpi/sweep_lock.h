/* sweep_lock.h -- the sweep's own lock on its result file, independent of HDF5's file locking.
 *
 * A writer holds FILE.lock: a file naming its pid and host, with an
 * open-file-description lock (fcntl F_OFD_SETLK) on its byte 0. The kernel
 * drops that lock when the writer dies however it dies, so a lock left by a
 * killed sweep is stale by construction and the next sweep takes it over.
 * On a file system without fcntl locks the pid decides: a lock whose pid is
 * dead on this host is stale; one from another host is left to the user.
 * HDF5_USE_FILE_LOCKING=FALSE (common on Lustre) does not affect it.
 *
 * Byte 1 of the same file is the batch lock: the writer holds it for write
 * while a batch of HDF5 writes is on its way to disk (sweep_journal.c), a
 * reader for read while it copies the file (ls_sweep_lock_snapshot), so a
 * copy always holds a flushed state.
 */
#ifndef LS_SWEEP_LOCK_H
#define LS_SWEEP_LOCK_H

#include <stdbool.h>

#include "error.h"

typedef struct ls_sweep_lock ls_sweep_lock;

/* Take the lock of result file `out`, or fail (LS_EIO) with "another sweep is
 * writing OUT (pid P, host H)". *note is set (caller frees) when a stale lock
 * was taken over, saying whose. */
ls_status ls_sweep_lock_take(const char *out, ls_sweep_lock **l, char **note, ls_error *e);

/* Release and remove the lock file. Accepts NULL. */
void ls_sweep_lock_release(ls_sweep_lock *l);

/* Whether a live sweep holds the lock of `out`; its pid and host into pid/host. */
bool ls_sweep_lock_held(const char *out, long *pid, char *host, size_t host_cap);

/* The batch lock of `out` for a writer: open FILE.lock (*fd, -1 when there is
 * none: no lock to take) and wait for byte 1; end releases it, close closes *fd. */
void ls_sweep_lock_batch_begin(const char *out, int *fd);
void ls_sweep_lock_batch_end(int fd);
void ls_sweep_lock_batch_close(int *fd);

/* A consistent copy of `out` while a sweep writes it: waits for the writer's
 * current batch to reach the disk, copies the file to `dst` meanwhile holding
 * the writer back. Works on a file nobody writes too. */
ls_status ls_sweep_lock_snapshot(const char *out, const char *dst, ls_error *e);

/* For readers (report): when a live sweep holds the lock of `path`, take a
 * snapshot into a new temporary file, its name in *snap (pass it to
 * ls_sweep_lock_snapshot_drop), the writer's pid and host into pid/host;
 * *snap is NULL when nobody writes `path`: read it directly. */
ls_status ls_sweep_lock_live_snapshot(const char *path, char **snap, long *pid, char *host, size_t host_cap,
                                      ls_error *e);
/* Remove and free a snapshot. Accepts NULL. */
void ls_sweep_lock_snapshot_drop(char *snap);

#endif
