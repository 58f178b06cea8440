// SPDX-License-Identifier: GPL-2.0
/*
 * The handlers that only fentry/kprobe programs use, wrapped in syscall
 * tracepoint programs so that this machine's verifier (where fentry and
 * kprobes are closed) checks them too.  Loaded by tests/run-all.sh with
 * bpftool; never attached.
 */
#include "handlers.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_close")
int v_done_scan(struct trace_event_raw_sys_enter *ctx)
{
	handle_done_scan(ET_SRC_KPROBE, (void *)ctx->args[0], (void *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int v_callback(struct trace_event_raw_sys_enter *ctx)
{
	handle_callback(ET_SRC_KPROBE, (void *)ctx->args[0], (void *)ctx->args[1], false);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int v_release_file(struct trace_event_raw_sys_enter *ctx)
{
	handle_release_file(ET_SRC_KPROBE, (void *)ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int v_ctl(struct trace_event_raw_sys_enter *ctx)
{
	ctl_enter(ctx->args[0], ctx->args[1], ctx->args[2], (void *)ctx->args[3], 0);
	ctl_exit(ET_SRC_KPROBE, 0);
	return 0;
}
