/*
 * echo-tcp: a TCP echo server on the listen socket named "ingest".
 *
 * Enarx gives a workload its sockets already bound and listening, as the file
 * descriptors listed in Enarx.toml: the i-th [[files]] entry is fd i, and the
 * environment variable FD_NAMES holds their names joined with ':'. With the
 * Enarx.toml next to this file FD_NAMES is "stdin:stdout:stderr:ingest", so
 * the listener is fd 3; we look it up by name rather than hard-coding 3.
 *
 * Clients are served concurrently with poll(): each connection has its own
 * buffer, and a client that stops reading or vanishes mid-stream only ends
 * its own connection. Bytes are echoed back until the client closes its side.
 *
 * This uses wasi-libc's accept4/recv/send, i.e. the WASI calls sock_accept,
 * sock_recv and sock_send, plus poll_oneoff. The Rust twin in ../echo-tcp-rust
 * reads and writes the same kind of socket with fd_read/fd_write instead.
 *
 * Runs until killed. Exit status 1 if "ingest" is missing or the listener
 * fails for good.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_NAME "ingest"
#define MAX_CONNS 64
#define BUF_SIZE 65536

struct conn {
    int fd;
    size_t len; /* bytes in buf still to be echoed ... */
    size_t off; /* ... starting at buf[off] */
    unsigned char *buf;
};

static struct conn conns[MAX_CONNS];
static int nconns;

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

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void close_conn(struct conn *c)
{
    close(c->fd);
    free(c->buf);
    c->fd = -1; /* removed from the table after the current poll round */
}

/* Sends what is pending; returns 0, or -1 if the connection is finished. */
static int flush_conn(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, 0);
        if (n < 0)
            return would_block() ? 0 : -1; /* EAGAIN: poll for POLLOUT */
        c->off += (size_t)n;
    }
    c->len = c->off = 0;
    return 0;
}

/* Reads one chunk and starts echoing it; returns -1 on EOF or error. */
static int read_conn(struct conn *c)
{
    ssize_t n = recv(c->fd, c->buf, BUF_SIZE, 0);
    if (n == 0)
        return -1; /* the client closed its side; everything was echoed */
    if (n < 0)
        return would_block() ? 0 : -1; /* ECONNRESET etc.: drop this client */
    c->len = (size_t)n;
    c->off = 0;
    return flush_conn(c); /* usually completes without another poll round */
}

static void accept_conn(int listen_fd)
{
    struct sockaddr_storage addr; /* wasi-libc writes to it: must not be NULL */
    socklen_t addrlen = sizeof addr;
    /* Non-blocking, so one slow client cannot stall the others. */
    int fd = accept4(listen_fd, (struct sockaddr *)&addr, &addrlen, SOCK_NONBLOCK);
    if (fd < 0) {
        if (would_block() || errno == ECONNABORTED)
            return; /* the client left before we accepted it */
        perror("echo-tcp: accept");
        exit(1);
    }
    unsigned char *buf = malloc(BUF_SIZE);
    if (buf == NULL) {
        fprintf(stderr, "echo-tcp: out of memory, dropping a client\n");
        close(fd);
        return;
    }
    conns[nconns++] = (struct conn){.fd = fd, .len = 0, .off = 0, .buf = buf};
}

int main(void)
{
    int listen_fd = find_fd(LISTEN_NAME);
    if (listen_fd < 0) {
        fprintf(stderr, "echo-tcp: no file named \"%s\" in FD_NAMES (add a listen entry "
                        "with name = \"%s\" to Enarx.toml)\n", LISTEN_NAME, LISTEN_NAME);
        return 1;
    }
    fprintf(stderr, "echo-tcp: serving on fd %d (\"%s\")\n", listen_fd, LISTEN_NAME);

    struct pollfd pfds[MAX_CONNS + 1];
    for (;;) {
        /* pfds[0] is the listener (ignored when the table is full: fd -1);
         * pfds[i + 1] is conns[i]. A connection with bytes still to echo
         * waits to be writable and reads nothing more until they are sent,
         * so a client that does not read gets backpressure, not unbounded
         * buffering. */
        pfds[0] = (struct pollfd){.fd = nconns < MAX_CONNS ? listen_fd : -1, .events = POLLIN};
        for (int i = 0; i < nconns; i++) {
            pfds[i + 1] = (struct pollfd){
                .fd = conns[i].fd,
                .events = conns[i].off < conns[i].len ? POLLOUT : POLLIN,
            };
        }
        if (poll(pfds, (nfds_t)nconns + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("echo-tcp: poll");
            return 1;
        }

        int listener_ready = pfds[0].revents != 0;
        for (int i = 0; i < nconns; i++) {
            struct conn *c = &conns[i];
            if (pfds[i + 1].revents == 0)
                continue;
            /* Whatever the event (data, hang-up, error), the next call on the
             * socket tells us what happened. */
            int rc = c->off < c->len ? flush_conn(c) : read_conn(c);
            if (rc < 0)
                close_conn(c);
        }
        /* Compact the table, dropping closed connections. */
        int kept = 0;
        for (int i = 0; i < nconns; i++)
            if (conns[i].fd >= 0)
                conns[kept++] = conns[i];
        nconns = kept;

        if (listener_ready && nconns < MAX_CONNS)
            accept_conn(listen_fd);
    }
}
