"""NNI's trial tool channel (``nni.tools.trial_tool``): commands between a trial runner and the manager.

NNI's remote "reuse" mode ran a trial runner on each machine that exchanged framed commands
with the manager through files (:mod:`.file_channel`). Our remote and Slurm training services do
not use it; the module keeps NNI's names and framing for code that imports them.
"""
