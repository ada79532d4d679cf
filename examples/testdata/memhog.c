/*
 * memhog: allocates 1 MiB blocks and touches every page of each, until
 * malloc returns NULL; then prints how far it got and calls abort() (a trap).
 * Run it with a memory limit: without one it grows to wasm32's 4 GiB.
 * Expected under a limit: the runtime's memory-limit message (if the limit
 * stops memory.grow, also "memhog: malloc failed after N MiB" and a trap).
 */
#include <stdio.h>
#include <stdlib.h>

#define CHUNK (1u << 20)
#define PAGE 4096u

int main(void)
{
    void *head = NULL; /* keep every block reachable so none can be elided */
    size_t mib = 0;
    for (;;) {
        volatile char *p = malloc(CHUNK);
        if (p == NULL)
            break;
        for (size_t i = 0; i < CHUNK; i += PAGE)
            p[i] = (char)i; /* make the pages real */
        *(void *volatile *)p = head;
        head = (void *)p;
        mib++;
    }
    printf("memhog: malloc failed after %zu MiB\n", mib);
    fflush(stdout);
    abort();
}
