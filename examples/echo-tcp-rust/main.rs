//! echo-tcp-rust: a TCP echo server on the listen socket named "ingest",
//! written with nothing but Rust's standard library.
//!
//! Enarx gives a workload its sockets already bound and listening, as the file
//! descriptors listed in Enarx.toml: the i-th [[files]] entry is fd i, and
//! FD_NAMES holds their names joined with ':'. We find "ingest" by name and
//! wrap it with `TcpListener::from_raw_fd`.
//!
//! Rust's std reads and writes sockets with the WASI calls fd_read/fd_write
//! (and accepts with sock_accept), where the C twin in ../echo-tcp uses
//! sock_recv/sock_send: together they cover both paths of a WASI host.
//!
//! std on wasm32-wasi has no threads and no poll, so this one serves clients
//! one after the other: a client that disconnects (cleanly or mid-stream) ends
//! its turn and the next queued client is served; a client that stays
//! connected and idle holds the others back. See ../echo-tcp for a server
//! that serves clients concurrently.
//!
//! Runs until killed. Exit status 1 if "ingest" is missing or accept fails
//! for good.

use std::env;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::wasi::io::{FromRawFd, RawFd};
use std::process;

const LISTEN_NAME: &str = "ingest";

/// The fd whose entry in FD_NAMES is `name`.
fn find_fd(name: &str) -> Option<RawFd> {
    let names = env::var("FD_NAMES").ok()?;
    let index = names.split(':').position(|n| n == name)?;
    RawFd::try_from(index).ok()
}

/// Echoes until the client closes its side; returns the number of bytes.
fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn main() {
    let fd = find_fd(LISTEN_NAME).unwrap_or_else(|| {
        eprintln!(
            "echo-tcp-rust: no file named \"{LISTEN_NAME}\" in FD_NAMES \
             (add a listen entry with name = \"{LISTEN_NAME}\" to Enarx.toml)"
        );
        process::exit(1);
    });
    // SAFETY: the runtime pre-opened this fd as a listening TCP socket, and
    // nothing else in this program owns or closes it.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    eprintln!("echo-tcp-rust: serving on fd {fd} (\"{LISTEN_NAME}\")");

    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client vanishing mid-stream is its own problem, not ours.
                if let Err(e) = echo(stream) {
                    eprintln!("echo-tcp-rust: connection ended: {e}");
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => {
                eprintln!("echo-tcp-rust: accept failed: {e}");
                process::exit(1);
            }
        }
    }
}
