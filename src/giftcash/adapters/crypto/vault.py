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

Rotation (``giftcash keys rotate``, docs/deploy.md) needs a key ring: several master keys,
one current (it encrypts), all of them decrypting, and the HMAC key pinned to the key the
code hashes were first made with. From the environment: ``GIFTCASH_SECRET_KEY`` (current),
``GIFTCASH_DECRYPT_KEYS`` (older keys, comma-separated base64) and
``GIFTCASH_HMAC_KEY_ID``. In the key file: one base64 key a line, the first current, and
a line ``hmac_key_id=<id>``. With more than one key the pin must be given: guessing it
wrong would silently stop duplicate codes from being caught. A vault read from a key file
notices when the file changes (another process rotated the keys) and takes the new ring,
so running processes pick up a rotation without a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as _hmac
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from giftcash.adapters.files import create_durably, write_durably
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
        # keyed once: each code's hash starts from a copy (the key's pads not redone)
        self._hmac_keyed = _hmac.new(_derive(keys[hmac_key_id], _HMAC_INFO), None, hashlib.sha256)
        self._source: KeyFileWatch | None = None

    def _adopt(self, other: CodeVault) -> None:
        """Take ``other``'s ring (a rotation seen in the key file). The hash key never
        changes under a running process: a ring with another pin is refused."""
        if other.hmac_key_id != self.hmac_key_id:
            raise UnknownKeyId(
                f"the key ring now pins hmac key {other.hmac_key_id}, this process uses "
                f"{self.hmac_key_id}: the pin must not change"
            )
        self._aead = {**self._aead, **other._aead}
        self.current = other.current

    def _refresh(self, force: bool = False) -> None:
        if self._source is not None:
            fresh = self._source.changed(force=force)
            if fresh is not None:
                self._adopt(fresh)

    def __repr__(self) -> str:
        return f"CodeVault(current={self.current!r}, keys={sorted(self._aead)!r})"

    @classmethod
    def from_master_key(cls, master_key: bytes) -> CodeVault:
        key_id = key_id_for(master_key)
        return cls({key_id: master_key}, key_id)

    @classmethod
    def from_ring(cls, keys: list[bytes], hmac_key_id: str | None = None) -> CodeVault:
        """``keys``: the current master key first, then older ones that still decrypt."""
        if not keys:
            raise InvalidMasterKey("no master key is given")
        ring = {key_id_for(k): k for k in keys}
        if len(ring) > 1 and not hmac_key_id:
            raise InvalidMasterKey(
                "more than one master key is configured: set GIFTCASH_HMAC_KEY_ID (or the "
                "key file's hmac_key_id= line) to the id of the key the code hashes were made "
                "with (`giftcash keys status` shows it)"
            )
        return cls(ring, key_id_for(keys[0]), hmac_key_id=hmac_key_id)

    @classmethod
    def from_settings(
        cls,
        secret_key: str | None,
        data_dir: Path,
        *,
        decrypt_keys: str | None = None,
        hmac_key_id: str | None = None,
    ) -> CodeVault:
        if secret_key:
            older = [decode_master_key(k) for k in (decrypt_keys or "").split(",") if k.strip()]
            return cls.from_ring([decode_master_key(secret_key), *older], hmac_key_id)
        path = Path(data_dir) / KEY_FILE_NAME
        vault = read_key_ring(path, hmac_key_id)
        vault._source = KeyFileWatch(path, hmac_key_id)
        return vault

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._aead)

    def encrypt(self, plaintext: str, aad: str) -> tuple[bytes, str]:
        self._refresh()
        nonce = os.urandom(NONCE_BYTES)  # what secrets.token_bytes reads, one call less
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode(), aad.encode())
        return nonce + sealed, self.current

    def encrypt_many(self, items: Sequence[tuple[str, str]]) -> tuple[list[bytes], str]:
        """``encrypt`` of each (plaintext, aad), all under one key (answered once): the
        nonces, each random and its own, come from one read of the system's CSPRNG made
        for this call (nothing is kept for a later call, or for a forked child)."""
        self._refresh()
        key_id = self.current
        aead = self._aead[key_id]
        nonces = os.urandom(NONCE_BYTES * len(items))
        out = []
        for i, (plaintext, aad) in enumerate(items):
            nonce = nonces[NONCE_BYTES * i : NONCE_BYTES * (i + 1)]
            out.append(nonce + aead.encrypt(nonce, plaintext.encode(), aad.encode()))
        return out, key_id

    def decrypt(self, blob: bytes, key_id: str, aad: str) -> str:
        aead = self._aead.get(key_id)
        if aead is None:
            self._refresh(force=True)  # a key made by a rotation elsewhere
            aead = self._aead.get(key_id)
        if aead is None:
            raise UnknownKeyId(f"no key {key_id} in this vault", key_id=key_id)
        try:
            plain = aead.decrypt(bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), aad.encode())
        except InvalidTag:
            raise DecryptionFailed("the blob does not decrypt with this key and aad") from None
        return plain.decode()

    def hmac(self, normalised_code: str) -> str:
        h = self._hmac_keyed.copy()
        h.update(normalised_code.encode())
        return h.hexdigest()


HMAC_PIN = "hmac_key_id="


def parse_key_ring(text: str) -> tuple[list[bytes], str | None]:
    """The key file: base64 keys one a line (the first current), ``hmac_key_id=<id>``,
    blank lines and ``#`` comments."""
    keys: list[bytes] = []
    pin: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(HMAC_PIN):
            pin = line[len(HMAC_PIN) :].strip() or None
        else:
            keys.append(decode_master_key(line))
    return keys, pin


def read_key_ring(path: Path, hmac_key_id: str | None = None) -> CodeVault:
    """The vault of a key file (created with one fresh key when it is missing); a pin
    given in the settings wins over the file's."""
    keys, pin = parse_key_ring(_read_ring_text(path))
    return CodeVault.from_ring(keys, hmac_key_id or pin)


def _read_ring_text(path: Path) -> str:
    load_or_create_key_file(path)  # creates it, and refuses a readable-by-others file
    with open(path, "rb") as f:
        return f.read().decode("ascii", errors="replace")


def write_key_ring(path: Path, keys: list[bytes], hmac_key_id: str) -> None:
    """Replace the key file atomically and durably (0600): ``keys`` current first, then
    the pin. A key ring lost in a power cut would leave every code it encrypted unreadable."""
    body = "# giftcash master keys: the first encrypts, all decrypt (giftcash keys rotate)\n"
    body += "".join(base64.b64encode(k).decode() + "\n" for k in keys)
    body += f"{HMAC_PIN}{hmac_key_id}\n"
    CodeVault.from_ring(keys, hmac_key_id)  # refuse a ring that would not load
    write_durably(path, body.encode())


def add_key_to_file(path: Path, new_key: bytes | None = None) -> CodeVault:
    """Make a new master key current in the key file, keep every older key for
    decryption and pin the hash key to the one in use now. Answers the new ring."""
    import fcntl

    # Two rotations at once must not lose a key: read, add and write under a lock.
    lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        keys, pin = parse_key_ring(_read_ring_text(path))
        before = CodeVault.from_ring(keys, pin)
        new_key = new_key or secrets.token_bytes(MASTER_KEY_BYTES)
        if key_id_for(new_key) in before.key_ids:
            raise InvalidMasterKey("that key is already in the ring")
        ring = [new_key, *keys]
        write_key_ring(path, ring, before.hmac_key_id)
    finally:
        os.close(lock_fd)  # releases the lock
    return CodeVault.from_ring(ring, before.hmac_key_id)


class KeyFileWatch:
    """Notices a changed key file, looking at most once every ``every_s`` seconds."""

    def __init__(
        self,
        path: Path,
        hmac_key_id: str | None,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self.hmac_key_id, self.every_s, self.clock = path, hmac_key_id, every_s, clock
        self._lock = threading.Lock()
        self._seen = self._stamp()
        self._checked = clock()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self, *, force: bool = False) -> CodeVault | None:
        with self._lock:
            now = self.clock()
            if not force and now - self._checked < self.every_s:
                return None
            self._checked = now
            stamp = self._stamp()
            if stamp is None or stamp == self._seen:
                return None
            self._seen = stamp
        return read_key_ring(self.path, self.hmac_key_id)


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

    Creation is atomic and durable: the key is written to a private temporary file, synced
    and linked into place, so two processes starting at once end up with one key file and
    agree on it, and a power cut cannot leave codes encrypted under a key that is gone."""
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    create_durably(path, base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n")
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    with open(path, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InsecureKeyFile(
                f"{path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
                "run: chmod 600 on it"
            )
        keys, _pin = parse_key_ring(f.read().decode("ascii", errors="replace"))
    if not keys:
        raise InvalidMasterKey(f"{path} holds no key")
    return keys[0]  # the current key of a ring
