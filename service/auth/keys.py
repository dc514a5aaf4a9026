"""Access keys: secrets encrypted at rest with a master key kept in LV_HOME (mode 0600), never logged; each key's role.

SigV4 needs the secret itself to recompute a signature, so secrets are encrypted (Fernet), not hashed. The store caches
each key's secret and role for `LV_AUTH_KEY_CACHE_TTL_S` seconds: deleting a key here evicts it, so it is refused from
the next request on; a key deleted (or its role changed) through another API replica is refused within the TTL.
"""

import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import delete, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.auth.roles import Role
from service.caching import TtlCache
from service.db.engine import transaction
from service.db.models import AccessKey
from service.errors import ConflictException, ResourceNotFoundException, ValidationException

_KEY_ALPHABET = string.ascii_uppercase + string.digits
CREDENTIALS_PROFILE = "openlv"
DEFAULT_CACHE_TTL_S = 30.0


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the only time its secret leaves the store."""

    record: AccessKey
    secret_access_key: str

    @property
    def access_key_id(self) -> str:
        return self.record.access_key_id


@dataclass(frozen=True)
class StoredKey:
    secret_access_key: str
    role: Role


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
    def __init__(self, engine: Engine, master_key_file: Path, *, cache_ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        self._engine = engine
        if not master_key_file.exists():
            write_private(master_key_file, Fernet.generate_key())
        self._fernet = Fernet(master_key_file.read_bytes())
        # A lookup racing a delete cannot put the deleted key back: the cache keeps no load that began before a discard.
        self._cache: TtlCache[StoredKey | None] = TtlCache(cache_ttl_s)

    def create(self, *, role: Role, description: str = "", pair: tuple[str, str] | None = None) -> IssuedKey:
        """A new key with a random id and secret, or with `pair` (the first admin key a deployment names)."""
        access_key_id, secret = pair or (
            "LVAK" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secrets.token_urlsafe(30),
        )
        record = AccessKey(
            access_key_id=access_key_id,
            encrypted_secret=self._fernet.encrypt(secret.encode()).decode(),
            role=role,
            description=description,
        )
        with transaction(self._engine) as session:
            session.add(record)
        return IssuedKey(record=record, secret_access_key=secret)

    def lookup(self, access_key_id: str) -> StoredKey | None:
        """The key's secret and role, or None when there is no such key (an unknown id is not cached, so a key created
        through another replica works at once)."""
        return self._cache.get(access_key_id, lambda: self._load(access_key_id))

    def _load(self, access_key_id: str) -> StoredKey | None:
        with transaction(self._engine) as session:
            row = session.get(AccessKey, access_key_id)
        if row is None:
            return None
        secret = self._fernet.decrypt(row.encrypted_secret.encode()).decode()
        return StoredKey(secret_access_key=secret, role=Role(row.role))

    def cached(self, access_key_id: str) -> StoredKey | None:
        """The key if it is cached and fresh (never touches the database)."""
        return self._cache.peek(access_key_id)

    def secret_for(self, access_key_id: str) -> str | None:
        stored = self.lookup(access_key_id)
        return stored.secret_access_key if stored else None

    def role_for(self, access_key_id: str) -> Role | None:
        """The key's role, or None when there is no such key (the console's sign-in asks this)."""
        stored = self.lookup(access_key_id)
        return stored.role if stored else None

    def list_keys(self, *, after: int | str | None, limit: int) -> list[AccessKey]:
        """Up to `limit` + 1 keys ordered by id, after `after` (the extra one tells the caller a next page exists)."""
        query = select(AccessKey).order_by(col(AccessKey.access_key_id)).limit(limit + 1)
        if after is not None:
            query = query.where(col(AccessKey.access_key_id) > after)
        with transaction(self._engine) as session:
            return list(session.exec(query).all())

    def delete(self, access_key_id: str, *, caller: str) -> None:
        """Delete a key, refusing the caller's own key and the last admin key; effective from the next request."""
        if access_key_id == caller:
            raise ValidationException(
                f"Access key {access_key_id} signed this request and cannot delete itself; use another admin key."
            )
        with transaction(self._engine) as session:
            # On PostgreSQL, lock the admin keys so two deletes of different admin keys cannot both pass the count.
            admin_ids = select(AccessKey.access_key_id).where(col(AccessKey.role) == Role.ADMIN)
            session.exec(admin_ids.order_by(col(AccessKey.access_key_id)).with_for_update()).all()
            admins = select(func.count()).select_from(AccessKey).where(col(AccessKey.role) == Role.ADMIN)
            deleted = session.execute(
                delete(AccessKey).where(
                    col(AccessKey.access_key_id) == access_key_id,
                    or_(col(AccessKey.role) != Role.ADMIN, admins.scalar_subquery() > 1),
                )
            )
            if deleted.rowcount == 0:  # type: ignore[attr-defined]
                if session.get(AccessKey, access_key_id) is None:
                    raise ResourceNotFoundException(
                        f"Access key {access_key_id} does not exist.",
                        resource_id=access_key_id,
                        resource_type="ACCESS_KEY",
                    )
                raise ConflictException(
                    f"Access key {access_key_id} is the last admin key; create another admin key before deleting it.",
                    resource_id=access_key_id,
                    resource_type="ACCESS_KEY",
                )
        self._cache.discard(access_key_id)

    def has_keys(self) -> bool:
        with transaction(self._engine) as session:
            return session.exec(select(AccessKey).limit(1)).first() is not None


def ensure_admin_credentials(
    store: KeyStore, credentials_file: Path, region: str, *, seed: tuple[str, str] | None = None
) -> bool:
    """On first start create an admin key pair (`seed`, else random) and write it as an AWS credentials file (0600).

    Returns True when a new pair was created. Once any key exists the seed is ignored, so a deployment that deleted
    its seeded key does not get it back on the next start.
    """
    if store.has_keys():
        return False
    pair = store.create(role=Role.ADMIN, description="admin (created on first start)", pair=seed)
    text = (
        f"[{CREDENTIALS_PROFILE}]\n"
        f"aws_access_key_id = {pair.access_key_id}\n"
        f"aws_secret_access_key = {pair.secret_access_key}\n"
        f"region = {region}\n"
    )
    write_private(credentials_file, text.encode())
    return True
