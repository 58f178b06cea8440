// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF side of `make bench`: what a tracer attached, empty programs on the
 * same points (the floor), and what each program cost.
 *
 *   bpfbench points PID      one line per attach point of PID's BPF programs:
 *                            "POINT PROG_ID PROG_NAME", POINT one of
 *                            tp:CATEGORY/NAME, raw:NAME, tp_btf:NAME,
 *                            fentry:FUNC, fexit:FUNC, kprobe:FUNC+OFF,
 *                            kretprobe:FUNC (iterators are not points)
 *   bpfbench floor POINT...  load an empty program (r0 = 0; exit) of the
 *                            matching type on each POINT, print "ready N",
 *                            then wait for SIGINT/SIGTERM
 *   bpfbench stats PID...    one JSON line per BPF program PID holds:
 *                            id, name, type, run_cnt, run_time_ns
 *                            (non-zero only with kernel.bpf_stats_enabled=1)
 *
 * The points are read from the tracer's own fds (BPF_TASK_FD_QUERY for perf
 * events and raw tracepoint links, the link's info for fentry/fexit), not
 * from its internals, so the floor follows whatever the tracer attaches.
 * Static-linkable for the QEMU guests, which have no bpftool.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static const char *prog_type_name(__u32 t)
{
	switch (t) {
	case BPF_PROG_TYPE_KPROBE: return "kprobe";
	case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint";
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return "raw_tracepoint";
	case BPF_PROG_TYPE_TRACING: return "tracing";
	case BPF_PROG_TYPE_PERF_EVENT: return "perf_event";
	default: return "other";
	}
}

static int prog_info(__u32 id, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);
	int fd = bpf_prog_get_fd_by_id(id);
	int err;

	if (fd < 0)
		return -1;
	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(fd, info, &len);
	close(fd);
	return err;
}

/*
 * The program's full name: the kernel keeps 15 characters of it, the BTF of
 * its first function (func_info) has all of it, as bpftool shows it.
 */
static const char *full_name(__u32 id, const struct bpf_prog_info *pi)
{
	static char name[128];
	struct bpf_func_info fi[1];
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct btf *btf;
	const struct btf_type *t;
	int fd;

	snprintf(name, sizeof(name), "%s", pi->name);
	if (!pi->btf_id || pi->nr_func_info < 1 || strlen(pi->name) < BPF_OBJ_NAME_LEN - 1)
		return name;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return name;
	memset(&info, 0, sizeof(info));
	info.nr_func_info = 1;
	info.func_info_rec_size = sizeof(fi[0]);
	info.func_info = (unsigned long)fi;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		btf = btf__load_from_kernel_by_id(pi->btf_id);
		if (!libbpf_get_error(btf)) {
			t = btf__type_by_id(btf, fi[0].type_id);
			if (t)
				snprintf(name, sizeof(name), "%s", btf__name_by_offset(btf, t->name_off));
			btf__free(btf);
		}
	}
	close(fd);
	return name;
}

/* A tracepoint's category: its directory under events/ (the fd query gives the name only) */
static const char *tp_category(const char *name)
{
	static char cat[256];
	const char *roots[] = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };

	for (unsigned r = 0; r < 2; r++) {
		DIR *d = opendir(roots[r]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			char p[1024];

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s/%s/id", roots[r], e->d_name, name);
			if (access(p, R_OK) == 0) {
				snprintf(cat, sizeof(cat), "%s", e->d_name);
				closedir(d);
				return cat;
			}
		}
		closedir(d);
	}
	return "?";
}

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;

	if (!btf)
		btf = btf__load_vmlinux_btf();
	return libbpf_get_error(btf) ? NULL : btf;
}

static int cmd_points(int pid)
{
	char dir[64], path[384], target[128], buf[256];
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "bpfbench: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		__u32 prog_id = 0, fd_type = 0, len = sizeof(buf);
		__u64 off = 0, addr = 0;
		struct bpf_prog_info pi;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strstr(target, "perf_event") && !strstr(target, "bpf_link"))
			continue;
		buf[0] = 0;
		if (bpf_task_fd_query(pid, fd, 0, buf, &len, &prog_id, &fd_type, &off, &addr) == 0) {
			if (prog_info(prog_id, &pi))
				continue;
			switch (fd_type) {
			case BPF_FD_TYPE_TRACEPOINT:
				printf("tp:%s/%s", tp_category(buf), buf);
				break;
			case BPF_FD_TYPE_RAW_TRACEPOINT:
				printf("%s:%s", pi.type == BPF_PROG_TYPE_TRACING ? "tp_btf" : "raw", buf);
				break;
			case BPF_FD_TYPE_KPROBE:
				if (buf[0])
					printf("kprobe:%s+%llu", buf, (unsigned long long)off);
				else
					printf("kprobe:0x%llx", (unsigned long long)addr);
				break;
			case BPF_FD_TYPE_KRETPROBE:
				printf("kretprobe:%s", buf);
				break;
			default:
				continue;	/* uprobes: not ours */
			}
			printf(" %u %s\n", prog_id, full_name(prog_id, &pi));
			continue;
		}
		/* fentry/fexit links: the fd query does not know them; the link's info does */
		if (pidfd >= 0 && strstr(target, "bpf_link")) {
			struct bpf_link_info li;
			__u32 ll = sizeof(li);
			int lfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
			const struct btf_type *t;
			struct btf *btf;

			if (lfd < 0)
				continue;
			memset(&li, 0, sizeof(li));
			if (bpf_obj_get_info_by_fd(lfd, &li, &ll) == 0 &&
			    li.type == BPF_LINK_TYPE_TRACING && (btf = vmlinux_btf()) &&
			    (t = btf__type_by_id(btf, li.tracing.target_btf_id)) &&
			    prog_info(li.prog_id, &pi) == 0) {
				const char *kind = li.tracing.attach_type == BPF_TRACE_FEXIT ? "fexit" :
						   li.tracing.attach_type == BPF_TRACE_FENTRY ? "fentry" :
						   li.tracing.attach_type == BPF_MODIFY_RETURN ? "fmod_ret" :
						   "tracing";

				printf("%s:%s %u %s\n", kind, btf__name_by_offset(btf, t->name_off),
				       li.prog_id, full_name(li.prog_id, &pi));
			}
			close(lfd);
		}
	}
	closedir(d);
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

static int perf_open(struct perf_event_attr *a)
{
	return syscall(SYS_perf_event_open, a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static int read_int_file(const char *path, long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%ld", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* An empty program of the type the point needs, attached; -1 and a message if not */
static int attach_empty(const char *point, __u32 *id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	char kind[32], name[200], path[512];
	enum bpf_prog_type type;
	struct perf_event_attr pa;
	const char *arg;
	unsigned long long off = 0;
	int prog, fd = -1;
	long v;

	arg = strchr(point, ':');
	if (!arg || arg - point >= (long)sizeof(kind)) {
		fprintf(stderr, "bpfbench: bad point '%s'\n", point);
		return -1;
	}
	snprintf(kind, sizeof(kind), "%.*s", (int)(arg - point), point);
	snprintf(name, sizeof(name), "%s", arg + 1);
	memset(&pa, 0, sizeof(pa));
	pa.size = sizeof(pa);
	if (!strcmp(kind, "tp")) {
		char *slash = strchr(name, '/');

		if (!slash) {
			fprintf(stderr, "bpfbench: tp:CATEGORY/NAME expected, not '%s'\n", point);
			return -1;
		}
		*slash = ':';
		type = BPF_PROG_TYPE_TRACEPOINT;
	} else if (!strcmp(kind, "raw")) {
		type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	} else if (!strcmp(kind, "tp_btf") || !strcmp(kind, "fentry") || !strcmp(kind, "fexit")) {
		struct btf *btf = vmlinux_btf();
		char tn[256];
		int bid;

		if (!btf) {
			fprintf(stderr, "bpfbench: no vmlinux BTF for %s\n", point);
			return -1;
		}
		type = BPF_PROG_TYPE_TRACING;
		if (!strcmp(kind, "tp_btf")) {
			snprintf(tn, sizeof(tn), "btf_trace_%s", name);
			bid = btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF);
			o.expected_attach_type = BPF_TRACE_RAW_TP;
		} else {
			bid = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
			o.expected_attach_type = kind[1] == 'e' ? BPF_TRACE_FENTRY : BPF_TRACE_FEXIT;
		}
		if (bid < 0) {
			fprintf(stderr, "bpfbench: %s: not in the kernel's BTF\n", point);
			return -1;
		}
		o.attach_btf_id = bid;
	} else if (!strcmp(kind, "kprobe") || !strcmp(kind, "kretprobe")) {
		char *plus = strchr(name, '+');

		if (plus) {
			*plus = 0;
			off = strtoull(plus + 1, NULL, 0);
		}
		type = BPF_PROG_TYPE_KPROBE;
	} else {
		fprintf(stderr, "bpfbench: unknown kind in '%s'\n", point);
		return -1;
	}
	prog = bpf_prog_load(type, "floor", "GPL", insns, 2, &o);
	if (prog < 0) {
		fprintf(stderr, "bpfbench: %s: load failed: %s\n", point, strerror(errno));
		return -1;
	}
	switch (type) {
	case BPF_PROG_TYPE_TRACEPOINT: {
		char *c = strchr(name, ':');

		*c = 0;
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s/id", name, c + 1);
		if (read_int_file(path, &v)) {
			snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s/id",
				 name, c + 1);
			if (read_int_file(path, &v)) {
				fprintf(stderr, "bpfbench: %s: no tracepoint id\n", point);
				return -1;
			}
		}
		pa.type = PERF_TYPE_TRACEPOINT;
		pa.config = v;
		break;
	}
	case BPF_PROG_TYPE_KPROBE:
		if (read_int_file("/sys/bus/event_source/devices/kprobe/type", &v)) {
			fprintf(stderr, "bpfbench: %s: no kprobe PMU\n", point);
			return -1;
		}
		pa.type = v;
		if (kind[1] == 'r')
			pa.config = 1;	/* format/retprobe: config:0 on every kernel we run */
		pa.config1 = (unsigned long)name;
		pa.config2 = off;
		break;
	default:
		fd = bpf_raw_tracepoint_open(type == BPF_PROG_TYPE_RAW_TRACEPOINT ? name : NULL,
					     prog);
		if (fd < 0) {
			fprintf(stderr, "bpfbench: %s: attach failed: %s\n", point, strerror(errno));
			return -1;
		}
		goto done;
	}
	pa.sample_period = 1;
	pa.wakeup_events = 1;
	fd = perf_open(&pa);
	if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		fprintf(stderr, "bpfbench: %s: attach failed: %s\n", point, strerror(errno));
		return -1;
	}
done:
	{
		struct bpf_prog_info pi;
		__u32 len = sizeof(pi);

		memset(&pi, 0, sizeof(pi));
		if (bpf_obj_get_info_by_fd(prog, &pi, &len) == 0)
			*id = pi.id;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

static int cmd_floor(int n, char **points)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t set, old;
	int ok = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; i < n; i++) {
		__u32 id = 0;

		if (attach_empty(points[i], &id) == 0) {
			printf("point %s %u\n", points[i], id);
			ok++;
		}
	}
	printf("ready %d\n", ok);
	fflush(stdout);
	if (ok == 0)
		return 1;
	sigsuspend(&old);
	return 0;
}

static int cmd_stats(int n, char **pids)
{
	for (int i = 0; i < n; i++) {
		char dir[64], path[384], line[256];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", pids[i]);
		d = opendir(dir);
		if (!d) {
			fprintf(stderr, "bpfbench: %s: %s\n", dir, strerror(errno));
			return 1;
		}
		while ((e = readdir(d))) {
			struct bpf_prog_info pi;
			unsigned id = 0;
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "prog_id: %u", &id) == 1)
					break;
			fclose(f);
			if (!id || prog_info(id, &pi))
				continue;
			printf("{\"pid\":%s,\"fd\":%s,\"id\":%u,\"name\":\"%s\",\"type\":\"%s\","
			       "\"run_cnt\":%llu,\"run_time_ns\":%llu}\n", pids[i], e->d_name, id,
			       full_name(id, &pi), prog_type_name(pi.type), (unsigned long long)pi.run_cnt,
			       (unsigned long long)pi.run_time_ns);
		}
		closedir(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "points"))
		return cmd_points(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "floor"))
		return cmd_floor(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	fprintf(stderr, "usage: bpfbench points PID | floor POINT... | stats PID...\n");
	return 2;
}
