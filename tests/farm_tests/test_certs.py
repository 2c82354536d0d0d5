"""Certificates per host only, the scheduler checked by name, CA rotation that refuses every old certificate.

Every check here is a real TLS handshake on loopback with the files ``hil farm certs`` wrote.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from hil.farm import TlsFiles, scheduler_security
from tests.farm_tests.tls_helpers import OneShotServer, client_context, handshake


def _pair(folder: Path, host: str) -> tuple[Path, Path]:
    return folder / f"{host}.pem", folder / f"{host}-key.pem"


def test_certificates_are_issued_per_host_only(run_cli, tmp_path: Path) -> None:
    from cryptography import x509

    folder = tmp_path / "certs"
    code, _, err = run_cli("farm", "certs", folder)
    assert code == 2 and "certificates are issued per host only" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli("farm", "certs", folder, "--host", "sched.lab", "--host", "10.0.0.7", "--json")
    assert code == 0, err
    assert set(json.loads(out)["certificates"]) == {"sched.lab", "10.0.0.7"}
    assert sorted(p.name for p in folder.iterdir()) == [
        "10.0.0.7-key.pem", "10.0.0.7.pem", "ca-key.pem", "ca.pem", "sched.lab-key.pem", "sched.lab.pem",
    ]  # no generic worker, client or scheduler certificate  # fmt: skip
    cert = x509.load_pem_x509_certificate((folder / "sched.lab.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["sched.lab"]
    cert = x509.load_pem_x509_certificate((folder / "10.0.0.7.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.7"]


def test_the_coordinator_checks_the_schedulers_host_name(run_cli, tmp_path: Path) -> None:
    """hil's dask Security checks the name dask's turns off: another host's farm certificate is refused."""
    folder = tmp_path / "certs"
    assert run_cli("farm", "certs", folder, "--host", "127.0.0.1", "--host", "build1.lab")[0] == 0
    ca = folder / "ca.pem"
    security = scheduler_security("tls://127.0.0.1:8786", TlsFiles(ca, *_pair(folder, "127.0.0.1")))
    context = security.get_connection_args("client")["ssl_context"]
    assert context.check_hostname is True
    # the real scheduler's certificate names 127.0.0.1: accepted
    server = OneShotServer(ca, *_pair(folder, "127.0.0.1"))
    assert handshake(context, server.port) == b"ok"
    server.join()
    # a build host's certificate (same CA) answering at 127.0.0.1: refused for the name
    server = OneShotServer(ca, *_pair(folder, "build1.lab"))
    context = security.get_connection_args("client")["ssl_context"]
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        handshake(context, server.port)
    server.join()


def test_rotation_refuses_every_old_certificate(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "certs"
    assert run_cli("farm", "certs", folder, "--host", "127.0.0.1", "--host", "a", "--host", "b")[0] == 0
    old = tmp_path / "old"
    old.mkdir()
    for path in folder.iterdir():  # what an attacker kept: copies of every old file
        (old / path.name).write_bytes(path.read_bytes())
    code, out, err = run_cli("farm", "certs", folder, "--rotate", "--host", "127.0.0.1", "--host", "a",
                             "--json")  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert made["rotated"] and made["revoked"] == ["b"]
    assert not (folder / "b.pem").exists() and not (folder / "b-key.pem").exists()
    assert (folder / "ca.pem").read_bytes() != (old / "ca.pem").read_bytes()
    new_ca = folder / "ca.pem"

    # the new pair works
    server = OneShotServer(new_ca, *_pair(folder, "127.0.0.1"))
    assert handshake(client_context(new_ca, *_pair(folder, "a")), server.port) == b"ok"
    server.join()
    # every old client certificate is refused by a peer that trusts the new CA, for the certificate
    for host in ("127.0.0.1", "a", "b"):
        server = OneShotServer(new_ca, *_pair(folder, "127.0.0.1"))
        context = client_context(new_ca, *_pair(old, host))
        with pytest.raises(ssl.SSLError, match=r"UNKNOWN_CA|unknown ca"):
            handshake(context, server.port)
        server.join()
        assert isinstance(server.error, ssl.SSLCertVerificationError), server.error
        assert "unable to get local issuer certificate" in str(server.error)
    # and an old server certificate is refused by a client of the new CA
    server = OneShotServer(old / "ca.pem", *_pair(old, "127.0.0.1"))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        handshake(client_context(new_ca, *_pair(folder, "a")), server.port)
    server.join()


def test_rotation_needs_the_hosts(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("farm", "certs", tmp_path / "c", "--rotate")
    assert code == 2 and "--host" in err and len(err.strip().splitlines()) == 1


def test_an_interrupted_rotation_leaves_the_old_set_whole(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotation that fails half-way (here: issuing the second host's certificate) changes no file."""
    from hil.farm import _certs

    folder = tmp_path / "certs"
    assert run_cli("farm", "certs", folder, "--host", "a", "--host", "b")[0] == 0
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    real_issue = _certs._issue
    issued: list[str] = []

    def failing_issue(name: str, *args: object, **kwargs: object) -> tuple[bytes, bytes]:
        issued.append(name)
        if len(issued) == 2:
            raise OSError("disk full")
        return real_issue(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_certs, "_issue", failing_issue)
    with pytest.raises(OSError, match="disk full"):
        _certs.rotate_certificates(folder, ["a", "b"])
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".certs.rotate-")]  # staging removed


def test_a_ca_key_that_does_not_match_its_certificate_is_refused(run_cli, tmp_path: Path) -> None:
    """A folder whose ca-key.pem belongs to another CA (a half-copied rotation) issues nothing."""
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli("farm", "certs", first, "--host", "a")[0] == 0
    assert run_cli("farm", "certs", second, "--host", "a")[0] == 0
    (first / "ca-key.pem").write_bytes((second / "ca-key.pem").read_bytes())
    code, _, err = run_cli("farm", "certs", first, "--host", "b")
    assert code == 2 and "does not belong to" in err and len(err.strip().splitlines()) == 1
    assert not (first / "b.pem").exists()
