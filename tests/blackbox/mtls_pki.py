"""The certificates of the RFC 8705 black-box tests (test_mtls.py), every one made by the
`openssl` command in a temporary folder: the HTTPS listener's own CA and certificate, a client
root CA, an intermediate CA under it, an unrelated root, leaf client certificates with fixed
subjects and subjectAltNames, and self-signed client certificates. EC P-256 keys (one RSA 2048),
fixed serial numbers, valid for 2 days.

Python's `cryptography` only reads what openssl wrote (public keys for JWKs); the DER files
come from `openssl x509 -outform DER`."""

import base64
import hashlib
import json
import os
import subprocess
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def openssl(*args, cwd):
    out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: "
                           + out.stderr.decode(errors="replace"))
    return out.stdout


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


CA_EXT = ("basicConstraints=critical,CA:TRUE{pathlen}\n"
          "keyUsage=critical,keyCertSign,cRLSign\n"
          "subjectKeyIdentifier=hash\n")
LEAF_EXT = ("basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage={eku}\n"
            "subjectKeyIdentifier=hash\n")


class Cert:
    """One certificate: its PEM file, key file, DER bytes, and for a leaf signed by an
    intermediate, `chain` (a PEM file holding the leaf then the intermediate)."""

    def __init__(self, pki, name, subject, key_type):
        self.pki = pki
        self.name = name
        self.subject = subject  # openssl -subj form
        self.key_type = key_type
        self.pem_path = pki.path(name + ".pem")
        self.key_path = pki.path(name + ".key")
        self.der_path = pki.path(name + ".der")
        self.chain = None
        self.issuer = None

    def _finish(self):
        openssl("x509", "-in", self.pem_path, "-outform", "DER", "-out", self.der_path,
                cwd=self.pki.dir)
        with open(self.der_path, "rb") as f:
            self.der = f.read()
        with open(self.pem_path) as f:
            self.pem = f.read()

    @property
    def pair(self):
        """(certificate file, key file) for requests' cert=, the chain file when there is one."""
        return (self.chain or self.pem_path, self.key_path)

    @property
    def b64(self):
        """Standard base64 of the DER (RFC 9440 byte sequence content, JWK x5c)."""
        return base64.b64encode(self.der).decode()

    @property
    def x5t_s256(self):
        """RFC 8705 §3.1: base64url, no padding, of the SHA-256 of the DER."""
        return b64url(hashlib.sha256(self.der).digest())

    @property
    def fingerprint(self):
        return hashlib.sha256(self.der).hexdigest()

    def jwk(self, x5c=False):
        """The certificate's public key as a JWK (computed here from the key file)."""
        with open(self.key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None).public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            n = key.public_numbers()
            jwk = {"kty": "EC", "crv": "P-256", "x": b64url(n.x.to_bytes(32, "big")),
                   "y": b64url(n.y.to_bytes(32, "big"))}
        else:
            assert isinstance(key, rsa.RSAPublicKey)
            n = key.public_numbers()
            jwk = {"kty": "RSA", "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                   "e": b64url(n.e.to_bytes(3, "big"))}
        if x5c:
            jwk["x5c"] = [self.b64]
        return jwk

    def jwks(self, x5c=False):
        return json.dumps({"keys": [self.jwk(x5c)]})


class Pki:
    """Every certificate of the module, made once in a temporary folder."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tollgate-mtls-")
        self.dir = self.tmp.name
        self._serial = 0x5EED0000
        self._many = None

        # The HTTPS listener's certificate, under a CA of its own.
        self.server_ca = self.root("server-ca", "/O=Tollgate Test/CN=Listener CA")
        self.listener = self.leaf("listener", "/CN=127.0.0.1", self.server_ca, eku="serverAuth",
                                  san="IP:127.0.0.1,DNS:localhost")

        # Client PKI: a root (fixed serial), an intermediate under it, an unrelated root.
        self.root_ca = self.root("root", "/O=Example/CN=Test Root", serial=0x1A2B3C4D5E6F)
        self.intermediate = self.leaf("intermediate", "/O=Example/CN=Test Intermediate",
                                      self.root_ca, ca=True)
        self.other_root = self.root("other-root", "/O=Example/CN=Other Root")

        # Leaves under the root, one name each.
        self.dn_client = self.leaf("dn-client", "/C=US/O=Example/CN=Client One", self.root_ca)
        self.dns_client = self.leaf("dns-client", "/O=Example/CN=dns client", self.root_ca,
                                    san="DNS:client.example.test")
        self.uri_client = self.leaf("uri-client", "/O=Example/CN=uri client", self.root_ca,
                                    san="URI:spiffe://example.test/client")
        self.ip_client = self.leaf("ip-client", "/O=Example/CN=ip client", self.root_ca,
                                   san="IP:192.0.2.10")
        self.ip6_client = self.leaf("ip6-client", "/O=Example/CN=ip6 client", self.root_ca,
                                    san="IP:2001:db8::a")
        self.email_client = self.leaf("email-client", "/O=Example/CN=email client",
                                      self.root_ca, san="email:client@example.test")
        self.bound_client = self.leaf("bound-client", "/O=Example/CN=bound client",
                                      self.root_ca, san="DNS:bound.example.test")
        self.proxy_client = self.leaf("proxy-client", "/O=Example/CN=proxy client",
                                      self.root_ca, san="DNS:proxy.example.test")
        # The wrong ones: another name, another CA, server authentication only.
        self.other_name = self.leaf("other-name", "/O=Example/CN=other client", self.root_ca,
                                    san="DNS:other.example.test")
        self.untrusted = self.leaf("untrusted", "/O=Example/CN=dns client", self.other_root,
                                   san="DNS:client.example.test")
        self.server_only = self.leaf("server-only", "/O=Example/CN=dns client", self.root_ca,
                                     san="DNS:client.example.test", eku="serverAuth")
        # Under the intermediate: `chain` holds leaf + intermediate.
        self.chained = self.leaf("chained", "/O=Example/CN=chained client", self.intermediate,
                                 san="DNS:chained.example.test")

        # Self-signed client certificates (not CAs).
        self.self_ec = self.self_signed("self-ec", "/CN=self-signed ec client")
        self.self_rsa = self.self_signed("self-rsa", "/CN=self-signed rsa client",
                                         key_type="rsa")
        self.self_other = self.self_signed("self-other", "/CN=self-signed ec client")

    def path(self, name):
        return os.path.join(self.dir, name)

    def cleanup(self):
        self.tmp.cleanup()

    def _next_serial(self):
        self._serial += 1
        return self._serial

    def _key(self, name, key_type):
        if key_type == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", name + ".key", cwd=self.dir)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", name + ".key", cwd=self.dir)

    def _make(self, name, subject, ext, signer=None, serial=None, key_type="ec"):
        """A certificate for a new key: a CSR, then `openssl x509 -req` signed by `signer`
        (a Cert) or by its own key."""
        cert = Cert(self, name, subject, key_type)
        self._key(name, key_type)
        openssl("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr",
                cwd=self.dir)
        with open(self.path(name + ".ext"), "w") as f:
            f.write("[ext]\n" + ext)
        serial = serial if serial is not None else self._next_serial()
        args = ["x509", "-req", "-in", name + ".csr", "-days", "2", "-set_serial", hex(serial),
                "-extfile", name + ".ext", "-extensions", "ext", "-out", name + ".pem"]
        if signer is None:
            args += ["-signkey", name + ".key"]
        else:
            args += ["-CA", signer.pem_path, "-CAkey", signer.key_path]
        openssl(*args, cwd=self.dir)
        cert._finish()
        cert.serial = serial
        cert.issuer = signer
        return cert

    def root(self, name, subject, serial=None, extra_ext=""):
        return self._make(name, subject, CA_EXT.format(pathlen="") + extra_ext, serial=serial)

    def leaf(self, name, subject, signer, san=None, eku="clientAuth", ca=False):
        if ca:
            ext = CA_EXT.format(pathlen=",pathlen:0") + "authorityKeyIdentifier=keyid\n"
        else:
            ext = LEAF_EXT.format(eku=eku) + "authorityKeyIdentifier=keyid\n"
        if san:
            ext += "subjectAltName=" + san + "\n"
        cert = self._make(name, subject, ext, signer=signer)
        if signer.issuer is not None:  # signed by an intermediate: the file the client sends
            cert.chain = self.path(name + "-chain.pem")
            with open(cert.chain, "w") as f:
                f.write(cert.pem + signer.pem)
        return cert

    def self_signed(self, name, subject, key_type="ec"):
        return self._make(name, subject, LEAF_EXT.format(eku="clientAuth"), key_type=key_type)

    def big_ca(self):
        """A CA certificate whose DER is over 16 KiB (a long subjectAltName)."""
        names = ",".join(f"DNS:n{i:04d}-padding-padding-padding.example.test" for i in range(450))
        cert = self.root("big-ca", "/O=Example/CN=Big Root",
                         extra_ext="subjectAltName=" + names + "\n")
        assert len(cert.der) > 16 * 1024, len(cert.der)
        return cert

    def many_roots(self, count):
        """`count` distinct CA certificates (distinct subjects and serials, one shared key;
        made once, shared by the servers): one `openssl req -x509` each."""
        if self._many is None or len(self._many) < count:
            self._key("many", "ec")
            with open(self.path("many.cnf"), "w") as f:
                f.write("[req]\ndistinguished_name=dn\n[dn]\n[ext]\n" + CA_EXT.format(pathlen=""))
            self._many = []
            for i in range(count):
                name = f"many-{i}"
                openssl("req", "-x509", "-new", "-key", "many.key", "-subj",
                        f"/O=Example/CN=Root {i}", "-config", "many.cnf", "-extensions", "ext",
                        "-days", "2", "-set_serial", hex(self._next_serial()),
                        "-out", name + ".pem", cwd=self.dir)
                with open(self.path(name + ".pem")) as f:
                    pem = f.read()
                body = "".join(pem.strip().splitlines()[1:-1])
                cert = Cert(self, name, f"/O=Example/CN=Root {i}", "ec")
                cert.pem, cert.der = pem, base64.b64decode(body)
                self._many.append(cert)
        return self._many[:count]
