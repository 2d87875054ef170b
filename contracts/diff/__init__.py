"""`contracts diff OLD NEW`: what a client feels when its backend moves from one API document to another."""

from contracts.diff.compare import compare
from contracts.diff.model import Change, ChangeKind, Comparison

__all__ = ["Change", "ChangeKind", "Comparison", "compare"]
