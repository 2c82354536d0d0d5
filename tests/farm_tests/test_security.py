"""A farm on a network: mutual TLS with `hil farm certs`, and plain tcp:// refused beyond loopback.

The TLS test runs a real scheduler and two workers on 127.0.0.1 with the certificates the CLI
made, builds jobs through them with `hil farm run`, and shows that a client without a farm
certificate gets nowhere: no certificate at all, one from another CA, or no TLS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.farm import is_loopback, open_client
from tests.farm_tests.conftest import Processes, farm_inventory, hil_argv, start_cluster


@pytest.mark.slow
def test_tls_farm_runs_jobs_and_refuses_clients_without_a_farm_certificate(
    run_cli, processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    from distributed import Client
    from distributed.security import Security

    certs = tmp_path / "certs"
    code, out, err = run_cli("farm", "certs", certs, "--host", "127.0.0.1", "--host", "localhost", "--json")
    assert code == 0, err
    made = json.loads(out)
    assert set(made["certificates"]) == {"127.0.0.1", "localhost"}
    address = start_cluster(processes, tmp_path, {"w1": {}, "w2": {}}, certs=certs)
    assert address.startswith("tls://127.0.0.1:")

    root = tmp_path / "bs"
    tls = {"ca_file": "certs/ca.pem", "cert_file": "certs/127.0.0.1.pem",
           "key_file": "certs/127.0.0.1-key.pem"}  # fmt: skip
    inventory = farm_inventory(tmp_path, scheduler=address, tls=tls, artifacts=str(root))  # paths relative
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        "grid: {reuse_factor: [1, 2, 3, 4]}\nbuilder_params: {sleep_s: 1.0}\n"
    )
    run = subprocess.run(hil_argv("farm", "run", jobs_file, "--inventory", inventory, "--json"),
                         capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    payload = json.loads(run.stdout)
    assert payload["built"] == 4 and payload["failed"] == 0
    assert {row["worker"] for row in payload["jobs"]} == {"w1", "w2"}  # both TLS workers built

    # a certificate from another CA (here: another `hil farm certs`), though it trusts the farm's CA:
    # the scheduler ends the handshake with "unknown CA" -- the certificate is the reason, since the
    # same handshake with the farm's own certificate goes through
    other = tmp_path / "other-ca"
    assert run_cli("farm", "certs", other, "--host", "127.0.0.1")[0] == 0
    host, port = address.removeprefix("tls://").split(":")

    def handshake(cert_folder: Path) -> None:
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        context.load_cert_chain(str(cert_folder / "127.0.0.1.pem"), str(cert_folder / "127.0.0.1-key.pem"))
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
                conn.settimeout(2)
                with contextlib.suppress(TimeoutError, socket.timeout):
                    conn.recv(8)  # TLS 1.3: a refused client certificate is reported at the first read

    handshake(certs)  # the farm's own certificate: accepted (dask then waits for a message)
    with pytest.raises(ssl.SSLError, match=r"TLSV1_ALERT_UNKNOWN_CA|unknown ca"):
        handshake(other)
    stranger = Security(tls_ca_file=str(certs / "ca.pem"), tls_client_cert=str(other / "127.0.0.1.pem"),
                        tls_client_key=str(other / "127.0.0.1-key.pem"), require_encryption=True)  # fmt: skip
    with pytest.raises(OSError):  # and dask's own client gets nowhere with it either
        Client(address, security=stranger, timeout=5)
    # no certificate at all: the scheduler ends the TLS handshake
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=10) as raw, pytest.raises(ssl.SSLError):
        with context.wrap_socket(raw) as conn:
            conn.sendall(b"\x00" * 8)
            conn.recv(8)  # TLS 1.3: the server's refusal arrives with the first read
    # no TLS
    with pytest.raises(OSError):
        Client(f"tcp://{host}:{port}", timeout=5)
    # and through hil: an inventory without certificates for this tls:// scheduler
    bare = farm_inventory(tmp_path / "bare", scheduler=address, artifacts=str(root))
    code, _, err = run_cli("farm", "run", jobs_file, "--inventory", bare)
    assert code == 2 and "needs farm.tls" in err


def test_plain_tcp_to_another_host_is_refused_without_insecure(
    run_cli, dense_onnx: Path, tmp_path: Path
) -> None:
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(f"builder: sleep\nmodels: [{dense_onnx}]\nboards: [zcu104]\n")
    root = tmp_path / "bs"
    code, _, err = run_cli(
        "farm", "run", jobs_file, "--scheduler", "tcp://192.0.2.10:8786", "--artifacts", root
    )
    assert code == 2
    assert "refusing plain tcp:// to 192.0.2.10" in err and "--insecure" in err and "run code" in err
    assert not (root / "ledger.sqlite").exists()  # refused before anything was queued


def test_insecure_says_why_it_is_dangerous(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="hil.farm._cluster"),
        pytest.raises(ConfigError, match="cannot reach"),
    ):
        with open_client("tcp://192.0.2.10:8786", insecure=True, timeout_s=1):
            pass  # pragma: no cover - 192.0.2.0/24 is TEST-NET-1: nothing answers
    assert (
        "INSECURE" in caplog.text and "anyone who can reach 192.0.2.10:8786 can run any code" in caplog.text
    )


def test_loopback_is_recognised() -> None:
    assert (
        is_loopback("127.0.0.1")
        and is_loopback("127.1.2.3")
        and is_loopback("::1")
        and is_loopback("localhost")
    )
    assert (
        not is_loopback("192.0.2.10")
        and not is_loopback("10.0.0.1")
        and not is_loopback("no-such-host.invalid")
    )


def test_tls_scheduler_needs_its_files(run_cli, dense_onnx: Path, tmp_path: Path) -> None:
    from hil.inventory import load_inventory

    tls = {"ca_file": "missing/ca.pem", "cert_file": "c.pem", "key_file": "k.pem"}
    inventory = farm_inventory(tmp_path, scheduler="tls://farm.example:8786", tls=tls)
    assert load_inventory(inventory).farm.tls is not None
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(f"builder: sleep\nmodels: [{dense_onnx}]\nboards: [zcu104]\n")
    code, _, err = run_cli("farm", "run", jobs_file, "--inventory", inventory)
    assert code == 2 and f"farm.tls.ca_file: {tmp_path / 'missing' / 'ca.pem'} not found" in err
    with pytest.raises(ConfigError, match=r"needs farm\.tls"):
        load_inventory(farm_inventory(tmp_path / "b", scheduler="tls://farm.example:8786"))
    with pytest.raises(ConfigError, match=r"tls://HOST:8786 or tcp://HOST:8786"):
        load_inventory(farm_inventory(tmp_path / "c", scheduler="http://farm.example:8786"))


def test_certs_keep_the_ca_and_add_hosts(run_cli, tmp_path: Path) -> None:
    from cryptography import x509

    folder = tmp_path / "certs"
    assert run_cli("farm", "certs", folder, "--host", "client")[0] == 0
    ca_before = (folder / "ca.pem").read_bytes()
    code, out, err = run_cli("farm", "certs", folder, "--host", "build1.lab", "--host", "10.0.0.7", "--json")
    assert code == 0, err
    made = json.loads(out)
    assert sorted(Path(p).name for p in made["created"]) == [
        "10.0.0.7-key.pem", "10.0.0.7.pem", "build1.lab-key.pem", "build1.lab.pem",
    ]  # fmt: skip
    assert (folder / "ca.pem").read_bytes() == ca_before  # the CA is reused, not replaced
    ca = x509.load_pem_x509_certificate(ca_before)
    for name in ("build1.lab", "10.0.0.7", "client"):
        cert = x509.load_pem_x509_certificate((folder / f"{name}.pem").read_bytes())
        cert.verify_directly_issued_by(ca)
        assert stat.S_IMODE((folder / f"{name}-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "ca-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    code, out, _ = run_cli("farm", "certs", folder, "--host", "client")
    assert code == 0 and "dask scheduler --protocol tls" in out and "tls: {ca_file:" in out
    code, _, err = run_cli("farm", "certs", folder, "--host", "../evil")
    assert code == 2 and "not a usable certificate name" in err
