// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the recording reader (cli/rec_read.c): any bytes
 * as a file.  Opens, reads every item, seeks back to a keyframe and reads
 * on; nothing may crash, leak, hang or read out of bounds (ASan, UBSan).
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, in which the
 * reader does not enforce checksums and decodes whatever a damaged
 * block inflates to, so that mutations reach the parsing behind them.
 *
 *   make fuzz            a longer run (FUZZ_TIME seconds, default 300)
 *   make check           a bounded run on recordings the tests made
 */
#include <stddef.h>
#include <stdint.h>
#include "recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct rec_reader *r = rec_open_mem(data, size, err, sizeof(err));
	struct rec_item it;
	__u64 n = 0, sum = 0;

	if (!r)
		return 0;
	while (rec_next(r, &it) > 0 && n < 1000000) {
		n++;
		if (it.kind == REC_RECORD)
			sum += it.rec->type + it.size;
		else if (it.kind == REC_SNAPSHOT)
			sum += it.snap->nitems + it.snap->nready + it.snap->nwaiters;
	}
	(void)rec_error(r);
	(void)rec_warning(r);
	/* seek into the middle and read on: the index must hold */
	rec_seek_event(r, n / 2);
	while (rec_next(r, &it) > 0 && n-- > 0)
		;
	rec_seek_time(r, sum);
	rec_next(r, &it);
	rec_close(r);
	return 0;
}
