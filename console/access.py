"""Who may use the console, and which pages each role sees.

`role_of` is the one place that answers "what role does this access key have" (the key store's role, see
`service.auth.roles`); everything role-aware below (sign-in refusal, navigation, page guards) follows it. This module
never reads cookies or secrets.
"""

from dataclasses import dataclass

from service.context import AppContext

ADMIN, REVIEWER, INFERENCE = "admin", "reviewer", "inference"


def role_of(context: AppContext, access_key_id: str) -> str:
    """The role of an access key: admin, reviewer or inference (a deleted key has none: it is refused like inference)."""
    role = context.keys.role_for(access_key_id)
    return INFERENCE if role is None else str(role)


@dataclass(frozen=True)
class Page:
    """A page of the console: its navigation label, where it lives and which roles see it."""

    key: str
    label: str
    roles: frozenset[str]
    in_project: bool


# The navigation, in order; a role's first page is where sign-in takes it.
PAGES = (
    Page("projects", "Projects", frozenset({ADMIN}), in_project=False),
    Page("project", "Datasets", frozenset({ADMIN}), in_project=True),
    Page("training", "Training", frozenset({ADMIN}), in_project=True),
    Page("models", "Models", frozenset({ADMIN}), in_project=True),
    Page("hosting", "Hosting", frozenset({ADMIN}), in_project=True),
    Page("detections", "Detections", frozenset({ADMIN}), in_project=True),
    Page("review", "Review", frozenset({ADMIN, REVIEWER}), in_project=True),
)

# Where a role's first page lives when it is not in a project (the reviewer's project chooser for the queue).
HOME_PATHS = {"projects": "/console/projects", "review": "/console/review"}


def pages_for(role: str) -> list[Page]:
    return [page for page in PAGES if role in page.roles]


def home_for(role: str) -> str:
    """The console path of the role's first page (sign-in lands there); sign-in for a role without pages."""
    pages = pages_for(role)
    return HOME_PATHS[pages[0].key] if pages else "/console/sign-in"


def sign_in_refusal(role: str) -> str | None:
    """Why a key of this role cannot sign in to the console, or None when it can."""
    if role == INFERENCE:
        return "This is an inference key: it can call DetectAnomalies but cannot sign in to the console."
    if not pages_for(role):
        return f"Keys with the {role} role have no console pages yet."
    return None
