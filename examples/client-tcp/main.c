/*
 * client-tcp: sends one line to a server and prints the reply.
 *
 * Enarx connects the socket before the workload starts: the [[files]] entry
 * of kind "connect" named "server" is already a connected TCP stream, found
 * through FD_NAMES ("stdin:stdout:stderr:server" -> fd 3).
 *
 * Sends argv[1] followed by "\n" (default "ping"), then reads until a newline
 * or end of stream and prints what came back to stdout, ending with a
 * newline. Uses wasi-libc's send/recv, i.e. sock_send/sock_recv.
 *
 * Exit status: 0 on a reply; 1 if "server" is missing, the connection fails,
 * or the server closes without replying.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_NAME "server"
#define MAX_REPLY 65536

/* Returns the fd whose entry in FD_NAMES is `name`, or -1. */
static int find_fd(const char *name)
{
    const char *names = getenv("FD_NAMES");
    if (names == NULL)
        return -1;
    size_t len = strlen(name);
    int fd = 0;
    for (const char *p = names;; fd++) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && memcmp(p, name, len) == 0)
            return fd;
        if (end == NULL)
            return -1;
        p = end + 1;
    }
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *message = argc > 1 ? argv[1] : "ping";

    int fd = find_fd(SERVER_NAME);
    if (fd < 0) {
        fprintf(stderr, "client-tcp: no file named \"%s\" in FD_NAMES (add a connect entry "
                        "with name = \"%s\" to Enarx.toml)\n", SERVER_NAME, SERVER_NAME);
        return 1;
    }

    if (send_all(fd, message, strlen(message)) < 0 || send_all(fd, "\n", 1) < 0) {
        perror("client-tcp: send");
        return 1;
    }

    static char reply[MAX_REPLY];
    size_t got = 0;
    while (got < sizeof reply && memchr(reply, '\n', got) == NULL) {
        ssize_t n = recv(fd, reply + got, sizeof reply - got, 0);
        if (n == 0)
            break; /* end of stream */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("client-tcp: recv");
            return 1;
        }
        got += (size_t)n;
    }
    if (got == 0) {
        fprintf(stderr, "client-tcp: the server closed the connection without replying\n");
        return 1;
    }

    /* Print up to and including the first newline (add one if it never came). */
    char *nl = memchr(reply, '\n', got);
    size_t len = nl ? (size_t)(nl - reply) : got;
    printf("%.*s\n", (int)len, reply);
    close(fd);
    return 0;
}
