/*
 * trap: prints a line, then executes `unreachable`.
 * Expected: stdout "about to trap\n", then the runtime reports a trap (with
 * deliberate_trap in the wasm backtrace: this module keeps its name section).
 */
#include <stdio.h>

__attribute__((noinline)) static void deliberate_trap(void)
{
    __builtin_trap(); /* compiles to the wasm `unreachable` instruction */
}

int main(void)
{
    puts("about to trap");
    fflush(stdout);
    deliberate_trap();
    return 0;
}
