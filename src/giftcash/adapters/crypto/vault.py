"""Envelope for bearer secrets (voucher codes, PINs, account numbers, TOTP seeds).

``CodeVault.encrypt`` seals with AES-256-GCM under the current key (a random 12-byte nonce
prepended to the ciphertext) and answers the key id to store beside the row, so keys can
rotate: ``decrypt`` takes the key id it is given. The additional authenticated data
(``aad``, e.g. the item id) binds a ciphertext to its row, so a blob copied to another row
does not decrypt. ``hmac`` is HMAC-SHA256 of a normalised code under a separate derived key
that stays fixed across rotations, so the same code always gives the same hash, and a code
sold twice is caught whoever sells it.

Keys are derived with HKDF-SHA256 from 32-byte master keys: one from ``GIFTCASH_SECRET_KEY``
(base64), or from ``DATA_DIR/secret.key``, created on first use with mode 0600. A key file
that the group or others can read is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as _hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from giftcash.domain.errors import DomainError

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE_NAME = "secret.key"
_ENCRYPTION_INFO = b"giftcash/v1/aes-256-gcm"
_HMAC_INFO = b"giftcash/v1/code-hmac-sha256"


class VaultError(DomainError):
    code = "vault_error"
    kind = "invalid"


class DecryptionFailed(VaultError):
    """Wrong key, wrong aad or a tampered blob; which one is not said."""

    code = "decryption_failed"


class UnknownKeyId(VaultError):
    code = "unknown_key_id"


class InvalidMasterKey(VaultError):
    code = "invalid_master_key"


class InsecureKeyFile(VaultError):
    code = "insecure_key_file"


def key_id_for(master_key: bytes) -> str:
    """A short public name for a master key (a hash of it, never the key)."""
    return "k" + hashlib.sha256(b"giftcash key id\x00" + master_key).hexdigest()[:12]


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


class CodeVault:
    def __init__(
        self, keys: Mapping[str, bytes], current: str, *, hmac_key_id: str | None = None
    ) -> None:
        """``keys``: key id -> master key. ``current`` encrypts; every key decrypts.
        ``hmac_key_id`` (default ``current``) must stay the same when ``current`` rotates,
        or codes registered earlier stop matching."""
        for key_id, master in keys.items():
            if len(master) != MASTER_KEY_BYTES:
                raise InvalidMasterKey(f"master key {key_id} must be {MASTER_KEY_BYTES} bytes")
        if current not in keys:
            raise UnknownKeyId(f"current key {current} is not among the known keys")
        hmac_key_id = hmac_key_id or current
        if hmac_key_id not in keys:
            raise UnknownKeyId(f"hmac key {hmac_key_id} is not among the known keys")
        self.current = current
        self.hmac_key_id = hmac_key_id
        self._aead = {kid: AESGCM(_derive(m, _ENCRYPTION_INFO)) for kid, m in keys.items()}
        self._hmac_key = _derive(keys[hmac_key_id], _HMAC_INFO)

    def __repr__(self) -> str:
        return f"CodeVault(current={self.current!r}, keys={sorted(self._aead)!r})"

    @classmethod
    def from_master_key(cls, master_key: bytes) -> CodeVault:
        key_id = key_id_for(master_key)
        return cls({key_id: master_key}, key_id)

    @classmethod
    def from_settings(cls, secret_key: str | None, data_dir: Path) -> CodeVault:
        if secret_key:
            return cls.from_master_key(decode_master_key(secret_key))
        return cls.from_master_key(load_or_create_key_file(Path(data_dir) / KEY_FILE_NAME))

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._aead)

    def encrypt(self, plaintext: str, aad: str) -> tuple[bytes, str]:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode(), aad.encode())
        return nonce + sealed, self.current

    def decrypt(self, blob: bytes, key_id: str, aad: str) -> str:
        aead = self._aead.get(key_id)
        if aead is None:
            raise UnknownKeyId(f"no key {key_id} in this vault", key_id=key_id)
        try:
            plain = aead.decrypt(bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), aad.encode())
        except InvalidTag:
            raise DecryptionFailed("the blob does not decrypt with this key and aad") from None
        return plain.decode()

    def hmac(self, normalised_code: str) -> str:
        return _hmac.new(self._hmac_key, normalised_code.encode(), hashlib.sha256).hexdigest()


def decode_master_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMasterKey("the secret key is not valid base64") from None
    if len(key) != MASTER_KEY_BYTES:
        raise InvalidMasterKey(f"the secret key must be base64 of {MASTER_KEY_BYTES} bytes")
    return key


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it (0600) with a fresh random key when it is missing.

    Creation is atomic: the key is written to a private temporary file and linked into
    place, so two processes starting at once end up with one key file and agree on it."""
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        tmp.unlink()
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    with open(path, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InsecureKeyFile(
                f"{path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                "run: chmod 600 on it"
            )
        return decode_master_key(f.read().decode("ascii", errors="replace"))
