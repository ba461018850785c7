"""A logistic combination of named inputs: fitted on labelled examples, stored as plain numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Combination:
    """Weights over named inputs and a bias; `probabilities` is the logistic of their weighted sum."""

    names: tuple[str, ...]
    weights: np.ndarray
    bias: float

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(inputs, dtype=np.float64) @ self.weights + self.bias

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.scores(inputs)))

    def as_dict(self) -> dict:
        return {"names": list(self.names), "weights": [round(float(w), 6) for w in self.weights],
                "bias": round(float(self.bias), 6)}

    @classmethod
    def from_dict(cls, data: dict) -> "Combination":
        names, weights = tuple(data["names"]), np.asarray(data["weights"], dtype=np.float64)
        if weights.shape != (len(names),):
            raise ValueError(f"{len(names)} inputs named but {weights.size} weights given")
        return cls(names, weights, float(data["bias"]))


# What decides whether a question is answered at all, read off its candidates once the reader has read them.
# `names_missing` is the named check of answer/extractive.py (a proper name of the question that the items read
# never mention), a declared feature of the whole question: how much it counts is fitted like the rest.
ANSWERABILITY_INPUTS = ("best_reader_logit", "reader_margin", "best_probability", "coverage_of_best", "best_coverage",
                        "short_answer_margin", "names_missing")


def answerability_inputs(logits: np.ndarray, probabilities: np.ndarray, features: np.ndarray,
                         span_margins: np.ndarray, names_missing: bool) -> list[float]:
    """ANSWERABILITY_INPUTS for one question: its read candidates' reader logits, combined probabilities,
    features (the coverage feature comes first) and the reader's short-answer margins, and whether a name
    it asks about is missing from the items read."""
    ordered = np.sort(logits)[::-1]
    margin = float(ordered[0] - ordered[1]) if len(ordered) > 1 else 0.0
    best = int(np.argmax(probabilities))
    return [float(ordered[0]), margin, float(probabilities[best]), float(features[best, 0]),
            float(features[:, 0].max()), float(span_margins[best]), float(names_missing)]


def fit_logistic(inputs: np.ndarray, targets: np.ndarray, l2: float = 1.0, steps: int = 50,
                 sample_weights: np.ndarray | None = None,
                 offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and bias maximising the L2-penalised (sample-weighted) log-likelihood (Newton's method;
    deterministic). `offset`, when given, is added to every row's score as it stands, unweighted."""
    x = np.column_stack([np.asarray(inputs, dtype=np.float64), np.ones(len(inputs))])
    y = np.asarray(targets, dtype=np.float64)
    s = np.ones(len(y)) if sample_weights is None else np.asarray(sample_weights, dtype=np.float64)
    fixed = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=np.float64)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + fixed)))
        gradient = x.T @ (s * (p - y)) + penalty * w
        hessian = (x * (s * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        change = np.linalg.solve(hessian, gradient)
        w -= change
        if np.max(np.abs(change)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def fit_conditional_logit(groups: list[tuple[np.ndarray, np.ndarray, float]], l2: float = 1.0,
                          steps: int = 50) -> np.ndarray:
    """Weights for choosing a row within each group: a softmax over the group's rows, fitted by minimising the
    L2-penalised, group-weighted cross-entropy against a target spread evenly over the rows labelled 1 (one
    labelled row makes it the log-probability of that row). Each group is (inputs, labels, weight) and must
    hold a labelled row. Newton's method, each step halved until the loss falls (a full step can overshoot
    and diverge on large groups); deterministic. Only differences within a group count, so an input that is
    the same for all of a group's rows gets no weight, and there is no bias."""
    size = groups[0][0].shape[1] if groups else 0
    prepared = [(np.asarray(inputs, dtype=np.float64), labels / labels.sum(), weight)
                for inputs, labels, weight in groups]

    def loss(w: np.ndarray) -> float:
        total = 0.5 * l2 * float(w @ w)
        for x, target, weight in prepared:
            z = x @ w
            top = z.max()
            total += weight * (top + np.log(np.exp(z - top).sum()) - float(target @ z))
        return total

    w = np.zeros(size)
    current = loss(w)
    for _ in range(steps):
        gradient = l2 * w
        hessian = (l2 + 1e-9) * np.eye(size)
        for x, target, weight in prepared:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            mean = x.T @ p
            gradient += weight * (x.T @ (p - target))
            hessian += weight * ((x * p[:, None]).T @ x - np.outer(mean, mean))
        newton = np.linalg.solve(hessian, gradient)
        change = newton
        for _ in range(30):
            trial = loss(w - change)
            if trial <= current:
                break
            change = change / 2
        else:
            break  # no step lowers the loss: at the minimum, to rounding
        w, current = w - change, trial
        if np.max(np.abs(newton), initial=0.0) < 1e-8:  # the full step, so a halved one does not stop it early
            break
    return w
