"""Who may use the console, and which pages each role sees.

`role_of` is the one place that answers "what role does this access key have". Until access-key roles exist it
answers "admin" for every key; at the roles merge its body becomes the key store's lookup
(`context.keys.role_for(access_key_id)`), and everything role-aware below (sign-in refusal, navigation, page guards)
follows. This module never reads cookies or secrets.
"""

from dataclasses import dataclass

from service.context import AppContext

ADMIN, REVIEWER, INFERENCE = "admin", "reviewer", "inference"


def role_of(context: AppContext, access_key_id: str) -> str:
    """The role of an access key: admin, reviewer or inference."""
    return ADMIN


@dataclass(frozen=True)
class Page:
    """A page of the console: its navigation label, where it lives and which roles see it."""

    key: str
    label: str
    roles: frozenset[str]
    in_project: bool


# The navigation, in order. The review queue (phase 2) slots in as Page("review", "Review", {ADMIN, REVIEWER}, True).
PAGES = (
    Page("projects", "Projects", frozenset({ADMIN}), in_project=False),
    Page("project", "Datasets", frozenset({ADMIN}), in_project=True),
    Page("training", "Training", frozenset({ADMIN}), in_project=True),
    Page("models", "Models", frozenset({ADMIN}), in_project=True),
    Page("hosting", "Hosting", frozenset({ADMIN}), in_project=True),
    Page("detections", "Detections", frozenset({ADMIN}), in_project=True),
)


def pages_for(role: str) -> list[Page]:
    return [page for page in PAGES if role in page.roles]


def sign_in_refusal(role: str) -> str | None:
    """Why a key of this role cannot sign in to the console, or None when it can."""
    if role == INFERENCE:
        return "This is an inference key: it can call DetectAnomalies but cannot sign in to the console."
    if not pages_for(role):
        return f"Keys with the {role} role have no console pages yet."
    return None
