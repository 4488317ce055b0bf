"""
A trial written with NNI annotations: the search space lives in the string comments below.

Run on its own (``python trial.py``) it trains with the values written in the code. Run through
``nnictl create --config config.yml`` (``useAnnotation: true``), nnictl rewrites a copy of this folder so that
each annotated value comes from the tuner, and builds the search space from the annotations
(``nnictl ss_gen -d .`` prints it).

The "model" is a small logistic regression trained with mini-batch gradient descent on a synthetic,
deterministic two-class dataset, so the example needs nothing but the standard library.
"""

import math
import random


def make_dataset(samples=400, seed=7):
    rng = random.Random(seed)
    data = []
    for _ in range(samples):
        x1, x2 = rng.uniform(-2, 2), rng.uniform(-2, 2)
        label = 1 if x1 * 1.5 - x2 + 0.3 * math.sin(3 * x1) > 0.2 else 0
        data.append(((x1, x2), label))
    return data[:300], data[300:]


def sigmoid(z):
    return 1 / (1 + math.exp(-max(min(z, 30), -30)))


def plain_features(x):
    return [x[0], x[1], 1.0]


def rich_features(x):
    return [x[0], x[1], x[0] * x[1], x[0] ** 2, x[1] ** 2, 1.0]


def accuracy(weights, data, features):
    hits = 0
    for x, label in data:
        score = sum(w * f for w, f in zip(weights, features(x), strict=True))
        hits += (sigmoid(score) > 0.5) == bool(label)
    return hits / len(data)


def main():
    train, test = make_dataset()

    """@nni.variable(nni.choice(8, 16, 32, 64), name=batch_size)"""
    batch_size = 16
    """@nni.variable(nni.loguniform(0.001, 1.0), name=learning_rate)"""
    learning_rate = 0.05
    """@nni.variable(nni.randint(2, 8), name=epochs)"""
    epochs = 4
    """@nni.function_choice(plain_features, rich_features, name=features)"""
    features = plain_features

    weights = [0.0] * len(features((0.0, 0.0)))
    rng = random.Random(0)
    test_acc = 0.0
    for _ in range(epochs):
        rng.shuffle(train)
        for start in range(0, len(train), batch_size):
            gradient = [0.0] * len(weights)
            batch = train[start:start + batch_size]
            for x, label in batch:
                f = features(x)
                error = sigmoid(sum(w * v for w, v in zip(weights, f, strict=True))) - label
                gradient = [g + error * v for g, v in zip(gradient, f, strict=True)]
            weights = [w - learning_rate * g / len(batch) for w, g in zip(weights, gradient, strict=True)]
        test_acc = accuracy(weights, test, features)
        """@nni.report_intermediate_result(test_acc)"""

    """@nni.report_final_result(test_acc)"""
    print(f'batch_size={batch_size} learning_rate={learning_rate:.4g} epochs={epochs} '
          f'features={features.__name__} test accuracy={test_acc:.4f}')


if __name__ == '__main__':
    main()
