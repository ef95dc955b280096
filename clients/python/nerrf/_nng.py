# SPDX-License-Identifier: Apache-2.0
"""The few libnng calls a nerrf subscriber makes, through ctypes.

Debian has no pynng; libnng1 is all that is needed at run time. Only what
the package uses is bound: sub0 and req0 sockets, dialing (plain and TLS),
socket options, send and receive. Every failure is an NngError carrying
nng's error number, so callers can say what it means for them.
"""
import ctypes
import ctypes.util

# nng.h's error numbers that callers tell apart.
ETIMEDOUT = 5
ECONNREFUSED = 6
ENOENT = 12
EPERM = 16
ECRYPTO = 26
EPEERAUTH = 27

FLAG_ALLOC = 1
FLAG_NONBLOCK = 2
_TLS_MODE_CLIENT = 0
_TLS_AUTH_MODE_REQUIRED = 2

_lib = None


class NngError(OSError):
    """An nng call failed; errno is nng's error number (ETIMEDOUT, ECONNREFUSED...)."""

    def __init__(self, rv, what):
        super().__init__(rv, "%s: %s" % (what, lib().nng_strerror(rv).decode()))


def lib():
    """libnng, loaded and prototyped on first use."""
    global _lib
    if _lib is not None:
        return _lib
    name = ctypes.util.find_library("nng") or "libnng.so.1"
    try:
        l = ctypes.CDLL(name)
    except OSError as e:
        raise ImportError("nerrf: cannot load libnng (%s): apt-get install libnng1" % e) from None
    u32, vp, cp, sz = ctypes.c_uint32, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    # nng_socket and nng_dialer are structs of one uint32: passed like a uint32.
    for fn, args in (("nng_sub0_open", [ctypes.POINTER(u32)]),
                     ("nng_req0_open", [ctypes.POINTER(u32)]),
                     ("nng_socket_set", [u32, cp, vp, sz]),
                     ("nng_socket_set_ms", [u32, cp, ctypes.c_int32]),
                     ("nng_socket_set_int", [u32, cp, ctypes.c_int]),
                     ("nng_socket_set_size", [u32, cp, sz]),
                     ("nng_dial", [u32, cp, vp, ctypes.c_int]),
                     ("nng_send", [u32, vp, sz, ctypes.c_int]),
                     ("nng_recv", [u32, vp, ctypes.POINTER(sz), ctypes.c_int]),
                     ("nng_free", [vp, sz]),
                     ("nng_close", [u32]),
                     ("nng_strerror", [ctypes.c_int]),
                     ("nng_dialer_create", [ctypes.POINTER(u32), u32, cp]),
                     ("nng_dialer_set_ptr", [u32, cp, vp]),
                     ("nng_dialer_start", [u32, ctypes.c_int]),
                     ("nng_tls_config_alloc", [ctypes.POINTER(vp), ctypes.c_int]),
                     ("nng_tls_config_own_cert", [vp, cp, cp, cp]),
                     ("nng_tls_config_ca_chain", [vp, cp, cp]),
                     ("nng_tls_config_server_name", [vp, cp]),
                     ("nng_tls_config_auth_mode", [vp, ctypes.c_int]),
                     ("nng_tls_config_free", [vp])):
        getattr(l, fn).argtypes = args
    l.nng_strerror.restype = cp
    _lib = l
    return l


def _check(rv, what):
    if rv != 0:
        raise NngError(rv, what)


class Socket:
    """An nng socket of protocol "sub0" or "req0"."""

    def __init__(self, protocol):
        l, s = lib(), ctypes.c_uint32()
        _check(getattr(l, "nng_%s_open" % protocol)(ctypes.byref(s)), "nng_%s_open" % protocol)
        self._l, self.id = l, s.value
        self._buf, self._size = ctypes.c_void_p(), ctypes.c_size_t()

    def set(self, opt, value):
        """A byte-string option (sub:subscribe)."""
        _check(self._l.nng_socket_set(self.id, opt.encode(), value, len(value)), opt)

    def set_ms(self, opt, ms):
        _check(self._l.nng_socket_set_ms(self.id, opt.encode(), int(ms)), opt)

    def set_int(self, opt, v):
        _check(self._l.nng_socket_set_int(self.id, opt.encode(), int(v)), opt)

    def set_size(self, opt, v):
        _check(self._l.nng_socket_set_size(self.id, opt.encode(), int(v)), opt)

    def dial(self, url, block=True):
        """block: the first attempt's failure is raised; otherwise nng retries until it works.
        Either way nng redials when an established connection drops."""
        _check(self._l.nng_dial(self.id, url.encode(), None, 0 if block else FLAG_NONBLOCK),
               "dial " + url)

    def dial_tls(self, url, ca, cert=None, key=None, server_name=None, block=True):
        """Dials tls+tcp://, verifying the peer against the PEM bytes ca and showing cert/key."""
        l, cfg, d = self._l, ctypes.c_void_p(), ctypes.c_uint32()
        _check(l.nng_tls_config_alloc(ctypes.byref(cfg), _TLS_MODE_CLIENT), "TLS")
        try:
            if cert:
                _check(l.nng_tls_config_own_cert(cfg, cert, key, None), "TLS certificate/key")
            _check(l.nng_tls_config_ca_chain(cfg, ca, None), "TLS CA")
            _check(l.nng_tls_config_server_name(cfg, server_name.encode()), "TLS server name")
            _check(l.nng_tls_config_auth_mode(cfg, _TLS_AUTH_MODE_REQUIRED), "TLS")
            _check(l.nng_dialer_create(ctypes.byref(d), self.id, url.encode()), url)
            _check(l.nng_dialer_set_ptr(d.value, b"tls-config", cfg), "TLS")
        finally:
            l.nng_tls_config_free(cfg)  # the dialer holds its own reference
        _check(l.nng_dialer_start(d.value, 0 if block else FLAG_NONBLOCK), "TLS dial " + url)

    def send(self, data):
        _check(self._l.nng_send(self.id, data, len(data), 0), "send")

    def recv(self):
        """One message as bytes; NngError(ETIMEDOUT) after the recv-timeout option's time."""
        buf, size = self._buf, self._size
        rv = self._l.nng_recv(self.id, ctypes.byref(buf), ctypes.byref(size), FLAG_ALLOC)
        if rv != 0:
            raise NngError(rv, "receive")
        data = ctypes.string_at(buf, size.value)
        self._l.nng_free(buf, size)
        return data

    def close(self):
        if self.id:
            self._l.nng_close(self.id)
            self.id = 0
