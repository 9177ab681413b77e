"""Every feature's models, imported in one place so Alembic sees the whole schema."""

from app.auth.models import ApiKey
from app.core.models import Base

__all__ = ["ApiKey", "Base"]
