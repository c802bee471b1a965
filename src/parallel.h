#ifndef MLOPS_PARALLEL_H
#define MLOPS_PARALLEL_H

/*
 * A minimal fork-join helper: run n_tasks independent tasks on a few
 * threads.  Tasks write to their own outputs, so results never depend on
 * which thread ran what; callers that reduce do so in task order, which
 * keeps floating-point results identical for any thread count.
 */

#include <stddef.h>

/* Online CPUs (at least 1). */
size_t parallel_cpus(void);

/*
 * Call fn(arg, worker, task) for every task in [0, n_tasks), on at most
 * n_workers threads (worker in [0, n_workers) names per-thread scratch).
 * Returns 0, or the first non-zero value a task returned (remaining tasks
 * are skipped).
 */
int parallel_run(size_t n_tasks, size_t n_workers,
		 int (*fn)(void *arg, size_t worker, size_t task), void *arg);

#endif
