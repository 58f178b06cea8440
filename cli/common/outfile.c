// SPDX-License-Identifier: GPL-2.0
/*
 * Output files: the rules are in outfile.h.  The temporary-then-rename
 * scheme is what makes "check first" hold: a recording whose attach fails
 * or an export that cannot finish never touches the file it would have
 * replaced.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* mkostemp, renameat2: also when built without the Makefile */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "outfile.h"

static const char *type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* "dir/name" -> "dir/.name.XXXXXX": the same directory, so rename() is atomic */
static char *tmp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	char *t = malloc(strlen(path) + 10);

	if (t)
		sprintf(t, "%.*s.%s.XXXXXX", (int)dlen, path, path + dlen);
	return t;
}

static int open_in_place(struct outfile *o)
{
	struct stat st;
	int fd = open(o->path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		et_err("cannot open %s: %s", o->path, strerror(errno));
		return -1;
	}
	/* replaced between lstat and open: only a device or a FIFO is written in place */
	if (fstat(fd, &st) || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		et_err("%s changed while being opened; not writing to it", o->path);
		close(fd);
		return -1;
	}
	o->fd = fd;
	return 0;
}

int outfile_open(struct outfile *o, const char *path, bool force, const struct stat *input)
{
	const char *base = strrchr(path, '/');
	struct stat st;
	int fd;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->force = force;
	base = base ? base + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		et_err("%s: not a file name", *path ? path : "''");
		return -1;
	}
	if (!lstat(path, &st)) {
		if (S_ISLNK(st.st_mode)) {
			et_err("%s is a symbolic link; refusing to write through it", path);
			return -1;
		}
		if (input && st.st_dev == input->st_dev && st.st_ino == input->st_ino) {
			et_err("%s is the input file; write the output to another file", path);
			return -1;
		}
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
			o->path = strdup(path);
			if (!o->path) {
				et_err("out of memory");
				return -1;
			}
			if (open_in_place(o)) {
				free(o->path);
				o->path = NULL;
				return -1;
			}
			o->committed = true;	/* at its path from the start */
			return 0;
		}
		if (!S_ISREG(st.st_mode)) {
			et_err("%s is %s; refusing to write to it", path, type_name(st.st_mode));
			return -1;
		}
		if (!force) {
			et_err("%s exists; use --force to overwrite it", path);
			return -1;
		}
	} else if (errno != ENOENT) {
		et_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	o->path = strdup(path);
	o->tmp = tmp_template(path);
	if (!o->path || !o->tmp) {
		et_err("out of memory");
		goto err_free;
	}
	/* O_EXCL, and so never through a link; mode 0600 */
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		et_err("cannot create %s: %s", path, strerror(errno));
		goto err_free;
	}
	/* mkostemp's 0600 is subject to the umask; the result is 0600 exactly */
	if (fchmod(fd, 0600)) {
		et_err("cannot create %s: %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto err_free;
	}
	o->fd = fd;
	return 0;

err_free:
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	return -1;
}

FILE *outfile_stream(struct outfile *o)
{
	if (!o->stream && o->fd >= 0) {
		o->stream = fdopen(o->fd, "w");
		if (!o->stream)
			et_err("%s: %s", o->path, strerror(errno));
	}
	return o->stream;
}

int outfile_commit(struct outfile *o)
{
	int r;

	if (!o->tmp)
		return o->committed ? 0 : -1;
	if (o->force) {
		r = rename(o->tmp, o->path);
	} else {
		/* a file that appeared since outfile_open is not ours to replace */
		r = renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE);
		/* a filesystem without RENAME_NOREPLACE: link() is exclusive too */
		if (r && errno == EINVAL) {
			r = link(o->tmp, o->path);
			if (!r)
				unlink(o->tmp);
		}
	}
	if (r) {
		if (errno == EEXIST)
			et_err("%s was created meanwhile; use --force to overwrite it", o->path);
		else
			et_err("cannot create %s: %s", o->path, strerror(errno));
		unlink(o->tmp);
	} else {
		o->committed = true;
	}
	free(o->tmp);
	o->tmp = NULL;
	return r ? -1 : 0;
}

bool outfile_committed(const struct outfile *o)
{
	return o->committed;
}

int outfile_finish(struct outfile *o)
{
	int ret = 0;

	if (o->stream && (fflush(o->stream) || ferror(o->stream))) {
		et_err("writing %s: %s", o->path, strerror(errno ? errno : EIO));
		ret = -1;
	}
	/* the data on disk before the name: a crash must not leave an empty file */
	if (!ret && o->tmp && fsync(o->fd)) {
		et_err("writing %s: %s", o->path, strerror(errno));
		ret = -1;
	}
	/* closed before the rename: a close error (NFS) leaves the target as it was */
	if (o->stream ? fclose(o->stream) : close(o->fd)) {
		if (!ret)
			et_err("writing %s: %s", o->path, strerror(errno));
		ret = -1;
	}
	o->stream = NULL;
	o->fd = -1;
	if (!ret && outfile_commit(o))
		ret = -1;
	outfile_close(o);
	return ret;
}

int outfile_close(struct outfile *o)
{
	int ret = 0;

	if (o->stream) {
		ret = fclose(o->stream) ? -1 : 0;
		o->stream = NULL;
		o->fd = -1;
	} else if (o->fd >= 0) {
		ret = close(o->fd) ? -1 : 0;
		o->fd = -1;
	}
	if (ret)
		et_err("writing %s: %s", o->path, strerror(errno));
	if (o->tmp)
		unlink(o->tmp);	/* never committed: the target is as it was */
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return ret;
}
