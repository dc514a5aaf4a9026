"""The unit of work: after-commit actions run once the transaction commits, in order, and never after a rollback."""

from pathlib import Path

import pytest
from sqlmodel import select

from service.db.engine import build_engine, unit_of_work
from service.db.models import Project
from service.migrations.runner import upgrade_to_head


def test_after_commit_actions_run_after_the_commit_and_never_after_a_rollback(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade_to_head(engine)
    seen: list[str] = []

    def committed_projects() -> list[str]:
        with unit_of_work(engine) as work:
            return [project.name for project in work.session.exec(select(Project))]

    with unit_of_work(engine) as work:
        work.session.add(Project(name="kept"))
        work.after_commit(lambda: seen.append(f"first sees {committed_projects()}"))
        work.after_commit(lambda: 1 / 0)
        work.after_commit(lambda: seen.append("second"))
        assert seen == []
    assert seen == ["first sees ['kept']", "second"], "actions run in order after the commit; one failing stops none"

    with pytest.raises(RuntimeError), unit_of_work(engine) as work:
        work.session.add(Project(name="dropped"))
        work.after_commit(lambda: seen.append("after a rollback"))
        raise RuntimeError("the request failed")
    assert seen == ["first sees ['kept']", "second"]
    assert committed_projects() == ["kept"]
    engine.dispose()
