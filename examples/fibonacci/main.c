/*
 * fibonacci: prints "fib(n) = x" for each n.
 *
 * The numbers come from the arguments (Enarx.toml `args`, i.e. argv[1..];
 * argv[0] is always "main.wasm"). With no arguments, one number is read per
 * line of stdin until end of input; blank lines are skipped.
 *
 * Bad input (anything but a decimal integer from 0 to 93; fib(93) is the
 * largest that fits in 64 bits) prints a message to stderr and exits with
 * status 2. Results already printed for earlier numbers stay printed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 93
#define EXIT_BAD_INPUT 2

static uint64_t fib(unsigned n)
{
    uint64_t a = 0, b = 1;
    while (n--) {
        uint64_t next = a + b;
        a = b;
        b = next;
    }
    return a;
}

/* Accepts only plain decimal digits (no sign, no spaces) with value <= MAX_N. */
static int parse(const char *s, unsigned *out)
{
    unsigned value = 0;
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned)(*p - '0');
        if (value > MAX_N)
            return -1;
    }
    *out = value;
    return 0;
}

static void handle(const char *text)
{
    unsigned n;
    if (parse(text, &n) != 0) {
        fprintf(stderr, "fibonacci: bad input \"%s\": expected an integer from 0 to %d\n",
                text, MAX_N);
        exit(EXIT_BAD_INPUT); /* exit() flushes what stdout already holds */
    }
    printf("fib(%u) = %" PRIu64 "\n", n, fib(n));
}

/* Strips leading and trailing white space (including the newline) in place. */
static char *trim(char *s)
{
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            handle(argv[i]);
        return 0;
    }

    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) != -1) {
        char *text = trim(line);
        if (*text != '\0')
            handle(text);
    }
    if (ferror(stdin)) {
        perror("fibonacci: reading stdin");
        return 1;
    }
    free(line);
    return 0;
}
