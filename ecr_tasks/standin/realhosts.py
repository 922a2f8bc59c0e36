"""Real-hosts mode: ECR's own names, over HTTPS, inside a private mount namespace.

The stand-in answers as ``<account>.dkr.ecr.<region>.amazonaws.com`` (the
registry) and as the API endpoints botocore computes (``api.ecr.<region>...``,
STS, ECR Public), so clients run with no endpoint or registry override. It
does so without touching the machine: the process first moves into a mount
namespace of its own (``enter_private_namespace``), then bind-mounts, there
only, an ``/etc/hosts`` that points those names at two loopback addresses
picked at random in 127.0.0.0/8 (port 443 on them is free even where
something else owns 127.0.0.1:443), a CA bundle holding the stand-in's own
certificate authority, and the engines' ``certs.d``. Children (dockerd, the
user's command) inherit the namespace; nothing outside it changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import errno
import ipaddress
import os
import random
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ecr_tasks.errors import BadValue

from .errors import StandinError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cryptography.x509 import KeyUsage

CLONE_NEWNS = 0x00020000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
HTTPS_PORT = 443
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ETC_HOSTS = Path("/etc/hosts")
ENGINE_CERT_DIRS = (Path("/etc/docker/certs.d"), Path("/etc/containers/certs.d"))


def _libc_call(name: str, *args: object) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


NAMESPACE_ENV = "ECR_STANDIN_MOUNT_NS"


def _own_namespace() -> str:
    return os.readlink("/proc/self/ns/mnt")


def in_private_namespace() -> bool:
    """Whether this process runs in the mount namespace ``enter_private_namespace`` made.

    Comparing with init's namespace is not always possible (some sandboxes
    hide /proc/1/ns), so the namespace made is remembered in the environment.
    """
    try:
        return os.environ.get(NAMESPACE_ENV) == _own_namespace()
    except OSError:
        return False


def enter_private_namespace() -> None:
    """Move this (single-threaded) process into a mount namespace of its own."""
    if os.geteuid() != 0:
        raise StandinError(
            "--real-hosts needs root (a private mount namespace and port 443):"
            " run it as root, or use the default mode with ecr.registry",
            "stack",
        )
    try:
        _libc_call("unshare", CLONE_NEWNS)
        # Without this, the bind mounts below would spread back to the host.
        _libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
        os.environ[NAMESPACE_ENV] = _own_namespace()
    except OSError as exc:
        raise StandinError(
            f"cannot make a private mount namespace: {exc.strerror}"
            " (a container may need --privileged or CAP_SYS_ADMIN)",
            "stack",
        ) from None


def bind_mount(source: Path, target: Path) -> None:
    try:
        _libc_call("mount", str(source).encode(), str(target).encode(), None, MS_BIND, None)
    except OSError as exc:
        raise StandinError(f"cannot bind {source} over {target}: {exc.strerror}") from None


def pick_address(taken: set[str], port: int = HTTPS_PORT, tries: int = 50) -> str:
    """A random 127.x.y.z (not 127.0.0.1) where ``port`` can be bound now."""
    chooser = random.SystemRandom()
    for _ in range(tries):
        address = str(ipaddress.IPv4Address(0x7F000000 + chooser.randrange(2, 0xFFFFFE)))
        if address in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                    continue
                raise StandinError(f"cannot bind {address}:{port}: {exc.strerror}") from None
            return address
    raise StandinError(f"no free loopback address with port {port} after {tries} tries")


#: What a user's shell may hold that would steer a command away from the
#: stand-in (or send real credentials to it): commands run without them, so
#: names are computed without them too. Each is a prefix (AWS_ENDPOINT_URL_ECR).
DROPPED_FOR_COMMAND = (
    "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "INVOKE_ECR_REGISTRY", "INVOKE_ECR_ACCOUNT", "DOCKER_HOST", "DOCKER_CONTEXT",
)  # fmt: skip


@contextlib.contextmanager
def without_dropped_variables() -> Iterator[None]:
    """This process's environment as the commands inside will see it, for the
    block's length: botocore reads ``os.environ`` as it builds a client."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(DROPPED_FOR_COMMAND)}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


def api_hosts(region: str) -> list[str]:
    """The API endpoints botocore calls for ECR, ECR Public and STS in ``region``,
    for a client with none of the dropped variables (``AWS_ENDPOINT_URL`` would
    name the default mode's address, ``AWS_PROFILE`` a profile of the user's)."""
    from botocore.config import Config
    from botocore.session import get_session

    hosts: list[str] = ["sts.amazonaws.com"]
    with without_dropped_variables():
        session = get_session()
        for service, where in (("ecr", region), ("sts", region), ("ecr-public", "us-east-1")):
            for config in (Config(), Config(use_fips_endpoint=True)):
                client = session.create_client(
                    service, region_name=where, config=config,
                    aws_access_key_id="standin", aws_secret_access_key="standin",  # noqa: S106
                )  # fmt: skip
                host = client.meta.endpoint_url.split("://", 1)[1].split("/", 1)[0]
                if host not in hosts:
                    hosts.append(host)
    return hosts


def registry_hosts(account: str, region: str) -> list[str]:
    """The registry host in its plain, FIPS and dual-stack forms, plus ECR Public."""
    from ecr_tasks.naming import PUBLIC_REGISTRY, registry_host

    hosts = [registry_host(account, region)]
    for options in ({"fips": True}, {"dualstack": True}, {"fips": True, "dualstack": True}):
        with contextlib.suppress(BadValue):  # a variant the partition lacks
            hosts.append(registry_host(account, region, **options))
    return [*dict.fromkeys(hosts), PUBLIC_REGISTRY]


@dataclass
class Authority:
    """The stand-in's own CA and one server certificate for every name it answers."""

    directory: Path
    names: list[str]
    ca_cert: Path = field(init=False)
    cert: Path = field(init=False)
    key: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca_cert = self.directory / "ca.crt"
        self.cert = self.directory / "server.crt"
        self.key = self.directory / "server.key"

    def make(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-tasks stand-in CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(x509, cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        key = ec.generate_private_key(ec.SECP256R1())
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.names[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in self.names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(x509, cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        pem = serialization.Encoding.PEM
        self.ca_cert.write_bytes(ca.public_bytes(pem))
        self.cert.write_bytes(server.public_bytes(pem))
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _key_usage(x509: ModuleType, cert_sign: bool) -> KeyUsage:
    usage: KeyUsage = x509.KeyUsage(
        digital_signature=not cert_sign, content_commitment=False,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return usage


class RealHosts:
    """Names, addresses, certificates and the namespace's files for one stack."""

    def __init__(self, workdir: Path, account: str, region: str) -> None:
        self.workdir = workdir
        self.account = account
        self.region = region
        self.registry_names = registry_hosts(account, region)
        self.api_names = api_hosts(region)
        self.authority = Authority(workdir / "tls", self.registry_names + self.api_names)
        self.registry_address = ""
        self.api_address = ""

    @property
    def registry(self) -> str:
        return self.registry_names[0]

    @property
    def bundle(self) -> Path:
        """The machine's trusted CAs plus ours: what clients in the namespace trust."""
        return self.workdir / "tls" / "ca-bundle.crt"

    def prepare(self) -> None:
        """Pick addresses, make certificates and bind the namespace's files."""
        if not in_private_namespace():
            raise StandinError(
                "real-hosts mode runs only in a private mount namespace:"
                " start it with python -m ecr_tasks.standin --real-hosts",
                "stack",
            )
        self.registry_address = pick_address(set())
        self.api_address = pick_address({self.registry_address})
        self.authority.make()
        system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
        self.bundle.write_bytes(system + b"\n" + self.authority.ca_cert.read_bytes())
        hosts = self.workdir / "hosts"
        hosts.write_text(self.hosts_text(ETC_HOSTS.read_text() if ETC_HOSTS.exists() else ""))
        bind_mount(hosts, ETC_HOSTS)
        if SYSTEM_BUNDLE.exists():
            bind_mount(self.bundle, SYSTEM_BUNDLE)
        for certs_dir in ENGINE_CERT_DIRS:
            if certs_dir.is_dir():
                ours = self.workdir / "certs.d" / certs_dir.parent.name
                for name in self.registry_names:
                    (ours / name).mkdir(parents=True, exist_ok=True)
                    shutil.copy(self.authority.ca_cert, ours / name / "ca.crt")
                bind_mount(ours, certs_dir)

    def hosts_text(self, original: str) -> str:
        lines = [original.rstrip("\n"), "# ecr-tasks stand-in, real-hosts mode"]
        lines += [f"{self.registry_address} {name}" for name in self.registry_names]
        lines += [f"{self.api_address} {name}" for name in self.api_names]
        return "\n".join(lines) + "\n"
