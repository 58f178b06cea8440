// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the recording reader (cli/recordings/rec_read.c): any bytes
 * as a file.  Opens, reads every item, seeks back to a keyframe and reads
 * on; nothing may crash, leak, hang or read out of bounds (ASan, UBSan).
 *
 * Inputs starting with 'R' are one block's raw items instead (see wrap()).
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, in which the
 * reader does not enforce checksums and decodes whatever a damaged
 * block inflates to, so that mutations reach the parsing behind them.
 *
 *   make fuzz            a longer run (FUZZ_TIME seconds, default 300)
 *   make check           a bounded run on recordings the tests made
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#include "recording.h"

static unsigned char wrapped[REC_FILE_HDR_SIZE + 16 + REC_BLOCK_HDR_SIZE + (1 << 18)];

static void put32(unsigned char *p, __u32 v)
{
	memcpy(p, &v, 4);
}

/*
 * An input starting with 'R' is not a file but one block's inflated
 * items (after 8 bytes: its item and event counts): wrapped here into a
 * valid file, so that mutations reach the item decoder directly instead
 * of through deflate.
 */
static size_t wrap(const uint8_t *data, size_t size)
{
	static const char text[] = "tool fuzz\nattach fuzz\n";
	size_t tl = sizeof(text) - 1, off = REC_FILE_HDR_SIZE + tl;
	unsigned char *b = wrapped + off;
	uLongf zlen = sizeof(wrapped) - off - REC_BLOCK_HDR_SIZE;
	__u32 v;

	if (size < 9 || compressBound(size - 9) > zlen)
		return 0;
	memcpy(wrapped, REC_MAGIC, 8);
	put32(wrapped + 8, REC_VERSION);
	put32(wrapped + 12, tl);
	put32(wrapped + 16, crc32(0, (const unsigned char *)text, tl));
	memcpy(wrapped + REC_FILE_HDR_SIZE, text, tl);
	if (compress2(b + REC_BLOCK_HDR_SIZE, &zlen, data + 9, size - 9, 1) != Z_OK)
		return 0;
	memset(b, 0, REC_BLOCK_HDR_SIZE);
	memcpy(b, "ETBK", 4);
	put32(b + 4, REC_BLK_KEYFRAME);
	put32(b + 8, zlen);
	put32(b + 12, size - 9);
	put32(b + 16, crc32(0, b + REC_BLOCK_HDR_SIZE, zlen));
	memcpy(&v, data + 1, 4);
	put32(b + 20, v);		/* items */
	memcpy(&v, data + 5, 4);
	put32(b + 40, v);		/* events */
	put32(b + 44, crc32(0, b, 44));
	return off + REC_BLOCK_HDR_SIZE + zlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct rec_reader *r;
	struct rec_item it;
	__u64 n = 0, sum = 0;

	if (size && data[0] == 'R') {
		size = wrap(data, size);
		data = wrapped;
	}
	r = rec_open_mem(data, size, err, sizeof(err));
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
	{
		__u64 t0, t1, ne;

		rec_span(r, &t0, &t1, &ne);
	}
	rec_close(r);
	return 0;
}
