"""A plugin whose import fails (a missing dependency)."""

raise ImportError("fake_dependency_xyz is not installed")
