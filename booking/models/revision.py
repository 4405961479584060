"""The catalogue's revision: one row whose number moves whenever something a public
listing shows changes (`booking.catalogue_revision`)."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base

REVISION_ROW = 1


class CatalogueRevision(Base):
    """A single row (id 1): a new random value whenever the catalogue changes."""

    __tablename__ = "catalogue_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
