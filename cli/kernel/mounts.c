// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "log.h"
#include "mounts.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && (long)st.f_type == TRACEFS_MAGIC;
}

/*
 * bpffs is not mounted: nothing here pins objects, so a mount would only
 * be a change to the machine that outlives the session.
 */
const char *mounts_tracefs(bool may_mount, char *err, size_t errlen)
{
	if (is_tracefs(ET_TRACEFS))
		return ET_TRACEFS;
	/* debugfs mounts tracefs here by itself when it is looked up */
	if (is_tracefs(ET_DEBUG_TRACING))
		return ET_DEBUG_TRACING;
	if (!may_mount) {
		snprintf(err, errlen, "tracefs is not mounted; run: mount -t tracefs nodev "
			 ET_TRACEFS);
		return NULL;
	}
	if (mount("nodev", ET_TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		snprintf(err, errlen, "cannot mount tracefs on " ET_TRACEFS ": %s; run: "
			 "mount -t tracefs nodev " ET_TRACEFS, strerror(errno));
		return NULL;
	}
	et_debug("mounted tracefs on %s", ET_TRACEFS);
	return ET_TRACEFS;
}
