"""The server's configuration: topology (the cluster), accounts (who may call) and timing (how fast)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mockserver.cluster.errors import ConfigError
from mockserver.cluster.lifecycle import Timing
from mockserver.cluster.topology import Topology, topology_from_dict

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default_config.yaml"


@dataclass(frozen=True)
class Account:
    client_id: str
    client_secret: str
    email: str
    projects: frozenset[str] | None  # None: every project


@dataclass(frozen=True)
class ServerConfig:
    topology: Topology
    timing: Timing
    accounts: tuple[Account, ...]


def load_config(path: Path | None = None) -> ServerConfig:
    """Read a YAML config file (the embedded default when `path` is None)."""
    source = path or DEFAULT_CONFIG
    try:
        data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(str(source), "(file)", f"cannot be read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(str(source), "(file)", f"is not valid YAML: {error}") from error
    return config_from_dict(data, str(source))


def config_from_dict(data: Any, source: str) -> ServerConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, "(top level)", "must be a mapping with cluster, projects, nodes … sections")
    return ServerConfig(
        topology=topology_from_dict(data, source),
        timing=Timing.from_dict(data.get("timing"), source),
        accounts=_accounts(data.get("accounts"), source),
    )


def _accounts(items: Any, source: str) -> tuple[Account, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(
            source, "accounts", "must be a non-empty list of {clientId, clientSecret, projects}"
        )
    accounts = []
    for index, item in enumerate(items):
        where = f"accounts[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(source, where, "must be a mapping")
        for key in ("clientId", "clientSecret"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(source, f"{where}.{key}", "must be a non-empty string")
        projects = item.get("projects", "*")
        if projects == "*":
            allowed = None
        elif isinstance(projects, list) and all(isinstance(p, (str, int)) for p in projects):
            allowed = frozenset(str(p) for p in projects)
        else:
            raise ConfigError(source, f"{where}.projects", 'must be "*" or a list of project ids')
        email = item.get("email") or f"{item['clientId']}@example.com"
        accounts.append(Account(item["clientId"], item["clientSecret"], str(email), allowed))
    ids = [a.client_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise ConfigError(source, "accounts", "clientId values must be unique")
    return tuple(accounts)
