"""What a running service holds: settings, database engine, object store, keys."""

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.auth.keys import KeyStore, ensure_admin_credentials
from service.db.engine import build_engine
from service.migrations.runner import upgrade_to_head
from service.settings import Settings
from service.storage import ObjectStore, build_store


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    store: ObjectStore
    keys: KeyStore

    @classmethod
    def open(cls, settings: Settings) -> "AppContext":
        """Create the data folder, migrate the schema, connect storage, make the first admin key if none exists."""
        home = settings.resolved_home
        home.mkdir(parents=True, exist_ok=True)
        engine = build_engine(settings.resolved_database_url)
        upgrade_to_head(engine)
        keys = KeyStore(engine, settings.master_key_file, cache_ttl_s=settings.auth_key_cache_ttl_s)
        ensure_admin_credentials(keys, settings.keys_file, settings.region, seed=settings.admin_key_pair)
        return cls(settings=settings, engine=engine, store=build_store(settings), keys=keys)

    def close(self) -> None:
        self.engine.dispose()
