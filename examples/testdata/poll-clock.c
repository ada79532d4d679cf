/*
 * poll-clock: sleeps 50 ms with nanosleep (poll_oneoff on a relative
 * monotonic-clock subscription) and checks on the monotonic clock that at
 * least 50 ms went by.
 * Expected: stdout "slept\n", exit 0. If it woke early: "woke early after
 * N ns" and exit 1. If the clock is missing: a message and exit 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define SLEEP_NS 50000000LL

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
    int64_t start = now_ns();
    struct timespec duration = {.tv_sec = 0, .tv_nsec = SLEEP_NS};
    if (nanosleep(&duration, NULL) != 0) {
        perror("poll-clock: nanosleep");
        return 1;
    }
    int64_t end = now_ns();
    if (start < 0 || end < 0) {
        perror("poll-clock: clock_gettime");
        return 1;
    }
    if (end - start < SLEEP_NS) {
        printf("woke early after %lld ns\n", (long long)(end - start));
        return 1;
    }
    puts("slept");
    return 0;
}
