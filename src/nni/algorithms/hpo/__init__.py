"""Builtin hyper-parameter tuning algorithms; one module per algorithm, looked up via :mod:`.registry`."""
