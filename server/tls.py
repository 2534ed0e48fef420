"""HTTPS in the shop: a local certificate authority, and a certificate for the hub signed by it.

Phones run service workers (the offline app) only over HTTPS, or on localhost. A hub on the
shop's network has no public name a public authority would certify, so `posaid tls init` makes
its own, in <data>/tls/:

    ca.pem      the authority's certificate: installed once on each phone (the page /zh/tls)
    ca.key      its private key; stays on the hub (0600)
    server.pem  the hub's certificate, for its names and addresses, signed by the authority
    server.key  its private key (0600)

Running it again keeps the authority (the phones trust it already) and issues a new server
certificate, for a hub that got a new name or address, or whose certificate nears its end
(397 days: Apple's limit for a server certificate, whoever signed it). `posaid serve` uses
server.pem and server.key when no --certfile is given.
"""

import datetime
import ipaddress
import os
import socket
from pathlib import Path

import click
import msgspec

from server.settings import Settings

CA_DAYS = 3650
SERVER_DAYS = 397


class TlsFiles(msgspec.Struct, frozen=True):
    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"


def files(data: str | Path) -> TlsFiles:
    return TlsFiles(Path(data) / "tls")


def hub_names() -> tuple[list[str], list[str]]:
    """The names and addresses this machine answers to, found without sending anything anywhere."""
    host = socket.gethostname()
    names = ["localhost", host, f"{host}.local", socket.getfqdn()]
    addresses = ["127.0.0.1", "::1"]
    try:
        addresses += [info[4][0] for info in socket.getaddrinfo(host, None)]
    except OSError:
        pass
    return list(dict.fromkeys(n for n in names if n)), list(dict.fromkeys(addresses))


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _key_usage(**signs):
    """Signatures only (an EC key): the authority's certificates and lists as well, when told."""
    from cryptography import x509

    uses = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                          "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    return x509.KeyUsage(digital_signature=True, **{**uses, **signs})


def init(folder: Path, names: list[str], addresses: list[str], now: datetime.datetime | None = None) -> TlsFiles:
    """Make the authority (unless there is one) and a server certificate for names and addresses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = now or datetime.datetime.now(datetime.UTC)
    out = TlsFiles(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    private = {"encoding": pem, "format": serialization.PrivateFormat.PKCS8,
               "encryption_algorithm": serialization.NoEncryption()}
    if out.ca.is_file() and out.ca_key.is_file():
        ca = x509.load_pem_x509_certificate(out.ca.read_bytes())
        ca_key = serialization.load_pem_private_key(out.ca_key.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "posaid"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"posaid shop authority ({socket.gethostname()})"[:64]),
        ])
        ca = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write(out.ca_key, ca_key.private_bytes(**private), private=True)
        _write(out.ca, ca.public_bytes(pem))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names or addresses)[0][:64])]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_key_usage(), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(out.key, key.private_bytes(**private), private=True)
    _write(out.cert, cert.public_bytes(pem))
    return out


def authority(data: str | Path) -> tuple[bytes, str] | None:
    """The authority's certificate as DER (what phones install) and its SHA-256 fingerprint, or None."""
    path = files(data).ca
    if not path.is_file():
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    cert = x509.load_pem_x509_certificate(path.read_bytes())
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    return cert.public_bytes(serialization.Encoding.DER), fingerprint


def with_certificate(settings: Settings) -> Settings:
    """The settings `serve` runs with: the hub's certificate from `tls init` unless one was given."""
    made = files(settings.data)
    if settings.certfile or not (made.cert.is_file() and made.key.is_file()):
        return settings
    return msgspec.structs.replace(settings, certfile=str(made.cert), keyfile=str(made.key))


@click.group("tls")
def tls() -> None:
    """HTTPS for a hub: a local certificate authority the shop's phones trust."""


@tls.command("init")
@click.option("--name", "names", multiple=True, help="Another name phones reach the hub by (repeatable).")
@click.option("--ip", "addresses", multiple=True, help="Another address phones reach the hub at (repeatable).")
@click.option("--data", help="Folder for the database and blobs [POSAID_DATA; ./var].")
def tls_init(names: tuple[str, ...], addresses: tuple[str, ...], data: str | None) -> None:
    """Make the shop's certificate authority (once) and a certificate for this hub; `serve` uses it."""
    settings = Settings.load(data=data)
    found_names, found_addresses = hub_names()
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise click.BadParameter(f"{address!r} is not an IP address", param_hint="--ip") from None
    made = init(files(settings.data).folder, list(dict.fromkeys([*names, *found_names])),
                list(dict.fromkeys([*addresses, *found_addresses])))
    _, fingerprint = authority(settings.data)
    click.echo(f"authority: {made.ca} (SHA-256 {fingerprint})")
    click.echo(f"certificate: {made.cert} for {', '.join([*names, *found_names, *addresses, *found_addresses])}")
    click.echo("`posaid serve` now serves HTTPS with it; on each phone, open https://<this hub>:<port>/zh/tls "
               "and install the authority")
