/*
 * https-hello: a tiny HTTP server for a TLS listen fd.
 *
 * The Keep terminates TLS with its attested certificate; this workload only ever sees
 * plaintext HTTP. It finds its listener by name in FD_NAMES ("https"), answers every
 * request with a short text body, and closes the connection. Clients are served one at a
 * time: a client that stalls or vanishes only delays or ends its own request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_NAME "https"
#define MAX_REQUEST 8192

static int find_fd(const char *name)
{
    const char *names = getenv("FD_NAMES");
    if (names == NULL)
        return -1;
    int fd = 0;
    size_t len = strlen(name);
    for (const char *p = names;; fd++) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return fd;
        if (end == NULL)
            return -1;
        p = end + 1;
    }
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void serve(int conn)
{
    char request[MAX_REQUEST + 1];
    size_t used = 0;
    /* Read until the end of the request head, or give up on a client that sends junk. */
    while (used < MAX_REQUEST) {
        ssize_t n = recv(conn, request + used, MAX_REQUEST - used, 0);
        if (n <= 0)
            return; /* vanished, reset, or failed the TLS handshake */
        used += (size_t)n;
        request[used] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL)
            break;
    }
    char path[256] = "/";
    sscanf(request, "%*s %255s", path);
    char body[512];
    int body_len = snprintf(body, sizeof body, "Hello from an Enarx Keep! You asked for %s\n", path);
    char head[256];
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                            "Connection: close\r\n\r\n",
                            body_len);
    if (send_all(conn, head, (size_t)head_len) == 0)
        send_all(conn, body, (size_t)body_len);
}

int main(void)
{
    int listen_fd = find_fd(LISTEN_NAME);
    if (listen_fd < 0) {
        fprintf(stderr, "https-hello: no file named \"%s\" in FD_NAMES\n", LISTEN_NAME);
        return 1;
    }
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t addrlen = sizeof addr;
        int conn = accept(listen_fd, (struct sockaddr *)&addr, &addrlen);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("https-hello: accept");
            return 1;
        }
        serve(conn);
        close(conn);
    }
}
