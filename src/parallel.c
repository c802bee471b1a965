/*
 * Fork-join over a shared task counter.  Threads are created per call:
 * callers run a handful of passes over large data, so the creation cost
 * (tens of microseconds) is noise, and no pool outlives its work.
 */

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "parallel.h"
#include "xalloc.h"

struct job {
	int (*fn)(void *arg, size_t worker, size_t task);
	void *arg;
	size_t n_tasks;
	size_t next;
	int status;
	pthread_mutex_t lock;
};

struct worker {
	struct job *job;
	size_t index;
	pthread_t thread;
};

size_t parallel_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (size_t)n : 1;
}

static void *work(void *p)
{
	struct worker *w = p;
	struct job *job = w->job;

	for (;;) {
		size_t task;
		int ret;

		pthread_mutex_lock(&job->lock);
		if (job->status || job->next >= job->n_tasks) {
			pthread_mutex_unlock(&job->lock);
			return NULL;
		}
		task = job->next++;
		pthread_mutex_unlock(&job->lock);
		ret = job->fn(job->arg, w->index, task);
		if (ret) {
			pthread_mutex_lock(&job->lock);
			if (!job->status)
				job->status = ret;
			pthread_mutex_unlock(&job->lock);
		}
	}
}

int parallel_run(size_t n_tasks, size_t n_workers,
		 int (*fn)(void *arg, size_t worker, size_t task), void *arg)
{
	struct job job = { fn, arg, n_tasks, 0, 0, PTHREAD_MUTEX_INITIALIZER };
	struct worker *w;
	size_t i, started = 0;

	if (n_workers > n_tasks)
		n_workers = n_tasks;
	if (n_workers <= 1) {
		struct worker one = { &job, 0, 0 };

		work(&one);
		return job.status;
	}
	w = xcalloc(n_workers, sizeof(*w));
	for (i = 1; i < n_workers; i++) {
		w[i].job = &job;
		w[i].index = i;
		if (pthread_create(&w[i].thread, NULL, work, &w[i]))
			break;	/* fewer threads is still correct */
		started = i;
	}
	w[0].job = &job;
	w[0].index = 0;
	work(&w[0]);
	for (i = 1; i <= started; i++)
		pthread_join(w[i].thread, NULL);
	free(w);
	return job.status;
}
