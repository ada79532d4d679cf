/*
 * hello: the smallest Enarx workload.
 *
 * Writes one line to fd 1, which is the second [[files]] entry of Enarx.toml
 * (kind = "stdout"). Without an Enarx.toml the runtime gives stdin, stdout and
 * stderr, so this works either way.
 *
 * Expected: stdout "Hello, world!\n", exit status 0.
 */
#include <stdio.h>

int main(void)
{
    puts("Hello, world!");
    return 0;
}
