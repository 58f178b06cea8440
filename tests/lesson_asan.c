// SPDX-License-Identifier: GPL-2.0
/*
 * Lessons 5-8 under ASan and UBSan (tests/lessons.sh builds this with the
 * workload sources): each run alone three times, then driven over the step
 * protocol with --gate's driver thread, SIGUSR1 sent every 5 ms to let it
 * go on.  Threads started and stopped, fds opened and closed, in a loop:
 * a leak, a use after free or a lost join shows here.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "lesson_gate.h"

static volatile int done;

static void *poke(void *arg)
{
	(void)arg;
	while (!done) {
		kill(getpid(), SIGUSR1);
		usleep(5000);
	}
	return NULL;
}

int main(void)
{
	static const char *const names[] = { "herd", "nested", "close", "pool" };
	sigset_t usr1;
	pthread_t th;
	int bad = 0;

	for (int r = 0; r < 3; r++)
		for (int i = 0; i < 4; i++) {
			FILE *f = fopen("/dev/null", "w");

			if (!f || !lesson_find(names[i]))
				return 2;
			if (lesson_run(lesson_find(names[i]), -1, f)) {
				fprintf(stderr, "%s failed alone\n", names[i]);
				bad = 1;
			}
			fclose(f);
		}
	/* blocked here first: a signal sent before the driver's sigwait waits */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (pthread_create(&th, NULL, poke, NULL))
		return 2;
	for (int i = 0; i < 4; i++) {
		FILE *f = fopen("/dev/null", "w");

		if (!f)
			return 2;
		if (lesson_run_gated(lesson_find(names[i]), f)) {
			fprintf(stderr, "%s failed driven\n", names[i]);
			bad = 1;
		}
		fclose(f);
	}
	done = 1;
	pthread_join(th, NULL);
	printf("lessons under ASan+UBSan: %s\n", bad ? "failed" : "ok");
	return bad;
}
