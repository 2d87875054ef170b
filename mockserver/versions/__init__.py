"""The API versions the fake can serve, as one table: `table.py` names the columns, `rows.py` holds one row
per version. Parsing, handlers and views read a version's row; the cluster never does."""

from mockserver.versions.rows import DEFAULT_VERSION, VERSIONS
from mockserver.versions.table import ACCEPTED, ApiVersion

__all__ = ["ACCEPTED", "DEFAULT_VERSION", "VERSIONS", "ApiVersion"]
