#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, aligned allocations) made so far by the calling
/// thread. The test binary links this target, whose allocator wrappers count per thread and
/// forward to glibc, so a test can prove a hot path allocates nothing per frame while other
/// tests run in parallel on other threads.
uint64_t ontrack_thread_allocation_count(void);

#endif
