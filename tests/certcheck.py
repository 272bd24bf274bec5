#!/usr/bin/env python3
# certcheck.py - check an issued chain with python cryptography, an X.509
# implementation nobody here wrote.
#
#   certcheck.py ROOT CHAIN_PEM NAME   verify CHAIN (leaf + intermediate)
#       up to ROOT with cryptography's server-certificate verifier for NAME,
#       then print the leaf's profile as JSON.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import datetime
import ipaddress
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store


def main(root_path, chain_path, name):
    root = x509.load_pem_x509_certificate(open(root_path, "rb").read())
    chain = x509.load_pem_x509_certificates(open(chain_path, "rb").read())
    leaf, inters = chain[0], chain[1:]
    try:
        subject = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        subject = x509.DNSName(name)
    verifier = PolicyBuilder().store(Store([root])).build_server_verifier(subject)
    verified = verifier.verify(leaf, inters)
    ext = leaf.extensions
    ku = ext.get_extension_for_class(x509.KeyUsage)
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage)
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier)
    san = ext.get_extension_for_class(x509.SubjectAlternativeName)
    inter_ski = inters[0].extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest
    cn = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    serial_octets = (leaf.serial_number.bit_length() + 8) // 8
    out = {
        "chain_length": len(verified),
        "cn": cn,
        "serial_positive": leaf.serial_number > 0,
        "serial_octets": serial_octets,
        "serial_bits": leaf.serial_number.bit_length(),
        "digital_signature": ku.value.digital_signature,
        "key_encipherment": ku.value.key_encipherment,
        "ku_critical": ku.critical,
        "eku": sorted(o.dotted_string for o in eku.value),
        "server_auth": ExtendedKeyUsageOID.SERVER_AUTH in eku.value,
        "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH in eku.value,
        "ca": bc.value.ca,
        "bc_critical": bc.critical,
        "aki_matches_issuer_ski": aki.value.key_identifier == inter_ski,
        "has_ski": len(ski.value.digest) > 0,
        "san_critical": san.critical,
        "dns": san.value.get_values_for_type(x509.DNSName),
        "ip": [str(i) for i in san.value.get_values_for_type(x509.IPAddress)],
        "email": san.value.get_values_for_type(x509.RFC822Name),
        "uri": san.value.get_values_for_type(x509.UniformResourceIdentifier),
        "lifetime_s": int((leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds()),
        "starts_in_s": int((leaf.not_valid_before_utc - datetime.datetime.now(datetime.timezone.utc)).total_seconds()),
        "rsa": isinstance(leaf.public_key(), rsa.RSAPublicKey),
        "extensions": sorted(e.oid.dotted_string for e in ext),
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:])
