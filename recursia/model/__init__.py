"""The model: embeddings, the shared reasoning net, heads and the recursion engine."""

from recursia.model.recursion import Carry, RecursiveModel, StepOutput

__all__ = ["Carry", "RecursiveModel", "StepOutput"]
