from nni import Tuner

class MyTuner(Tuner):
    def __init__(self):
        pass
