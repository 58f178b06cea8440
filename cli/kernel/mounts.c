// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "log.h"
#include "mounts.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static int is_fs(const char *path, long magic)
{
	struct statfs st;

	return !statfs(path, &st) && (long)st.f_type == magic;
}

static int ensure(const char *path, const char *type, long magic)
{
	if (is_fs(path, magic))
		return 0;
	if (mount("nodev", path, type, 0, NULL) && errno != EBUSY) {
		int err = errno;

		et_err("cannot mount %s on %s: %s; run: mount -t %s nodev %s", type, path,
		       strerror(err), type, path);
		return -err;
	}
	et_debug("mounted %s on %s", type, path);
	return 0;
}

int mounts_ensure(void)
{
	int err = ensure(ET_TRACEFS, "tracefs", TRACEFS_MAGIC);

	/* bpffs is only needed for pinning; failure is not fatal */
	if (!is_fs("/sys/fs/bpf", BPF_FS_MAGIC) && mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		et_debug("bpffs not mounted on /sys/fs/bpf: %s", strerror(errno));
	return err;
}
