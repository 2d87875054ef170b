"""The server's configuration: topology (the cluster), accounts (who may call) and timing (how fast)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mockserver.cluster.errors import ConfigError
from mockserver.cluster.timing import Timing
from mockserver.cluster.topology import Topology, topology_from_dict

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default_config.yaml"

# The keys each section may hold. A misspelt key (`gpuz`) would otherwise be silently ignored and the
# cluster would start with a default the user did not mean; `timing` and quotas check their own keys.
_TOP_KEYS = (
    "cluster",
    "nodePools",
    "departments",
    "projects",
    "nodes",
    "accounts",
    "timing",
    "scheduler",
    "storage",
)
_LIST_KEYS = {
    "departments": ("id", "name", "quotas", "overQuotaPriority"),
    "projects": ("id", "name", "departmentId", "defaultNodePools", "overQuotaPriority", "quotas"),
    "nodes": (
        "name",
        "pool",
        "gpus",
        "gpuMemoryMiB",
        "gpuModel",
        "cpuMillis",
        "memoryMiB",
        "labels",
        "migProfiles",
        "extendedResources",
    ),
    "accounts": ("clientId", "clientSecret", "email", "projects"),
}
_CLUSTER_KEYS = ("id", "name")
_STORAGE_KEYS = ("pvcs", "secrets")


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


# libyaml where the install has it: every app (a test suite starts hundreds) reads the config.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_config(path: Path | None = None) -> ServerConfig:
    """Read a YAML config file (the embedded default when `path` is None)."""
    source = path or DEFAULT_CONFIG
    try:
        data = yaml.load(Path(source).read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except UnicodeDecodeError as error:
        raise ConfigError(
            str(source), "(file)", f"is not UTF-8 text (byte {error.start}: {error.reason}); save it as UTF-8"
        ) from error
    except OSError as error:
        raise ConfigError(str(source), "(file)", f"cannot be read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(str(source), "(file)", f"is not valid YAML: {error}") from error
    return config_from_dict(data, str(source))


def config_from_dict(data: Any, source: str) -> ServerConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, "(top level)", "must be a mapping with cluster, projects, nodes … sections")
    _known_keys(data, source)
    topology = topology_from_dict(data, source)
    topology.claims, topology.secrets = _storage(data.get("storage"), source)
    accounts = _accounts(data.get("accounts"), source)
    for index, account in enumerate(accounts):
        for project in sorted(account.projects or ()):
            if topology.project(project) is None:
                raise ConfigError(
                    source,
                    f"accounts[{index}].projects",
                    f"names project '{project}', which is not defined (known: {', '.join(topology.projects)})",
                )
    return ServerConfig(
        topology=topology, timing=Timing.from_dict(data.get("timing"), source), accounts=accounts
    )


def _known_keys(data: dict[str, Any], source: str) -> None:
    """Refuses keys the server does not read, naming the path, before any section is parsed."""
    _only(data, _TOP_KEYS, "", source)
    if isinstance(data.get("cluster"), dict):
        _only(data["cluster"], _CLUSTER_KEYS, "cluster.", source)
    if isinstance(data.get("storage"), dict):
        _only(data["storage"], _STORAGE_KEYS, "storage.", source)
    for section, keys in _LIST_KEYS.items():
        items = data.get(section)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    _only(item, keys, f"{section}[{index}].", source)


def _only(mapping: dict[Any, Any], known: tuple[str, ...], prefix: str, source: str) -> None:
    for key in mapping:
        if key not in known:
            raise ConfigError(source, f"{prefix}{key}", f"unknown key (known: {', '.join(known)})")


def _storage(section: Any, source: str) -> tuple[frozenset[str], frozenset[str]]:
    """The PVC claim names and secret names that exist in the cluster (what pods may use)."""
    if section is None:
        return frozenset(), frozenset()
    if not isinstance(section, dict):
        raise ConfigError(source, "storage", "must be a mapping with pvcs and secrets lists")
    found = []
    for key in _STORAGE_KEYS:
        names = section.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(source, f"storage.{key}", "must be a list of names")
        found.append(frozenset(names))
    return found[0], found[1]


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
