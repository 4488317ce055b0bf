"""Settings shared by every test directory."""

import os

# Trials outlive a SIGKILLed manager for NNI_TRIAL_ORPHAN_GRACE seconds (10 minutes by default) so that a
# resume can take them back. Tests kill managers often and rarely resume: keep their trials from
# lingering for minutes after the test. Tests of reattach set a longer grace themselves.
os.environ.setdefault('NNI_TRIAL_ORPHAN_GRACE', '10')
