/* exit3: prints a line, then exit(3). Expected: stdout "exiting with 3\n", exit status 3. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    puts("exiting with 3");
    exit(3); /* flushes stdout, then proc_exit(3) */
}
