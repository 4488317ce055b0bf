"""``nnictl``, the command line of NNI: experiments, trials, algorithms. See :mod:`nni.tools.nnictl.cli`."""
