"""Request bodies as they arrive, read into the cluster's typed requests — the one place where API JSON
becomes a domain object."""
