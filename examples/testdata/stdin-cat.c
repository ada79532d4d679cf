/*
 * stdin-cat: copies stdin to stdout byte for byte (fd_read/fd_write) until
 * end of input. Exit 0; exit 1 with a message on a read or write error.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    static char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("stdin-cat: read");
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                perror("stdin-cat: write");
                return 1;
            }
            off += w;
        }
    }
}
