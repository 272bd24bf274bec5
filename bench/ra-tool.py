#!/usr/bin/env python3
# ra-tool.py - the Python half of bench/ra.sh that bench/serve-tool.py
# does not already provide (request bodies and the verifying client come
# from serve-tool.py).
#
#   ra-tool.py stores CA-LIST.json RA-LIST.json CA-PROV RA-PROV RA-TAG-RE...
#       compare `ca-db -d CA list --json` with `ca-db -d RA list --json`:
#       every certificate the RA recorded for RA-PROV must be at the CA
#       under CA-PROV with the same serial and subject, and the CA must
#       hold no certificate for a TAG-NNNNNN.bench name (TAG matching one
#       of the regular expressions RA-TAG-RE) that the RA did not record.
#       Prints
#       STORES ca_rows=N ra_rows=N ra_at_ca=N ca_ra_named=N missing=N
#           extra=N
#       and exits 1 when missing or extra is not 0.
#   ra-tool.py perf-groups REPORT MS-PER-SIGN
#       REPORT is `perf report --children --sort sym -g none --stdio` of
#       the RA's ca-serve; MS-PER-SIGN its CPU per certificate in the same
#       run. Prints each group's share of the RA's on-CPU samples and what
#       that is in ms of CPU per certificate, then one line for ra.sh:
#       PERF fsync_ms=X relay_check_ms=Y record_ms=Z
#
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import re
import sys


def stores(ca_list, ra_list, ca_prov, ra_prov, *tags):
    ca = json.load(open(ca_list))
    ra = json.load(open(ra_list))
    ca_by_serial = {r["serial"]: r for r in ca if r.get("provisioner") == ca_prov}
    ra_rows = [r for r in ra if r.get("provisioner") == ra_prov]
    named = re.compile(r"^CN=(%s)-\d{6}\.bench$" % "|".join(tags))
    at_ca = 0
    missing = []
    for r in ra_rows:
        c = ca_by_serial.get(r["serial"])
        if c is not None and c.get("subject") == r.get("subject"):
            at_ca += 1
        else:
            missing.append(r["serial"])
    ra_serials = {r["serial"] for r in ra_rows}
    ca_named = [s for s, r in ca_by_serial.items() if named.match(r.get("subject", ""))]
    extra = [s for s in ca_named if s not in ra_serials]
    print("STORES ca_rows=%d ra_rows=%d ra_at_ca=%d ca_ra_named=%d missing=%d extra=%d" % (
        len(ca_by_serial), len(ra_rows), at_ca, len(ca_named), len(missing), len(extra)))
    for s in missing[:3]:
        print("STORES-MISSING %s" % s)
    for s in extra[:3]:
        print("STORES-EXTRA %s" % s)
    sys.exit(1 if missing or extra else 0)


# What the RA's CPU pays for, by function (inclusive: a group counts the
# samples with that function anywhere on the stack). Functions the
# compiler inlined show up as "name (inlined)" and count the same.
# Indented groups are part of the group above them; "=" rows are
# differences of two groups.
PERF_GROUPS = [
    ("all threads of the RA (every sample)", "TOTAL"),
    ("not unwound (a leaf in GMP/nettle assembly, no CFI: ECDSA arithmetic)",
     "=TOTAL-MHD_polling_thread"),
    ("serving threads (MHD_polling_thread)", ["MHD_polling_thread"]),
    ("  client side: TLS records + HTTP (MHD, outside the handler)",
     "=MHD_polling_thread-ca_http_handle"),
    ("  handler (ca_http_handle)", ["ca_http_handle"]),
    ("    JSON in/out, answer (handler minus ca_authority_sign)",
     "=ca_http_handle-ca_authority_sign"),
    ("    sign (ca_authority_sign)", ["ca_authority_sign"]),
    ("      client's token: parse + ES256 check (ca_token_parse, ca_token_verify)",
     ["ca_token_parse", "ca_token_verify"]),
    ("      CSR: parse + self-signature (ca_csr_import)", ["ca_csr_import"]),
    ("      CSR names vs token (ca_csr_check_names)", ["ca_csr_check_names"]),
    ("      token unused here? read transaction (relay_token_unused)",
     ["relay_token_unused"]),
    ("      upstream token: ES256 sign (ca_token_mint)", ["ca_token_mint"]),
    ("      upstream request on CPU (curl_easy_perform: TLS records, HTTP)",
     ["curl_easy_perform"]),
    ("      upstream answer: JSON + 2 certificate parses (issued_response)",
     ["issued_response"]),
    ("      relayed certificate: parse again (ca_x509_import in relay_finish)",
     "=relay_finish-relay_check-record_issuance-serial_of-ca_x509_export"),
    ("      relayed certificate: key, names, chain (relay_check)", ["relay_check"]),
    ("        of which chain to the root (gnutls_x509_trust_list_verify_crt2)",
     ["gnutls_x509_trust_list_verify_crt2"]),
    ("        of which intermediate parse (gnutls_x509_crt_list_import2)",
     ["gnutls_x509_crt_list_import2"]),
    ("      record here + token spent (record_issuance)", ["record_issuance"]),
    ("        of which gdbm_sync/gdbm_close (fsync and the kernel's writeback)",
     ["gdbm_sync", "gdbm_close"]),
    ("ECDSA P-256 verify, all callers (nettle_ecdsa_verify)", ["nettle_ecdsa_verify"]),
    ("ECDSA P-256 sign, all callers (nettle_ecdsa_sign)", ["nettle_ecdsa_sign"]),
    ("certificate parses, all callers (gnutls_x509_crt_import)", ["gnutls_x509_crt_import"]),
    ("fsync system calls, all callers (kernel: __x64_sys_fsync, fdatasync)",
     ["__x64_sys_fsync", "__x64_sys_fdatasync"]),
]


def perf_groups(report, ms_per_sign):
    ms = float(ms_per_sign)
    incl = {}
    for line in open(report, errors="replace"):
        m = re.match(r"^\s*([\d.]+)%\s+([\d.]+)%\s+(?:\S+\s+)*?\[[.k]\]\s+(.*?)\s*$", line)
        if not m:
            continue
        name = re.sub(r"\s*\(inlined\)$", "", m.group(3))
        incl[name] = incl.get(name, 0.0) + float(m.group(1))

    def share(spec):
        if spec == "TOTAL":
            return 100.0
        if isinstance(spec, str) and spec.startswith("="):
            names = spec[1:].split("-")
            first = 100.0 if names[0] == "TOTAL" else incl.get(names[0])
            if first is None:
                return None
            return max(0.0, first - sum(incl.get(n, 0.0) for n in names[1:]))
        hits = [incl[n] for n in spec if n in incl]
        return sum(hits) if hits else None

    print("  %-82s %6s %8s" % ("RA on-CPU samples, inclusive", "share", "ms/cert"))
    machine = {}
    for label, spec in PERF_GROUPS:
        s = share(spec)
        key = {"relay_check": "relay_check_ms", "record_issuance": "record_ms",
               "__x64_sys_fsync": "fsync_ms"}.get(spec[0] if isinstance(spec, list) else "")
        if key:
            machine[key] = (s or 0.0) / 100 * ms
        if s is None:
            print("  %-82s %6s %8s" % (label, "-", "-"))
        else:
            print("  %-82s %5.1f%% %8.3f" % (label, s, s / 100 * ms))
    print("PERF " + " ".join("%s=%.3f" % kv for kv in sorted(machine.items())))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"stores": stores, "perf-groups": perf_groups}[cmd](*args)


if __name__ == "__main__":
    main()
