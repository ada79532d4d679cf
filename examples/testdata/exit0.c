/*
 * exit0: prints a line, then calls proc_exit(0) explicitly.
 * (Returning 0 from main does not call proc_exit at all, so this is the way
 * to check that a host treats proc_exit(0) as success and not as an error.)
 * Expected: stdout "exiting with proc_exit(0)\n", exit status 0.
 */
#include <stdio.h>
#include <wasi/api.h>

int main(void)
{
    puts("exiting with proc_exit(0)");
    fflush(stdout);
    __wasi_proc_exit(0);
}
