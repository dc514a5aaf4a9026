"""ListDatasetEntries: filtered, id-ordered pages of a dataset's entries."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.db.models import Dataset, DatasetEntry
from service.domain.entries import LABELS
from service.errors import ValidationException


@dataclass(frozen=True)
class EntryFilter:
    """Lookout for Vision's filters; `anomaly_class` is the label ('normal' or 'anomaly'), as in the AWS API."""

    labeled: bool | None = None
    anomaly_class: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    source_ref_contains: str | None = None

    def __post_init__(self) -> None:
        if self.anomaly_class is not None and self.anomaly_class not in LABELS:
            raise ValidationException(f"AnomalyClass must be 'normal' or 'anomaly'; got {self.anomaly_class!r}.")
        if self.source_ref_contains is not None and not self.source_ref_contains.strip():
            raise ValidationException("SourceRefContains must contain a non-space character.")


def parse_timestamp(value: str | None, *, name: str) -> datetime | None:
    """An ISO 8601 timestamp (botocore's query-string format) or epoch seconds; naive times are UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError):
        raise ValidationException(f"{name} {value!r} is outside the range of timestamps.") from None
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationException(f"{name} {value!r} is not an ISO 8601 timestamp.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_entries(
    session: Session, *, dataset: Dataset, entry_filter: EntryFilter, after_id: int, limit: int
) -> list[DatasetEntry]:
    """Matching entries ordered by id after `after_id`; one more than `limit` tells whether a next page exists."""
    query = select(DatasetEntry).where(DatasetEntry.dataset_id == dataset.id, col(DatasetEntry.id) > after_id)
    if entry_filter.labeled is not None:
        label = col(DatasetEntry.label)
        query = query.where(label.is_not(None) if entry_filter.labeled else label.is_(None))
    if entry_filter.anomaly_class is not None:
        query = query.where(DatasetEntry.label == entry_filter.anomaly_class)
    if entry_filter.created_before is not None:
        query = query.where(col(DatasetEntry.created_at) < entry_filter.created_before)
    if entry_filter.created_after is not None:
        query = query.where(col(DatasetEntry.created_at) > entry_filter.created_after)
    if entry_filter.source_ref_contains:
        query = query.where(_contains(session, entry_filter.source_ref_contains))
    return list(session.exec(query.order_by(col(DatasetEntry.id)).limit(limit + 1)))


def _contains(session: Session, text: str) -> Any:
    """A case-sensitive substring test on both backends (LIKE ignores ASCII case on SQLite but not on PostgreSQL)."""
    position = func.strpos if session.get_bind().dialect.name == "postgresql" else func.instr
    return position(col(DatasetEntry.source_ref), text) > 0
