"""Trial-side runtime: environment, trial command channels, standalone mode and trial logging.

Nothing here is imported by ``import nni`` except what the trial API needs at the moment it is
first called; every module keeps its own imports lazy so that a trial pays only for what it uses.
"""
