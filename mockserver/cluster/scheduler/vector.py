"""The scheduler's one resource vector: GPUs (devices), CPU (millicores), memory (MiB), in that order.

Immutable: every change makes a new vector, so a queue's figures can be shared and compared without
copies. A NamedTuple keeps indexing as fast as the plain tuples it replaces (cycles add thousands of them).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mockserver.cluster.topology import UNLIMITED

EPSILON = 1e-9
GPU, CPU, MEMORY = 0, 1, 2
INDEXES = (GPU, CPU, MEMORY)


class ResourceVector(NamedTuple):
    gpu: float = 0.0
    cpu: float = 0.0
    memory: float = 0.0

    def plus(self, other: ResourceVector) -> ResourceVector:
        a0, a1, a2 = self
        b0, b1, b2 = other
        result: ResourceVector = _make(ResourceVector, (a0 + b0, a1 + b1, a2 + b2))
        return result

    def minus(self, other: ResourceVector) -> ResourceVector:
        a0, a1, a2 = self
        b0, b1, b2 = other
        result: ResourceVector = _make(ResourceVector, (a0 - b0, a1 - b1, a2 - b2))
        return result

    def times(self, factor: float) -> ResourceVector:
        a0, a1, a2 = self
        result: ResourceVector = _make(ResourceVector, (a0 * factor, a1 * factor, a2 * factor))
        return result

    def with_value(self, index: int, value: float) -> ResourceVector:
        values = list(self)
        values[index] = value
        return ResourceVector(*values)

    def exceeds(self, bounds: ResourceVector) -> bool:
        """True if any resource is above its bound; an unlimited (-1) bound is never exceeded."""
        return any(b != UNLIMITED and v > b + EPSILON for v, b in zip(self, bounds, strict=True))

    def within(self, bounds: ResourceVector) -> bool:
        return not self.exceeds(bounds)

    def rounded(self, digits: int = 6) -> ResourceVector:
        return ResourceVector(round(self[0], digits), round(self[1], digits), round(self[2], digits))


# tuple.__new__ straight from C: NamedTuple's generated __new__ is a Python call, and cycles make
# thousands of vectors.
_make: Any = tuple.__new__


def vector(gpu: float, cpu: float, memory: float) -> ResourceVector:
    """ResourceVector(gpu, cpu, memory), built without the Python-level constructor."""
    result: ResourceVector = _make(ResourceVector, (gpu, cpu, memory))
    return result


ZERO = ResourceVector()
