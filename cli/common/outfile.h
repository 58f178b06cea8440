/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_OUTFILE_H
#define EPOLLTRACE_OUTFILE_H

/*
 * Every file epolltrace writes (record -o, -w, export -o, demo --truth)
 * is opened here, under one set of rules:
 *
 *  - a symbolic link is refused, even with --force (a planted link must
 *    not redirect a root process's writes);
 *  - an existing regular file is replaced only with --force, and never
 *    truncated in place: the data goes to a temporary file in the same
 *    directory (mode 0600, O_EXCL), which rename() puts over the target
 *    once there is something worth keeping (outfile_commit).  Until
 *    then a failure leaves the old file as it was;
 *  - the result has mode 0600 whatever the old file's mode was;
 *  - a character device or a FIFO (/dev/null, /dev/full, a named pipe)
 *    is written in place: there is nothing to replace;
 *  - a directory, a block device or a socket is refused;
 *  - the output may not be the input (same device and inode: a hard
 *    link, or the same file by another name).
 *
 * Errors are reported on stderr in one line, naming the path.
 */
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

struct outfile {
	int fd;			/* write here; -1 once closed */
	FILE *stream;		/* made by outfile_stream(); owns fd */
	char *path;		/* the target */
	char *tmp;		/* the temporary, until committed; NULL: none */
	bool force;
	bool committed;		/* at its path: renamed there, or written in place */
};

/*
 * Check path and open the file to write (a temporary one for a regular
 * file).  input, if not NULL, is the file being read: writing over it is
 * refused.  0, or -1 after reporting why.
 */
int outfile_open(struct outfile *o, const char *path, bool force, const struct stat *input);
/* A stdio stream on the file (made once; closed by outfile_close). */
FILE *outfile_stream(struct outfile *o);
/* Put the temporary file in place at the target path (rename); the file
 * stays open for more writing.  A no-op when written in place or done.
 * 0, or -1 after reporting why (the temporary is then removed). */
int outfile_commit(struct outfile *o);
/* Is the output at its path now (committed, or written in place)? */
bool outfile_committed(const struct outfile *o);
/* Flush the stream, sync, commit and close: the end of a whole-file
 * write.  0, or -1 after reporting why; on failure the target is left as
 * it was. */
int outfile_finish(struct outfile *o);
/* Close.  A temporary that was never committed is removed: the target
 * stays as it was.  0, or -1 if closing reported an error. */
int outfile_close(struct outfile *o);

#endif
