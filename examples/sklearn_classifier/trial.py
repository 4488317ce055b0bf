"""An NNI trial: a support-vector classifier on scikit-learn's bundled digits dataset.

It runs unchanged under NNI and under this package, and also as a plain script (standalone
mode: default parameters, results logged).
"""

import logging

from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

import nni

logger = logging.getLogger('sklearn_classifier')

DEFAULT_PARAMS = {'C': 1.0, 'kernel': 'rbf', 'gamma': 0.001, 'degree': 3}


def main() -> None:
    params = dict(DEFAULT_PARAMS)
    params.update(nni.get_next_parameter() or {})
    logger.info('parameters: %s', params)

    digits = load_digits()
    model = SVC(C=params['C'], kernel=params['kernel'], gamma=params['gamma'], degree=int(params['degree']))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = []
    # one fold at a time so the web portal and assessors see a learning curve
    for train_index, test_index in folds.split(digits.data, digits.target):
        fold_score = cross_val_score(model, digits.data, digits.target,
                                     cv=[(train_index, test_index)]).mean()
        scores.append(fold_score)
        nni.report_intermediate_result(sum(scores) / len(scores))
    nni.report_final_result(sum(scores) / len(scores))


if __name__ == '__main__':
    main()
