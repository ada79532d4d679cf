/*
 * wasi-probe: exercises the corners of a WASI preview 1 host.
 *
 * Without arguments: calls functions that a host may not support, or calls
 * them on the wrong kind of fd, and prints each result as
 *   <call>: <errno number> (<text>)
 * then "wasi-probe: done" and exits 0. A host passes if it gets to "done";
 * the numbers show what it answered. Every call is harmless whatever the
 * host answers: fds 0-2 are stdio, fd 1000+ do not exist, writes are
 * zero-length. The module imports every one of the 46 preview 1 functions,
 * so it also checks that a host links the whole set.
 *
 * With one argument, NAME: makes the single call NAME with an invalid
 * argument (see `invalid_calls` below: "bad-clock", "wild-iovec", ...), prints
 * "NAME: <errno> (<text>)" and "wasi-probe: done" if the host returned.
 * wasmtime's own WASI traps on every one of these, which is acceptable; an
 * unknown NAME lists the names and exits 2. A host must neither crash nor
 * hang on any of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define BAD_FD 1000

/* Not declared by this wasi-libc's <wasi/api.h>, so imported by hand. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
extern int32_t probe_proc_raise(int32_t signal);

/* path_open's raw import: the <wasi/api.h> wrapper runs strlen() on the path
 * in the guest, which would trap before the host ever saw a wild pointer. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
extern int32_t probe_raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                                   int32_t oflags, int64_t rights_base,
                                   int64_t rights_inheriting, int32_t fdflags, int32_t fd_out);

/* A guest address past the end of linear memory (wasm32: 4 GiB - 16). */
#define WILD ((void *)(uintptr_t)0xfffffff0u)

static void show(const char *call, __wasi_errno_t err)
{
    printf("%s: %d (%s)\n", call, (int)err, strerror(err));
    fflush(stdout);
}

/* environ_get (or args_get) into buffers of the sizes the host reported. */
static __wasi_errno_t get_strings(int environ)
{
    __wasi_size_t count = 0, bytes = 0;
    __wasi_errno_t err = environ ? __wasi_environ_sizes_get(&count, &bytes)
                                 : __wasi_args_sizes_get(&count, &bytes);
    if (err != 0)
        return err;
    uint8_t **ptrs = malloc((count + 1) * sizeof *ptrs);
    uint8_t *data = malloc(bytes + 1);
    if (ptrs == NULL || data == NULL)
        return __WASI_ERRNO_NOMEM;
    err = environ ? __wasi_environ_get(ptrs, data) : __wasi_args_get(ptrs, data);
    free(ptrs);
    free(data);
    return err;
}

/* Calls with an invalid argument, one per run (a host may trap on them). */
static __wasi_errno_t invalid_call(const char *name)
{
    uint8_t buf[64];
    __wasi_size_t size = 0;
    __wasi_timestamp_t ts = 0;
    __wasi_filesize_t pos = 0;
    __wasi_fd_t fd = 0;
    __wasi_ciovec_t wild_buffer = {.buf = WILD, .buf_len = 64};

    if (strcmp(name, "bad-clock") == 0)        /* clock id outside the enum */
        return __wasi_clock_time_get(99, 1, &ts);
    if (strcmp(name, "bad-whence") == 0)       /* whence outside the enum */
        return __wasi_fd_seek(1, 0, 7, &pos);
    if (strcmp(name, "bad-advice") == 0)       /* advice outside the enum */
        return __wasi_fd_advise(1, 0, 0, 99);
    if (strcmp(name, "wild-iovec") == 0)       /* iovec array out of bounds */
        return __wasi_fd_write(1, WILD, 1, &size);
    if (strcmp(name, "wild-buffer") == 0)      /* iovec buffer out of bounds */
        return __wasi_fd_write(1, &wild_buffer, 1, &size);
    if (strcmp(name, "wild-path") == 0)        /* path string out of bounds (fd 3 may not exist) */
        return (__wasi_errno_t)probe_raw_path_open(
            3, 0, (int32_t)(uintptr_t)WILD, 8, 0, (int64_t)__WASI_RIGHTS_FD_READ, 0, 0,
            (int32_t)(uintptr_t)&fd);
    if (strcmp(name, "wild-random") == 0)      /* random_get buffer out of bounds */
        return __wasi_random_get(WILD, 64);
    (void)buf;
    return (__wasi_errno_t)-1;
}

static const char *const invalid_calls[] = {
    "bad-clock", "bad-whence", "bad-advice", "wild-iovec", "wild-buffer", "wild-path",
    "wild-random",
};

int main(int argc, char **argv)
{
    if (argc > 1) {
        __wasi_errno_t err = invalid_call(argv[1]);
        if (err == (__wasi_errno_t)-1) {
            fprintf(stderr, "wasi-probe: unknown call \"%s\"; one of:", argv[1]);
            for (size_t i = 0; i < sizeof invalid_calls / sizeof *invalid_calls; i++)
                fprintf(stderr, " %s", invalid_calls[i]);
            fputc('\n', stderr);
            return 2;
        }
        show(argv[1], err);
        puts("wasi-probe: done");
        return 0;
    }

    uint8_t buf[64];
    __wasi_size_t size = 0;
    __wasi_fd_t fd = 0;
    __wasi_filesize_t pos = 0;
    __wasi_timestamp_t ts = 0;
    __wasi_prestat_t prestat;
    __wasi_fdstat_t fdstat;
    __wasi_filestat_t filestat;
    __wasi_iovec_t iov = {.buf = buf, .buf_len = sizeof buf};
    __wasi_ciovec_t empty = {.buf = buf, .buf_len = 0};
    __wasi_riflags_t roflags = 0;
    __wasi_subscription_t sub;
    __wasi_event_t event;

    /* Unusual file operations on stdout / stdin. */
    show("fd_advise(1)", __wasi_fd_advise(1, 0, 0, __WASI_ADVICE_NORMAL));
    show("fd_allocate(1)", __wasi_fd_allocate(1, 0, 16));
    show("fd_datasync(1)", __wasi_fd_datasync(1));
    show("fd_sync(1)", __wasi_fd_sync(1));
    show("fd_fdstat_get(1)", __wasi_fd_fdstat_get(1, &fdstat));
    show("fd_fdstat_set_rights(0)", __wasi_fd_fdstat_set_rights(0, 0, 0));
    show("fd_filestat_get(1)", __wasi_fd_filestat_get(1, &filestat));
    show("fd_filestat_set_size(1)", __wasi_fd_filestat_set_size(1, 0));
    show("fd_filestat_set_times(1)", __wasi_fd_filestat_set_times(1, 0, 0, 0));
    show("fd_pread(1)", __wasi_fd_pread(1, &iov, 1, 0, &size));
    show("fd_pwrite(0, empty)", __wasi_fd_pwrite(0, &empty, 1, 0, &size));
    show("fd_readdir(1)", __wasi_fd_readdir(1, buf, sizeof buf, 0, &size));
    show("fd_seek(1)", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos));
    show("fd_tell(1)", __wasi_fd_tell(1, &pos));
    show("fd_prestat_get(1)", __wasi_fd_prestat_get(1, &prestat));
    show("fd_prestat_dir_name(1)", __wasi_fd_prestat_dir_name(1, buf, sizeof buf));

    /* Path operations on a fd that is not a directory. */
    show("path_create_directory(1)", __wasi_path_create_directory(1, "x"));
    show("path_filestat_get(1)", __wasi_path_filestat_get(1, 0, "x", &filestat));
    show("path_filestat_set_times(1)", __wasi_path_filestat_set_times(1, 0, "x", 0, 0, 0));
    show("path_link(1)", __wasi_path_link(1, 0, "a", 1, "b"));
    show("path_open(1)", __wasi_path_open(1, 0, "x", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
    show("path_readlink(1)", __wasi_path_readlink(1, "x", buf, sizeof buf, &size));
    show("path_remove_directory(1)", __wasi_path_remove_directory(1, "x"));
    show("path_rename(1)", __wasi_path_rename(1, "a", 1, "b"));
    show("path_symlink(1)", __wasi_path_symlink("a", 1, "b"));
    show("path_unlink_file(1)", __wasi_path_unlink_file(1, "x"));

    /* Socket calls on fds that are not sockets. */
    show("sock_accept(0)", __wasi_sock_accept(0, 0, &fd));
    show("sock_recv(0)", __wasi_sock_recv(0, &iov, 1, 0, &size, &roflags));
    show("sock_send(1, empty)", __wasi_sock_send(1, &empty, 1, 0, &size));
    show("sock_shutdown(1)", __wasi_sock_shutdown(1, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR));

    /* Descriptors that do not exist. */
    show("fd_close(1000)", __wasi_fd_close(BAD_FD));
    show("fd_renumber(1000, 1001)", __wasi_fd_renumber(BAD_FD, BAD_FD + 1));
    show("fd_write(1000, empty)", __wasi_fd_write(BAD_FD, &empty, 1, &size));
    show("fd_read(1000)", __wasi_fd_read(BAD_FD, &iov, 1, &size));
    show("fd_fdstat_set_flags(1000)", __wasi_fd_fdstat_set_flags(BAD_FD, 0));

    /* Odd but valid requests. */
    show("poll_oneoff(0 subscriptions)", __wasi_poll_oneoff(&sub, &event, 0, &size));
    show("proc_raise(SIGINT)", (__wasi_errno_t)probe_proc_raise(2));

    /* Calls that should simply work. */
    show("clock_res_get(monotonic)", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &ts));
    show("sched_yield()", __wasi_sched_yield());
    show("random_get(0 bytes)", __wasi_random_get(buf, 0));
    show("args_get()", get_strings(0));
    show("environ_get()", get_strings(1));

    puts("wasi-probe: done");
    return 0;
}
