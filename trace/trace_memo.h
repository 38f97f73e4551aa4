/* trace_memo.h -- replay a trace file this process has already read to its end.
 *
 * `plan` and capacity searches load one trace thousands of times (each probe rate is a
 * new workload key, so a new stream): each read would gunzip and parse the whole file
 * again. The first read of a file that reaches the end of the stream without an error
 * is kept in memory (bounded: a few files of up to 8 MB, 262,144 requests in all); later opens of the
 * same path, options and file identity (device, inode, size, mtime) replay it. A replay
 * yields the same requests, line numbers and hash ids, and reports the same counts at
 * each point of the stream, as the reader would. */
#ifndef LS_TRACE_MEMO_H
#define LS_TRACE_MEMO_H

#include "reader.h"

/* ls_trace_open, replayed from memory where the file was read before. */
ls_status ls_trace_memo_open(const char *path, const ls_trace_opts *opts, ls_source **out, ls_error *e);

#endif
