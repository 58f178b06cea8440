/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_DWLOC_H
#define EPOLLTRACE_DWLOC_H

/*
 * Where a function argument lives at one address, decoded from its DWARF
 * location expression.  A pure layer: no file is read here, so the unit
 * tests can feed it synthetic expressions (tests/sites_test.c).
 *
 * Only the shapes a kprobe can read are kept: a register, a memory slot at
 * register+offset (what DW_OP_bregN and DW_OP_fbreg come to once the frame
 * base and the CFA are known), a constant, or nothing (optimized out).
 * Anything else is "unsupported" with the reason, never guessed.
 * Registers are DWARF numbers (x86_64: 0 ax, 1 dx, 2 cx, 3 bx, 4 si,
 * 5 di, 6 bp, 7 sp, 8-15 r8-r15).
 */
#include <stddef.h>
#include <stdint.h>
#include <elfutils/libdw.h>

enum dwloc_kind {
	DWLOC_OUT,		/* optimized out at this address */
	DWLOC_REG,		/* the value is in register reg */
	DWLOC_MEM,		/* the value is in memory at reg + off */
	DWLOC_CONST,		/* the value is the constant value */
	DWLOC_UNSUPPORTED,	/* why says why */
};

struct dwloc {
	enum dwloc_kind kind;
	int reg;		/* DWARF register number (REG, MEM) */
	int64_t off;		/* MEM */
	uint64_t value;		/* CONST */
	char why[64];		/* UNSUPPORTED */
};

/*
 * Decode ops[0..n) (the variable's location at the address).  fb/nfb is
 * the enclosing function's DW_AT_frame_base at that address and cfa/ncfa
 * the CFA rule there (from dwarf_frame_cfa), both needed only for
 * DW_OP_fbreg; either may be NULL/0.  Always fills *out.
 */
void dwloc_decode(const Dwarf_Op *ops, size_t n, const Dwarf_Op *fb, size_t nfb,
		  const Dwarf_Op *cfa, size_t ncfa, struct dwloc *out);

/* "ax" ... "r15" for DWARF registers 0-16 of x86_64; NULL for others */
const char *dwloc_reg_name(int reg);
/* the DWARF number of a register name ("r15", "sp"); -1 if unknown */
int dwloc_reg_number(const char *name);

/*
 * The sites file spelling: "reg:r15", "mem:sp+16", "mem:bp-8", "const:1",
 * "out", "unsupported".  Returns snprintf's value.
 */
int dwloc_format(const struct dwloc *l, char *buf, size_t size);
/* The reverse of dwloc_format (an unsupported location reads back without
 * its reason).  0, or -1 if s is not one of those spellings. */
int dwloc_parse(const char *s, struct dwloc *out);

#endif
