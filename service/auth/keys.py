"""Access keys: secrets encrypted at rest with a master key kept in LV_HOME (mode 0600), never logged.

SigV4 needs the secret itself to recompute a signature, so secrets are encrypted (Fernet), not hashed.
"""

import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import AccessKey

_KEY_ALPHABET = string.ascii_uppercase + string.digits
CREDENTIALS_PROFILE = "openlv"


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret_access_key: str


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class KeyStore:
    def __init__(self, engine: Engine, master_key_file: Path) -> None:
        self._engine = engine
        if not master_key_file.exists():
            write_private(master_key_file, Fernet.generate_key())
        self._fernet = Fernet(master_key_file.read_bytes())
        self._cache: dict[str, str] = {}

    def create(self, description: str = "") -> KeyPair:
        pair = KeyPair(
            access_key_id="LVAK" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30),
        )
        encrypted = self._fernet.encrypt(pair.secret_access_key.encode()).decode()
        with transaction(self._engine) as session:
            session.add(AccessKey(access_key_id=pair.access_key_id, encrypted_secret=encrypted, description=description))
        return pair

    def secret_for(self, access_key_id: str) -> str | None:
        if access_key_id in self._cache:
            return self._cache[access_key_id]
        with transaction(self._engine) as session:
            row = session.get(AccessKey, access_key_id)
        if row is None:
            return None
        secret = self._fernet.decrypt(row.encrypted_secret.encode()).decode()
        self._cache[access_key_id] = secret
        return secret

    def has_keys(self) -> bool:
        with transaction(self._engine) as session:
            return session.exec(select(AccessKey).limit(1)).first() is not None


def ensure_admin_credentials(store: KeyStore, credentials_file: Path, region: str) -> bool:
    """On first start create an admin key pair and write it as an AWS credentials file (mode 0600).

    Returns True when a new pair was created.
    """
    if store.has_keys():
        return False
    pair = store.create(description="admin (created on first start)")
    text = (
        f"[{CREDENTIALS_PROFILE}]\n"
        f"aws_access_key_id = {pair.access_key_id}\n"
        f"aws_secret_access_key = {pair.secret_access_key}\n"
        f"region = {region}\n"
    )
    write_private(credentials_file, text.encode())
    return True
