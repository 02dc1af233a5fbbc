"""CodeVault: AES-256-GCM round trip, refusal of wrong aad/key/tampering, keyed hashes,
rotation, and the master key from settings or a 0600 key file."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from giftcash.adapters.crypto.vault import (
    KEY_FILE_NAME,
    CodeVault,
    DecryptionFailed,
    InsecureKeyFile,
    InvalidMasterKey,
    UnknownKeyId,
    key_id_for,
    load_or_create_key_file,
)
from giftcash.bootstrap import make_vault_from_settings
from giftcash.config import Settings

CODE = "4180123456789012"
KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


@pytest.fixture
def vault() -> CodeVault:
    return CodeVault.from_master_key(KEY_A)


def test_round_trip(vault):
    blob, key_id = vault.encrypt(CODE, aad="item-1")
    assert key_id == vault.current == key_id_for(KEY_A)
    assert CODE.encode() not in blob
    assert len(blob) == 12 + len(CODE) + 16  # nonce + ciphertext + GCM tag
    assert vault.decrypt(blob, key_id, aad="item-1") == CODE


def test_every_encryption_has_its_own_nonce(vault):
    first, _ = vault.encrypt(CODE, aad="item-1")
    second, _ = vault.encrypt(CODE, aad="item-1")
    assert first[:12] != second[:12] and first != second


def test_wrong_aad_fails(vault):
    blob, key_id = vault.encrypt(CODE, aad="item-1")
    with pytest.raises(DecryptionFailed) as info:
        vault.decrypt(blob, key_id, aad="item-2")
    assert CODE not in str(info.value) and CODE not in repr(info.value)


def test_wrong_key_fails(vault):
    blob, _ = vault.encrypt(CODE, aad="item-1")
    other = CodeVault.from_master_key(KEY_B)
    with pytest.raises(UnknownKeyId):
        other.decrypt(blob, vault.current, aad="item-1")
    with pytest.raises(DecryptionFailed):  # claiming to be the other key changes nothing
        other.decrypt(blob, other.current, aad="item-1")


def test_tampered_blob_fails(vault):
    blob, key_id = vault.encrypt(CODE, aad="item-1")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        vault.decrypt(bytes(tampered), key_id, aad="item-1")


def test_hmac_is_stable_per_key_and_differs_between_keys(vault):
    same = CodeVault.from_master_key(KEY_A)
    other = CodeVault.from_master_key(KEY_B)
    digest = vault.hmac(CODE)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert same.hmac(CODE) == digest
    assert vault.hmac(CODE + "0") != digest
    assert other.hmac(CODE) != digest


def test_rotation_keeps_old_blobs_readable_and_hashes_stable(vault):
    old_blob, old_id = vault.encrypt(CODE, aad="item-1")
    new_id = key_id_for(KEY_B)
    rotated = CodeVault({old_id: KEY_A, new_id: KEY_B}, new_id, hmac_key_id=old_id)
    new_blob, used = rotated.encrypt(CODE, aad="item-2")
    assert used == new_id
    assert rotated.decrypt(old_blob, old_id, aad="item-1") == CODE
    assert rotated.decrypt(new_blob, new_id, aad="item-2") == CODE
    assert rotated.hmac(CODE) == vault.hmac(CODE)
    with pytest.raises(UnknownKeyId):
        vault.decrypt(new_blob, new_id, aad="item-2")


def test_repr_shows_no_key_material(vault):
    text = repr(vault)
    assert KEY_A.hex() not in text and base64.b64encode(KEY_A).decode() not in text
    assert vault.current in text


def test_master_key_from_settings():
    secret = base64.b64encode(KEY_A).decode()
    vault = make_vault_from_settings(Settings(secret_key=secret, data_dir="/nonexistent"))
    assert vault.current == key_id_for(KEY_A)


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_bad_master_keys_are_refused(bad, tmp_path):
    with pytest.raises(InvalidMasterKey):
        CodeVault.from_settings(bad, tmp_path)


def test_key_file_is_created_0600_and_reused(tmp_path):
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        first = CodeVault.from_settings(None, tmp_path / "var")
    finally:
        os.umask(old_umask)
    path = tmp_path / "var" / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    second = CodeVault.from_settings(None, tmp_path / "var")
    blob, key_id = first.encrypt(CODE, aad="a")
    assert second.decrypt(blob, key_id, aad="a") == CODE
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]  # no temp files left


def test_a_group_or_world_readable_key_file_is_refused(tmp_path):
    path = tmp_path / KEY_FILE_NAME
    load_or_create_key_file(path)
    key_text = path.read_text().strip()
    path.chmod(0o644)
    with pytest.raises(InsecureKeyFile) as info:
        CodeVault.from_settings(None, tmp_path)
    assert "644" in info.value.message
    assert key_text not in info.value.message
    path.chmod(0o640)
    with pytest.raises(InsecureKeyFile):
        load_or_create_key_file(path)
    path.chmod(0o600)
    assert load_or_create_key_file(path) == base64.b64decode(key_text)


def test_sealing_many_is_sealing_each_under_one_key_with_a_nonce_of_its_own():
    vault = CodeVault.from_master_key(KEY_A)
    pairs = [(f"41801234567890{i:02d}", f"item-{i}") for i in range(50)] + [("1234", "item-0:pin")]
    blobs, key_id = vault.encrypt_many(pairs)
    assert key_id == vault.current and len(blobs) == len(pairs)
    assert [vault.decrypt(b, key_id, aad) for b, (_, aad) in zip(blobs, pairs, strict=True)] == [
        p for p, _ in pairs
    ]
    assert len({b[:12] for b in blobs}) == len(blobs)  # every nonce its own
    with pytest.raises(DecryptionFailed):  # still bound to its row
        vault.decrypt(blobs[0], key_id, "item-1")
    assert vault.encrypt_many([]) == ([], vault.current)


def test_the_hash_of_a_code_is_hmac_sha256_under_the_derived_key():
    import hashlib
    import hmac

    from giftcash.adapters.crypto.vault import _HMAC_INFO, _derive

    vault = CodeVault.from_master_key(KEY_A)
    expected = hmac.new(_derive(KEY_A, _HMAC_INFO), CODE.encode(), hashlib.sha256).hexdigest()
    assert vault.hmac(CODE) == vault.hmac(CODE) == expected
