"""Actor: who performs a write (a user on the web, a user through an API token, the system)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from guanxi.platform.identity.models import User

Channel = Literal["web", "api", "system", "import", "worker"]


@dataclass(frozen=True)
class Actor:
    """The user a request acts for, the door it came through and, for API calls, the token's scopes."""

    user: User
    channel: Channel = "web"
    token_id: int | None = None
    token_scopes: frozenset[str] | None = field(default=None)

    @property
    def id(self) -> int:
        return int(self.user.pk)

    def __str__(self) -> str:
        return f"{self.user.get_username()} via {self.channel}"
