// SPDX-License-Identifier: Apache-2.0
//! sub0 and req0 sockets over libnng: the handful of calls a subscriber needs, behind a safe
//! interface. This is the crate's only unsafe code; nothing of it is public.

use std::ffi::{CStr, CString};
use std::fmt;
use std::ops::Deref;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::{self, NonNull};
use std::slice;

/// nng_socket: a struct holding one id, passed by value.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawSocket {
    id: u32,
}

const NNG_FLAG_ALLOC: c_int = 1;
const NNG_FLAG_NONBLOCK: c_int = 2;
const NNG_EINVAL: c_int = 3;
pub const NNG_ETIMEDOUT: c_int = 5;

// Linked by build.rs (-lnng).
extern "C" {
    fn nng_sub0_open(s: *mut RawSocket) -> c_int;
    fn nng_req0_open(s: *mut RawSocket) -> c_int;
    fn nng_send(s: RawSocket, data: *const c_void, sz: usize, flags: c_int) -> c_int;
    fn nng_socket_set(s: RawSocket, opt: *const c_char, val: *const c_void, sz: usize) -> c_int;
    fn nng_socket_set_ms(s: RawSocket, opt: *const c_char, ms: i32) -> c_int;
    fn nng_socket_set_size(s: RawSocket, opt: *const c_char, sz: usize) -> c_int;
    fn nng_dial(s: RawSocket, url: *const c_char, dialer: *mut c_void, flags: c_int) -> c_int;
    fn nng_recv(s: RawSocket, buf: *mut c_void, sz: *mut usize, flags: c_int) -> c_int;
    fn nng_free(p: *mut c_void, sz: usize);
    fn nng_close(s: RawSocket) -> c_int;
    fn nng_strerror(err: c_int) -> *const c_char;
}

/// An nng error number; prints as nng_strerror() words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub c_int);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // nng_strerror returns a static string for every value, known or not.
        let s = unsafe { CStr::from_ptr(nng_strerror(self.0)) };
        f.write_str(&s.to_string_lossy())
    }
}

fn check(rv: c_int) -> Result<(), Error> {
    if rv == 0 {
        Ok(())
    } else {
        Err(Error(rv))
    }
}

/// Option names as nng spells them (NNG_OPT_*), NUL-terminated for C.
const OPT_SUBSCRIBE: &[u8] = b"sub:subscribe\0";
const OPT_RECVMAXSZ: &[u8] = b"recv-size-max\0";
const OPT_RECONNMINT: &[u8] = b"reconnect-time-min\0";
const OPT_RECONNMAXT: &[u8] = b"reconnect-time-max\0";
const OPT_RECVTIMEO: &[u8] = b"recv-timeout\0";
const OPT_SENDTIMEO: &[u8] = b"send-timeout\0";

fn opt(name: &'static [u8]) -> *const c_char {
    debug_assert_eq!(name.last(), Some(&0));
    name.as_ptr().cast()
}

/// An open nng socket of either kind.
pub struct Socket {
    raw: RawSocket,
}

impl Socket {
    /// A sub0 socket: receives what a pub0 socket sends, by topic.
    pub fn sub() -> Result<Socket, Error> {
        let mut raw = RawSocket { id: 0 };
        check(unsafe { nng_sub0_open(&mut raw) })?;
        Ok(Socket { raw })
    }

    /// A req0 socket: one request, one reply.
    pub fn req() -> Result<Socket, Error> {
        let mut raw = RawSocket { id: 0 };
        check(unsafe { nng_req0_open(&mut raw) })?;
        Ok(Socket { raw })
    }

    /// Receives messages whose body starts with topic (empty: all).
    pub fn subscribe(&self, topic: &[u8]) -> Result<(), Error> {
        check(unsafe {
            nng_socket_set(self.raw, opt(OPT_SUBSCRIBE), topic.as_ptr().cast(), topic.len())
        })
    }

    /// Largest message accepted, in bytes; 0 means no limit.
    pub fn set_recv_max(&self, bytes: usize) -> Result<(), Error> {
        check(unsafe { nng_socket_set_size(self.raw, opt(OPT_RECVMAXSZ), bytes) })
    }

    /// How soon, and at most how late, a lost connection is redialled.
    pub fn set_reconnect_ms(&self, min: i32, max: i32) -> Result<(), Error> {
        check(unsafe { nng_socket_set_ms(self.raw, opt(OPT_RECONNMINT), min) })?;
        check(unsafe { nng_socket_set_ms(self.raw, opt(OPT_RECONNMAXT), max) })
    }

    /// How long recv (and send) wait; -1 forever.
    pub fn set_timeout_ms(&self, ms: i32) -> Result<(), Error> {
        check(unsafe { nng_socket_set_ms(self.raw, opt(OPT_RECVTIMEO), ms) })?;
        check(unsafe { nng_socket_set_ms(self.raw, opt(OPT_SENDTIMEO), ms) })
    }

    /// Connects to url. With wait false the first attempt must succeed (the error says why
    /// not); with wait true nng keeps dialling in the background until something listens.
    /// Either way nng redials after later disconnects.
    pub fn dial(&self, url: &str, wait: bool) -> Result<(), Error> {
        let c = CString::new(url).map_err(|_| Error(NNG_EINVAL))?;
        let flags = if wait { NNG_FLAG_NONBLOCK } else { 0 };
        check(unsafe { nng_dial(self.raw, c.as_ptr(), ptr::null_mut(), flags) })
    }

    pub fn send(&self, data: &[u8]) -> Result<(), Error> {
        check(unsafe { nng_send(self.raw, data.as_ptr().cast(), data.len(), 0) })
    }

    /// The next message, waiting for it up to the timeout (NNG_ETIMEDOUT then).
    pub fn recv(&self) -> Result<Msg, Error> {
        let mut p: *mut c_void = ptr::null_mut();
        let mut len = 0usize;
        let buf: *mut *mut c_void = &mut p;
        check(unsafe { nng_recv(self.raw, buf.cast(), &mut len, NNG_FLAG_ALLOC) })?;
        Ok(Msg { ptr: NonNull::new(p.cast()), len })
    }
}

impl Drop for Socket {
    /// nng_close of nng 1.5.2 can hang on a live connection: it runs on a thread of its own,
    /// so that dropping a subscriber never blocks its owner.
    fn drop(&mut self) {
        let raw = self.raw;
        let closing = std::thread::Builder::new()
            .name("nng-close".into())
            .spawn(move || unsafe { nng_close(raw) });
        if closing.is_err() {
            unsafe { nng_close(raw) };
        }
    }
}

/// A received message, in memory nng allocated; freed with nng_free.
pub struct Msg {
    ptr: Option<NonNull<u8>>,
    len: usize,
}

impl Deref for Msg {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self.ptr {
            // nng gave len readable bytes at ptr, ours until Drop.
            Some(p) => unsafe { slice::from_raw_parts(p.as_ptr(), self.len) },
            None => &[],
        }
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        if let Some(p) = self.ptr {
            unsafe { nng_free(p.as_ptr().cast(), self.len) };
        }
    }
}
