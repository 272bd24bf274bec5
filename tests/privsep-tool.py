#!/usr/bin/env python3
# privsep-tool.py - for tests/privsep.bats.
#   scan PID HEX        exit 0 when the bytes (or their reverse, as GMP's
#                       little-endian limbs hold them) are in PID's readable
#                       memory, 1 when not; prints the regions scanned
#   forge PID OP ...    a hostile worker: take one of PID's signer
#                       connections (pidfd_getfd) and send a request;
#                       prints the signer's status and message
#       sign TOKEN-FILE CSR-FILE | renew CERT-DER-FILE
# The wire format is lib/signer.h's.
import ctypes, os, re, socket, struct, sys


CHUNK = 1 << 20


def scan(pid, hexkey):
    key = bytes.fromhex(hexkey)
    pats = (key, key[::-1])
    n = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            lo, hi, perm = int(m[1], 16), int(m[2], 16), m[3]
            if perm[0] != "r" or "[vvar" in line or "[vsyscall" in line:
                continue
            # A sanitizer build reserves terabytes of shadow memory (never
            # data): regions over 1 GiB are not read. The rest is read in
            # chunks that overlap by the key's length.
            if hi - lo > 1 << 30:
                continue
            try:
                mem.seek(lo)
                prev = b""
                for off in range(lo, hi, CHUNK):
                    data = prev + mem.read(min(CHUNK, hi - off))
                    if any(p in data for p in pats):
                        print(f"found in {line.strip()}")
                        return 0
                    prev = data[-len(key):]
            except OSError:
                continue
            n += 1
    print(f"not found in {n} readable regions")
    return 1 if n > 0 else 2


T_TOKEN, T_CSR, T_NB, T_NA, T_CERT, T_STATUS, T_MSG = 1, 2, 3, 4, 5, 17, 18


def field(t, v):
    return struct.pack(">BI", t, len(v)) + v


def frame(op, *fields):
    body = bytes([op]) + b"".join(fields)
    return struct.pack(">I", len(body)) + body


def recv_all(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def signer_sockets(pid):
    """Unix stream sockets of pid (its signer connections)."""
    unix = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            unix.add(line.split()[6])
    fds = []
    for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m and m[1] in unix:
            fds.append(int(fd))
    return fds


def forge(pid, op, args):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    if op == "sign":
        req = frame(1, field(T_TOKEN, open(args[0], "rb").read().strip()),
                    field(T_CSR, open(args[1], "rb").read()),
                    field(T_NB, struct.pack(">q", 0)), field(T_NA, struct.pack(">q", 0)))
        want = 0x81
    else:
        req = frame(2, field(T_CERT, open(args[0], "rb").read()))
        want = 0x82
    # the last connection: idle while the test sends nothing else
    target = signer_sockets(pid)[-1]
    fd = libc.syscall(438, pidfd, target, 0)  # pidfd_getfd
    if fd < 0:
        sys.exit(f"pidfd_getfd: {os.strerror(ctypes.get_errno())}")
    s = socket.socket(fileno=fd)
    s.sendall(req)
    n = struct.unpack(">I", recv_all(s, 4))[0]
    body = recv_all(s, n)
    assert body[0] == want, body[0]
    off, status, msg = 1, None, ""
    while off < len(body):
        t, ln = struct.unpack(">BI", body[off:off + 5])
        v = body[off + 5:off + 5 + ln]
        off += 5 + ln
        if t == T_STATUS:
            status = struct.unpack(">q", v)[0]
        elif t == T_MSG:
            msg = v.decode()
    print(status)
    print(msg)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "scan":
        sys.exit(scan(int(sys.argv[2]), sys.argv[3]))
    sys.exit(forge(int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
