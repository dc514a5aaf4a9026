"""Projects: create, describe, list, delete."""

from sqlmodel import Session, col, select

from service.db.models import Dataset, Model, Project
from service.domain import idempotency
from service.domain.names import validate_project_name
from service.errors import ConflictException, ResourceNotFoundException


def get_project(session: Session, *, name: str) -> Project:
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is None:
        raise ResourceNotFoundException(f"Project {name} does not exist.", resource_id=name, resource_type="PROJECT")
    return project


def create_project(session: Session, *, name: str) -> Project:
    validate_project_name(name)
    if session.exec(select(Project).where(Project.name == name)).first() is not None:
        raise ConflictException(f"Project {name} already exists.", resource_id=name, resource_type="PROJECT")
    project = Project(name=name)
    session.add(project)
    session.flush()
    return project


def list_projects(session: Session, *, after_id: int, limit: int) -> list[Project]:
    """Projects ordered by id, starting after `after_id`; one more than `limit` tells whether a next page exists."""
    query = select(Project).where(col(Project.id) > after_id).order_by(col(Project.id)).limit(limit + 1)
    return list(session.exec(query))


def project_datasets(session: Session, *, project: Project) -> list[Dataset]:
    query = select(Dataset).where(Dataset.project_id == project.id).order_by(col(Dataset.dataset_type))
    return list(session.exec(query))


def delete_project(session: Session, *, name: str) -> Project:
    """Delete a project that has no datasets and no models left, as Lookout for Vision requires."""
    project = get_project(session, name=name)
    datasets = project_datasets(session, project=project)
    if datasets:
        kinds = ", ".join(dataset.dataset_type for dataset in datasets)
        raise ConflictException(
            f"Project {name} still has datasets ({kinds}); delete them first.",
            resource_id=name,
            resource_type="PROJECT",
        )
    if session.exec(select(Model.id).where(Model.project_id == project.id).limit(1)).first() is not None:
        raise ConflictException(
            f"Project {name} still has models; delete them with DeleteModel first.",
            resource_id=name,
            resource_type="PROJECT",
        )
    idempotency.forget_project(session, project_name=name)
    session.delete(project)
    session.flush()
    return project
