"""NNI's vendored test files are run by ``test_nni_suite.py`` in a copy of their own tree, never collected here."""

collect_ignore_glob = ['vendor/*']
