/*
 * sleeper: prints "sleeping", then sleeps one second at a time forever
 * (nanosleep, i.e. poll_oneoff with a clock subscription).
 * For wall-time limits: never exits on its own.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    puts("sleeping");
    fflush(stdout);
    for (;;) {
        struct timespec one_second = {.tv_sec = 1, .tv_nsec = 0};
        nanosleep(&one_second, NULL);
    }
}
