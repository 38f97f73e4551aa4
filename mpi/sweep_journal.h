/* sweep_journal.h -- batches of HDF5 writes that land whole or not at all (a rollback journal).
 *
 * HDF5 updates a file in place: a flush that fails part way (ENOSPC, EIO, a
 * kill) can leave chunk indexes pointing at chunks never written, and the file
 * unreadable. Writable result files therefore go through this virtual file
 * driver, a POSIX driver (like HDF5's sec2) that keeps an undo journal in
 * PATH.journal:
 *
 *   - before a byte of PATH below the last committed size is overwritten, its
 *     old content goes to the journal (once per batch); bytes beyond it need
 *     none: truncating restores them;
 *   - ls_journal_commit, called after a successful H5Fflush, ends a batch: the
 *     journal is emptied, the file's size becomes the new committed size;
 *   - the first failed write (journal or file) freezes the driver: the error
 *     goes up through HDF5 once, every later write is dropped, and closing the
 *     file rolls PATH back to the last commit and removes the journal;
 *   - a process killed mid-batch leaves the journal behind: the next writable
 *     open (resume) rolls the file back before HDF5 reads it.
 *
 * The result is a plain HDF5 file (no driver information in the superblock):
 * h5py, h5dump and read-only opens use the default driver. Safe against a
 * process that dies or a disk that fills; not against power loss (no fsync).
 */
#ifndef LS_SWEEP_JOURNAL_H
#define LS_SWEEP_JOURNAL_H

#include <hdf5.h>
#include <stdbool.h>

#include "error.h"

typedef struct ls_journal ls_journal;

/* A new journal for the result file `path` and a file access property list
 * that writes through it (the caller closes *fapl with H5Pclose after
 * H5Fcreate/H5Fopen; the journal stays with the file until it is closed). */
ls_status ls_journal_fapl(const char *path, ls_journal **j, hid_t *fapl, ls_error *e);

/* End the current batch: everything HDF5 wrote so far is the new committed
 * state. Call only after a successful H5Fflush. */
void ls_journal_commit(ls_journal *j);

/* The errno of the first failed write (0 when none): the file is frozen and
 * will be rolled back to the last commit on close. */
int ls_journal_failed(const ls_journal *j);

/* After the HDF5 file is closed (or failed to open): the outcome of the
 * rollback done on close (LS_OK when none was needed), then free. Accepts NULL. */
ls_status ls_journal_free(ls_journal *j, ls_error *e);

/* Roll `path` back to its last commit if PATH.journal holds an unfinished
 * batch (a killed writer); *rolled says whether it did. No-op without journal. */
ls_status ls_journal_recover(const char *path, bool *rolled, ls_error *e);

#endif
