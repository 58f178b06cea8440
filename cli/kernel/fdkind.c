// SPDX-License-Identifier: GPL-2.0
/*
 * Resolve a target's fds to what they are: the /proc/PID/fd link names the
 * object; sockets are looked up by inode in the target's own network
 * namespace tables (/proc/PID/net/{tcp,tcp6,udp,udp6,unix}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "grow.h"
#include "fdkind.h"

struct sock_ent {
	unsigned long inode;
	char kind[16];
	char addr[112];
};

struct fdkind_cache {
	pid_t pid;
	struct sock_ent *socks;
	size_t n, cap;
};

static void add_sock(struct fdkind_cache *c, unsigned long inode, const char *kind,
		     const char *addr)
{
	if (et_grow((void **)&c->socks, &c->cap, c->n + 1, sizeof(*c->socks)))
		return;
	c->socks[c->n].inode = inode;
	snprintf(c->socks[c->n].kind, sizeof(c->socks[0].kind), "%s", kind);
	snprintf(c->socks[c->n].addr, sizeof(c->socks[0].addr), "%s", addr);
	c->n++;
}

/* "0100007F:18EB" (IPv4) or 32 hex digits (IPv6), as the kernel prints them */
static void fmt_addr(const char *hex, char *out, size_t len)
{
	unsigned int port = 0;
	char ip[INET6_ADDRSTRLEN] = "?";
	const char *colon = strchr(hex, ':');

	if (!colon)
		return (void)snprintf(out, len, "?");
	sscanf(colon + 1, "%x", &port);
	if (colon - hex == 8) {
		struct in_addr a;

		sscanf(hex, "%8x", &a.s_addr);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
	} else if (colon - hex == 32) {
		struct in6_addr a;

		for (int i = 0; i < 4; i++)
			sscanf(hex + 8 * i, "%8x", &a.s6_addr32[i]);
		inet_ntop(AF_INET6, &a, ip, sizeof(ip));
	}
	snprintf(out, len, "%s:%u", ip, port);
}

static void load_inet(struct fdkind_cache *c, const char *table, const char *proto)
{
	char path[64], line[512], loc[64], rem[64], a1[52], a2[52], addr[112];
	unsigned long inode;
	unsigned int st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", c->pid, table);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*s %*s %lu", loc, rem, &st,
			   &inode) != 4 || !inode)
			continue;
		fmt_addr(loc, a1, sizeof(a1));
		fmt_addr(rem, a2, sizeof(a2));
		/* TCP_LISTEN is 10; UDP sockets have no peer unless connected */
		if (!strcmp(proto, "tcp") && st == 10) {
			add_sock(c, inode, "tcp-listen", a1);
			continue;
		}
		snprintf(addr, sizeof(addr), "%s -> %s", a1, a2);
		add_sock(c, inode, proto, strstr(a2, ":0") && !strcmp(proto, "udp") ? a1 : addr);
	}
	fclose(f);
}

static void load_unix(struct fdkind_cache *c)
{
	char path[64], line[512], name[108];
	unsigned long inode, flags;
	unsigned int type, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", c->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int n;

		name[0] = '\0';
		n = sscanf(line, "%*s %*s %*s %lx %x %x %lu %107s", &flags, &type, &st, &inode, name);
		if (n < 4)
			continue;
		/* __SO_ACCEPTCON marks a listening socket */
		add_sock(c, inode, flags & 0x10000 ? "unix-listen" :
			 type == 2 ? "unix-dgram" : "unix-stream", name);
	}
	fclose(f);
}

struct fdkind_cache *fdkind_cache_new(pid_t pid)
{
	struct fdkind_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pid = pid;
	load_inet(c, "tcp", "tcp");
	load_inet(c, "tcp6", "tcp");
	load_inet(c, "udp", "udp");
	load_inet(c, "udp6", "udp");
	load_unix(c);
	return c;
}

void fdkind_cache_free(struct fdkind_cache *c)
{
	if (!c)
		return;
	free(c->socks);
	free(c);
}

void fdkind_resolve(struct fdkind_cache *c, int fd, struct fdkind *out)
{
	static const struct {
		const char *prefix;
		const char *kind;
	} anon[] = {
		{ "pipe:", "pipe" },
		{ "anon_inode:[eventfd]", "eventfd" },
		{ "anon_inode:[eventpoll]", "epoll" },
		{ "anon_inode:[timerfd]", "timerfd" },
		{ "anon_inode:[signalfd]", "signalfd" },
		{ "anon_inode:", "anon" },
	};
	char path[64], link[256];
	ssize_t n;
	unsigned long inode;

	snprintf(out->kind, sizeof(out->kind), "?");
	out->addr[0] = '\0';
	if (!c)
		return;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &inode) == 1) {
		snprintf(out->kind, sizeof(out->kind), "socket");
		for (size_t i = 0; i < c->n; i++) {
			if (c->socks[i].inode != inode)
				continue;
			snprintf(out->kind, sizeof(out->kind), "%s", c->socks[i].kind);
			snprintf(out->addr, sizeof(out->addr), "%s", c->socks[i].addr);
			break;
		}
		return;
	}
	for (size_t i = 0; i < sizeof(anon) / sizeof(anon[0]); i++) {
		if (!strncmp(link, anon[i].prefix, strlen(anon[i].prefix))) {
			snprintf(out->kind, sizeof(out->kind), "%s", anon[i].kind);
			return;
		}
	}
	snprintf(out->kind, sizeof(out->kind), "file");
	snprintf(out->addr, sizeof(out->addr), "%.111s", link);
}

bool proc_comm(__u32 pid, __u32 tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	bool ok = false;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ok = true;
	}
	fclose(f);
	return ok;
}
