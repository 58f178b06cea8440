// SPDX-License-Identifier: GPL-2.0
/*
 * DWARF location expression -> register, stack slot, constant or nothing.
 * See dwloc.h.  The operations are those of DWARF 5 section 2.5/2.6; GCC
 * uses few shapes for arguments at an inline site: DW_OP_regN, DW_OP_fbreg
 * with DW_OP_call_frame_cfa as frame base, DW_OP_bregN, constants with
 * DW_OP_stack_value, and DW_OP_entry_value (which a probe cannot use).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include "dwloc.h"

static const char *const regs[] = {
	"ax", "dx", "cx", "bx", "si", "di", "bp", "sp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "ip",
};

#define NREGS (int)(sizeof(regs) / sizeof(regs[0]))

const char *dwloc_reg_name(int reg)
{
	return reg >= 0 && reg < NREGS ? regs[reg] : NULL;
}

int dwloc_reg_number(const char *name)
{
	for (int i = 0; i < NREGS; i++)
		if (!strcmp(name, regs[i]))
			return i;
	return -1;
}

static void unsupported(struct dwloc *out, const char *fmt, unsigned int op)
{
	out->kind = DWLOC_UNSUPPORTED;
	snprintf(out->why, sizeof(out->why), fmt, op);
}

/* A base register and offset from a one-operation expression of the form
 * DW_OP_bregN off or DW_OP_bregx reg off; false otherwise. */
static bool breg_of(const Dwarf_Op *op, int *reg, int64_t *off)
{
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return true;
	}
	if (op->atom == DW_OP_bregx) {
		*reg = (int)op->number;
		*off = (int64_t)op->number2;
		return true;
	}
	return false;
}

/* The frame base as a base register and offset (the frame base is an
 * address; DW_OP_fbreg adds to it). */
static bool frame_base(const Dwarf_Op *fb, size_t nfb, const Dwarf_Op *cfa, size_t ncfa,
		       int *reg, int64_t *off, struct dwloc *out)
{
	if (!fb || nfb != 1) {
		out->kind = DWLOC_UNSUPPORTED;
		snprintf(out->why, sizeof(out->why), "frame base %s",
			 fb && nfb ? "not one operation" : "unknown");
		return false;
	}
	if (fb->atom == DW_OP_call_frame_cfa) {
		/* libdw gives a register+offset CFA rule as DW_OP_bregx */
		if (!cfa || ncfa != 1 || !breg_of(cfa, reg, off)) {
			out->kind = DWLOC_UNSUPPORTED;
			snprintf(out->why, sizeof(out->why), "CFA %s",
				 cfa && ncfa ? "not register+offset" : "unknown");
			return false;
		}
		return true;
	}
	if (breg_of(fb, reg, off))
		return true;
	if (fb->atom >= DW_OP_reg0 && fb->atom <= DW_OP_reg31) {
		/* old style: the frame base is the register's value */
		*reg = fb->atom - DW_OP_reg0;
		*off = 0;
		return true;
	}
	unsupported(out, "frame base op 0x%x", fb->atom);
	return false;
}

/* a literal pushed by op, for constant locations */
static bool literal(const Dwarf_Op *op, uint64_t *v)
{
	if (op->atom >= DW_OP_lit0 && op->atom <= DW_OP_lit31) {
		*v = op->atom - DW_OP_lit0;
		return true;
	}
	switch (op->atom) {
	case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
	case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
	case DW_OP_constu: case DW_OP_consts:
		*v = op->number;
		return true;
	}
	return false;
}

void dwloc_decode(const Dwarf_Op *ops, size_t n, const Dwarf_Op *fb, size_t nfb,
		  const Dwarf_Op *cfa, size_t ncfa, struct dwloc *out)
{
	int reg;
	int64_t off;

	memset(out, 0, sizeof(*out));
	out->reg = -1;
	if (!ops || !n) {		/* an empty expression: no value here */
		out->kind = DWLOC_OUT;
		return;
	}
	/* look for what a probe cannot read before the shape */
	for (size_t i = 0; i < n; i++) {
		switch (ops[i].atom) {
		case DW_OP_piece:
		case DW_OP_bit_piece:
			unsupported(out, "split in pieces (op 0x%x)", ops[i].atom);
			return;
		case DW_OP_entry_value:
		case DW_OP_GNU_entry_value:
			unsupported(out, "value at function entry (op 0x%x)", ops[i].atom);
			return;
		case DW_OP_implicit_pointer:
		case DW_OP_GNU_implicit_pointer:
			unsupported(out, "implicit pointer (op 0x%x)", ops[i].atom);
			return;
		}
	}
	if (n == 1) {
		const Dwarf_Op *op = &ops[0];

		if (op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg31) {
			out->kind = DWLOC_REG;
			out->reg = op->atom - DW_OP_reg0;
			return;
		}
		if (op->atom == DW_OP_regx) {
			out->kind = DWLOC_REG;
			out->reg = (int)op->number;
			return;
		}
		if (breg_of(op, &reg, &off)) {
			out->kind = DWLOC_MEM;
			out->reg = reg;
			out->off = off;
			return;
		}
		if (op->atom == DW_OP_fbreg) {
			if (!frame_base(fb, nfb, cfa, ncfa, &reg, &off, out))
				return;
			out->kind = DWLOC_MEM;
			out->reg = reg;
			out->off = off + (int64_t)op->number;
			return;
		}
		unsupported(out, "op 0x%x", op->atom);
		return;
	}
	if (n == 2 && ops[1].atom == DW_OP_stack_value) {
		uint64_t v;

		if (literal(&ops[0], &v)) {
			out->kind = DWLOC_CONST;
			out->value = v;
			return;
		}
		/* the value is a register (plus 0): the register itself */
		if (breg_of(&ops[0], &reg, &off) && off == 0) {
			out->kind = DWLOC_REG;
			out->reg = reg;
			return;
		}
		unsupported(out, "computed value (op 0x%x)", ops[0].atom);
		return;
	}
	unsupported(out, "expression of several operations, first 0x%x", ops[0].atom);
}

int dwloc_format(const struct dwloc *l, char *buf, size_t size)
{
	const char *r = dwloc_reg_name(l->reg);

	switch (l->kind) {
	case DWLOC_OUT:
		return snprintf(buf, size, "out");
	case DWLOC_REG:
		return r ? snprintf(buf, size, "reg:%s", r) : snprintf(buf, size, "unsupported");
	case DWLOC_MEM:
		if (!r)
			return snprintf(buf, size, "unsupported");
		return snprintf(buf, size, "mem:%s%+" PRId64, r, l->off);
	case DWLOC_CONST:
		return snprintf(buf, size, "const:%" PRIu64, l->value);
	case DWLOC_UNSUPPORTED:
		break;
	}
	return snprintf(buf, size, "unsupported");
}

int dwloc_parse(const char *s, struct dwloc *out)
{
	char name[8], *end;
	size_t len;

	memset(out, 0, sizeof(*out));
	out->reg = -1;
	if (!strcmp(s, "out")) {
		out->kind = DWLOC_OUT;
		return 0;
	}
	if (!strcmp(s, "unsupported")) {
		out->kind = DWLOC_UNSUPPORTED;
		return 0;
	}
	if (!strncmp(s, "reg:", 4)) {
		out->kind = DWLOC_REG;
		out->reg = dwloc_reg_number(s + 4);
		return out->reg < 0 ? -1 : 0;
	}
	if (!strncmp(s, "const:", 6)) {
		if (s[6] < '0' || s[6] > '9')
			return -1;
		errno = 0;
		out->kind = DWLOC_CONST;
		out->value = strtoull(s + 6, &end, 10);
		return *end || errno ? -1 : 0;
	}
	if (strncmp(s, "mem:", 4))
		return -1;
	s += 4;
	len = strcspn(s, "+-");
	if (!len || len >= sizeof(name) || !s[len] || s[len + 1] < '0' || s[len + 1] > '9')
		return -1;
	memcpy(name, s, len);
	name[len] = 0;
	out->kind = DWLOC_MEM;
	out->reg = dwloc_reg_number(name);
	errno = 0;
	out->off = strtoll(s + len, &end, 10);
	return out->reg < 0 || *end || errno ? -1 : 0;
}
