"""``hil farm certs DIR --host H ...``: a farm's own CA and one certificate per host, for dask's mutual TLS.

Why a private CA: dask's TLS checks that every peer (scheduler, worker, client) shows a
certificate signed by the cluster's CA. So the CA *is* the farm's access list: whoever holds a
certificate it signed can run code on the build hosts. Keep ``ca-key.pem`` off the farm (it is
needed only to issue new certificates).

Why per host only: a generic ``worker`` certificate is the natural file to copy to every build
host, and one leaked copy then opens every host, with nothing short of a new CA to lock it out.
Each certificate here names its host (CN and subjectAltName), so the coordinator checks the
scheduler's certificate against the host it dials (``hil.farm._cluster``), a leak is one
host's, and ``--rotate`` re-issues the listed hosts under a new CA: every older certificate,
and every host left off the list, is refused from then on.

Files: ``ca.pem`` (give to every host), ``ca-key.pem``, and ``<host>.pem`` + ``<host>-key.pem``
per ``--host`` (keys mode 0600). Without ``--rotate`` an existing CA is reused and existing
host files are left alone.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.errors import ConfigError, InputError

__all__ = ["CertificateSet", "make_certificates", "rotate_certificates"]

_log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,252}$")
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"


@dataclass(frozen=True)
class CertificateSet:
    """What ``make_certificates`` wrote (or found): the CA and a (cert, key) pair per name."""

    folder: Path
    ca_file: Path
    ca_key_file: Path
    certificates: dict[str, tuple[Path, Path]]
    created: list[Path]
    #: hosts whose certificates a rotation removed (left off the list)
    revoked: list[str] = field(default_factory=list)
    rotated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "ca_file": str(self.ca_file),
            "ca_key_file": str(self.ca_key_file),
            "certificates": {n: {"cert": str(c), "key": str(k)} for n, (c, k) in self.certificates.items()},
            "created": [str(p) for p in self.created],
            "revoked": list(self.revoked),
            "rotated": self.rotated,
        }


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _load_or_make_ca(folder: Path, days: int, created: list[Path]) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    if cert_path.exists() != key_path.exists():
        raise ConfigError(f"{folder}: has only one of {CA_CERT} and {CA_KEY}; remove it or restore the other")
    if cert_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except ValueError as exc:
            raise ConfigError(f"{folder}: cannot read the existing CA ({exc})") from None
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            raise ConfigError(
                f"{folder}: {CA_KEY} does not belong to {CA_CERT}; restore the pair or rotate "
                "(`hil farm certs DIR --rotate --host ...`)"
            )
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hil farm CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    created += [cert_path, key_path]
    return cert, key


def _issue(name: str, ca_cert: Any, ca_key: Any, days: int) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    try:
        alt: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(name))]
    except ValueError:
        alt = [x509.DNSName(name)]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        # every dask peer both accepts and opens connections: server and client auth
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _check_names(hosts: Sequence[str], days: int) -> list[str]:
    if not hosts:
        raise InputError(
            "name every host with --host (the scheduler's, each build host's, the coordinator's): "
            "certificates are issued per host only"
        )
    bad = [n for n in hosts if not _NAME.match(n) or n in ("ca", "ca-key")]
    if bad:
        raise InputError(
            f"not a usable certificate name: {', '.join(map(repr, bad))} (a host name or address: "
            "letters, digits, . _ -)"
        )
    if days < 1:
        raise InputError(f"--days must be >= 1, got {days}")
    return list(dict.fromkeys(hosts))


def _folder(folder: str | Path) -> Path:
    target = Path(folder).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    return target


def _issued_hosts(folder: Path) -> list[str]:
    """Hosts with a certificate pair in ``folder``."""
    return sorted(
        p.name[: -len("-key.pem")] for p in folder.glob("*-key.pem")
        if p.name != CA_KEY and (folder / (p.name[: -len("-key.pem")] + ".pem")).is_file()
    )  # fmt: skip


def make_certificates(folder: str | Path, hosts: Sequence[str], *, days: int = 825) -> CertificateSet:
    """Make (or reuse) the CA in ``folder`` and a certificate + key for each host.

    Args:
        folder: where the files go (created, mode 0700).
        hosts: host names or addresses; existing ones are kept, not reissued.
        days: validity of new certificates.

    Raises:
        InputError: no host, or a name that is not a host name; ConfigError: a half-present or
            unreadable CA.
    """
    names = _check_names(hosts, days)
    target = _folder(folder)
    created: list[Path] = []
    ca_cert, ca_key = _load_or_make_ca(target, days, created)
    certificates = {}
    for name in names:
        cert_path, key_path = target / f"{name}.pem", target / f"{name}-key.pem"
        if not cert_path.exists() and not key_path.exists():
            cert_pem, key_pem = _issue(name, ca_cert, ca_key, days)
            _write_private(key_path, key_pem)
            cert_path.write_bytes(cert_pem)
            created += [cert_path, key_path]
        elif not (cert_path.exists() and key_path.exists()):
            raise ConfigError(f"{target}: {name} has only one of {cert_path.name} and {key_path.name}")
        certificates[name] = (cert_path, key_path)
    _log.info("certificates in %s: %s", target, ", ".join(certificates))
    return CertificateSet(target, target / CA_CERT, target / CA_KEY, certificates, created)


def rotate_certificates(folder: str | Path, hosts: Sequence[str], *, days: int = 825) -> CertificateSet:
    """A new CA, and new certificates for exactly ``hosts``; every other host's files are removed.

    After the new ``ca.pem`` reaches the scheduler and workers (and they restart), every
    certificate the old CA signed is refused, including copies of it anywhere. The old CA's
    files are removed, not kept: keeping its key would keep the old access list alive.
    """
    names = _check_names(hosts, days)
    target = _folder(folder)
    before = _issued_hosts(target)
    # the new set is made whole in a private folder beside the old one, then the two folders
    # swap by two renames: no reader ever sees a CA with certificates it did not sign or a key
    # that does not match its certificate. A crash between the two renames leaves the old set
    # whole in ``.<name>.old-*`` beside the folder's path (rename it back, or rotate again).
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.rotate-", dir=target.parent))
    retired = target.parent / f".{target.name}.old-{staging.name.rsplit('-', 1)[-1]}"
    try:
        make_certificates(staging, names, days=days)
        for path in target.iterdir():  # anything else kept in the folder is copied along
            if not path.name.endswith(".pem") and not (staging / path.name).exists():
                if path.is_dir():
                    shutil.copytree(path, staging / path.name, symlinks=True)
                else:
                    shutil.copy2(path, staging / path.name, follow_symlinks=False)
        os.rename(target, retired)
        try:
            os.rename(staging, target)
        except OSError as exc:
            os.rename(retired, target)
            raise ConfigError(f"{target}: could not move the new certificates into place ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)
    revoked = [name for name in before if name not in names]
    certificates = {name: (target / f"{name}.pem", target / f"{name}-key.pem") for name in names}
    created = [target / CA_CERT, target / CA_KEY, *(p for pair in certificates.values() for p in pair)]
    _log.warning("rotated the farm CA in %s; revoked: %s", target, ", ".join(revoked) or "none")
    return CertificateSet(target, target / CA_CERT, target / CA_KEY, certificates, created,
                          revoked=revoked, rotated=True)  # fmt: skip
