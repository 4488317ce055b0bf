"""The search space that the ``site`` fixture (conftest.py) writes to ``search_space.json``."""

SPACE = {'x': {'_type': 'choice', '_value': [1, 2]}}
