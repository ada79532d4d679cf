/*
 * env-args: prints its arguments and its environment, one per line:
 *   argc=N
 *   argv[0]=main.wasm
 *   argv[1]=...
 *   environ=FD_COUNT=3
 *   environ=FD_NAMES=stdin:stdout:stderr
 *   environ=...          (in the order the host gives them)
 * Exit status 0.
 */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e != NULL; e++)
        printf("environ=%s\n", *e);
    return 0;
}
