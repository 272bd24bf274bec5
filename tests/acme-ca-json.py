#!/usr/bin/env python3
# acme-ca-json.py CA.JSON HTTP-PORT TLS-PORT DNS-RESOLVER: add to a ca.json an
# ACME provisioner named "acme" (step-ca's shape, every challenge type), one
# named "eab" that differs only by requireEAB (for the EAB tests) and
# the validator's settings (caTools.acme) for tests on loopback: the ports
# it connects to for http-01 and tls-alpn-01, the DNS server it asks for
# dns-01 (host:port). Used by tests/acme-helpers.bash and bench/acme.sh
# until `ca-init --acme` does it.
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import sys

path, http_port, tls_port, dns = sys.argv[1:5]
c = json.load(open(path))
for name in ("acme", "eab"):
    c["authority"].setdefault("provisioners", []).append({
        "type": "ACME", "name": name,
        "challenges": ["http-01", "dns-01", "tls-alpn-01"],
        "requireEAB": name == "eab", "forceCN": False})
c.setdefault("caTools", {})["acme"] = {
    "httpPort": int(http_port), "tlsPort": int(tls_port),
    "dnsResolver": dns, "validationTimeout": "10s"}
with open(path + ".tmp", "w") as f:
    json.dump(c, f, indent=2)
import os
os.replace(path + ".tmp", path)
