"""A self-signed certificate for the loopback endpoint, usable as its own CA bundle (CA:TRUE, SAN
IP:127.0.0.1 and DNS:localhost), made with the ``cryptography`` package."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os


def make_certificate(directory, host="127.0.0.1"):
    """Write cert.pem and key.pem into ``directory`` (the key readable by its owner only); their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vmsslint serve (local)")])
    names = {x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))}
    try:
        names.add(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.add(x509.DNSName(host))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sorted(names, key=str)), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    os.makedirs(directory, exist_ok=True)
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    fd = os.open(key_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    os.replace(key_path + ".tmp", key_path)
    with open(cert_path + ".tmp", "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(cert_path + ".tmp", cert_path)
    return cert_path, key_path


def usable(cert_path, key_path, host="127.0.0.1"):
    """True when an existing pair (from --state-dir) can be reused: valid for a day more, and for ``host``."""
    if not (os.path.exists(cert_path) and os.path.exists(key_path)):
        return False
    try:
        from cryptography import x509
        with open(cert_path, "rb") as fh:
            cert = x509.load_pem_x509_certificate(fh.read())
        if cert.not_valid_after_utc < dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1):
            return False
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        hosts = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
        return host in hosts
    except Exception:
        return False
