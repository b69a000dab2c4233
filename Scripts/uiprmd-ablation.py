#!/usr/bin/env python3
"""How far can OnTrack's kind of scorer go on UI-PRMD? Variants of the scoring, side by side.

Input: a folder written by `ontrack eval uiprmd --no-vicon --dump DIR` (every leave-one-subject-out
fold's raw measures of the training correct repetitions and the held-out subject's repetitions,
and the held-out repetitions' body features). Output: a Markdown table of the ROC AUC per
movement (correct vs incorrect, pooled over the ten held-out subjects) for each variant.

Every variant except the last is one-class: its reference, statistics and tolerances come from
the other nine subjects' correct repetitions only, as the protocol asks. The last one
(logistic regression on the other subjects' correct *and incorrect* repetitions) breaks the
protocol on purpose, as an upper bound for re-weighting the same measures.

    Scripts/uiprmd-ablation.py DIR [--exercises Assets/exercises]

Needs numpy, scipy and dtaidistance (the peers' environment: `Scripts/install-peers.sh`).
"""
import argparse
import collections
import glob
import json
import math
import os

import numpy as np
from dtaidistance import dtw_ndim
from scipy.ndimage import uniform_filter1d

# The feature columns' bones and angles, in order: read from the dump (`load_layout`), which
# writes them beside every repetition's features, so they follow the scorer's `FeatureLayout`.
BONES = []
ANGLES = []
MOVEMENTS = range(1, 11)


def auc(positives, negatives):
    p = np.asarray(positives)[:, None]
    n = np.asarray(negatives)[None, :]
    return ((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size)


def columns(name):
    if name in BONES:
        k = BONES.index(name)
        return [3 * k, 3 * k + 1, 3 * k + 2]
    return [3 * len(BONES) + ANGLES.index(name)]


def load_layout(folder):
    """Sets BONES and ANGLES from the first feature header of the dump."""
    headers = sorted(glob.glob(os.path.join(folder, "features", "*.json")))
    if not headers:
        raise SystemExit(f"{folder}: no features/*.json; write it with `ontrack eval uiprmd --dump`")
    info = json.load(open(headers[0]))
    if "bones" not in info or "angles" not in info:
        raise SystemExit(f"{headers[0]}: no bone and angle names (an older dump): write it again")
    BONES[:] = info["bones"]
    ANGLES[:] = info["angles"]


class Data:
    def __init__(self, folder, exercises):
        self.folder = folder
        self.rows = [json.loads(line) for line in open(os.path.join(folder, "measures.jsonl"))]
        self.folds = collections.defaultdict(list)
        for r in self.rows:
            self.folds[(r["movement"], r["fold"])].append(r)
        self.definitions = {}
        for path in glob.glob(os.path.join(exercises, "uiprmd-m*.json")):
            movement = int(os.path.basename(path)[len("uiprmd-m"):][:2])
            self.definitions[movement] = json.load(open(path))
        self.names = sorted(self.rows[0]["measures"])
        self._features = {}
        load_layout(folder)

    def split(self, movement, fold):
        rows = self.folds[(movement, fold)]
        return ([r for r in rows if r["subject"] != fold],
                [r for r in rows if r["subject"] == fold])

    def features(self, movement):
        """Every repetition of `movement` as it was scored (mirrored onto the working side)."""
        if movement not in self._features:
            reps = []
            for header in sorted(glob.glob(os.path.join(
                    self.folder, "features", f"m{movement:02d}_*.json"))):
                info = json.load(open(header))
                name = os.path.basename(header)[:-5]
                x = np.fromfile(header[:-5] + ".f32", dtype="<f4").astype(np.float64)
                # The measure columns (bone directions, then angles); the bone lengths
                # after them are left out.
                x = x.reshape(info["frames"], info["width"])[:, :3 * len(BONES) + len(ANGLES)]
                reps.append(dict(subject=int(name.split("_")[1][1:]), correct=name.endswith("_c"),
                                 x=x))
            self._features[movement] = reps
        return self._features[movement]


# Summary-measure variants: each maps (test vector, training vectors, weights) to a badness.

def summary(r, definition, everything=False):
    """Aligned error and range deficit of each scored measure, excess movement of each
    keep-still measure, tempo; with `everything`, all three for every measure."""
    values, weights = [], []
    measures = ([(n, 1.0) for n in sorted(r["measures"])] if everything
                else [(m["measure"], m["weight"]) for m in definition["measures"]])
    for name, weight in measures:
        m = r["measures"][name]
        values += [m["error"], max(0.0, abs(m["referenceRangeOfMotion"]) - abs(m["rangeOfMotion"]))]
        weights += [weight, weight]
    stills = sorted(r["measures"]) if everything else [k["measure"] for k in definition["keepStill"]]
    for name in stills:
        m = r["measures"][name]
        values.append(max(0.0, m["movement"] - m["referenceMovement"]))
        weights.append(1.0)
    values.append(abs(math.log(r["tempoRatio"])))
    weights.append(1.0)
    return np.array(values), np.array(weights)


def tolerance_ratio(x, train, w):
    tolerance = np.maximum(train.mean(0) + 3 * train.std(0), 3.0)
    return (w * (x / tolerance) ** 2).sum()


def z_squared(x, train, w):
    z = np.maximum((x - train.mean(0)) / (train.std(0) + 1e-3), 0)
    return (w * z ** 2).sum()


def z_absolute(x, train, w):
    z = np.maximum((x - train.mean(0)) / (train.std(0) + 1e-3), 0)
    return (w * z).sum()


def z_maximum(x, train, w):
    z = np.maximum((x - train.mean(0)) / (train.std(0) + 1e-3), 0)
    return (w * z).max()


def one_class(data, movement, rule, everything=False):
    definition = data.definitions[movement]
    positives, negatives = [], []
    for fold in range(1, 11):
        training, held_out = data.split(movement, fold)
        train = np.array([summary(r, definition, everything)[0]
                          for r in training if r["correct"]])
        for r in held_out:
            x, w = summary(r, definition, everything)
            (positives if r["correct"] else negatives).append(-rule(x, train, w))
    return auc(positives, negatives)


def logistic_upper_bound(data, movement, penalty=0.1):
    """Breaks the protocol: learns weights from the other subjects' incorrect repetitions."""
    def vector(r):
        return summary(r, None, everything=True)[0]
    positives, negatives = [], []
    for fold in range(1, 11):
        # The other subjects' held-out repetitions (each scored in its own fold).
        training = [r for f in range(1, 11) if f != fold for r in data.split(movement, f)[1]]
        x = np.array([vector(r) for r in training])
        y = np.array([0.0 if r["correct"] else 1.0 for r in training])
        mean, sd = x.mean(0), x.std(0) + 1e-9
        x = (x - mean) / sd
        w, b = np.zeros(x.shape[1]), 0.0
        for _ in range(100):  # Newton steps on the L2-penalised log-likelihood
            p = 1 / (1 + np.exp(-(x @ w + b)))
            gradient = x.T @ (p - y) / len(y) + penalty * w
            hessian = x.T @ (x * (p * (1 - p))[:, None]) / len(y) + penalty * np.eye(len(w))
            w -= np.linalg.solve(hessian, gradient)
            b -= (p - y).mean() / max((p * (1 - p)).mean(), 1e-6)
        for r in data.split(movement, fold)[1]:
            s = ((vector(r) - mean) / sd) @ w + b
            (positives if r["correct"] else negatives).append(-s)
    return auc(positives, negatives)


def swift_score(data, movement):
    positives, negatives = [], []
    for fold in range(1, 11):
        for r in data.split(movement, fold)[1]:
            (positives if r["correct"] else negatives).append(r["score"])
    return auc(positives, negatives)


def within_subject(data, movement, statistic):
    values = []
    for fold in range(1, 11):
        held_out = data.split(movement, fold)[1]
        values.append(auc([r["score"] for r in held_out if r["correct"]],
                          [r["score"] for r in held_out if not r["correct"]]))
    return statistic(values)


# Template variants on the features: the reference is rebuilt from the training correct
# repetitions; alignment is banded DTW on the weighted bone directions, as in OnTrack.

def alignment_weights(definition):
    base = definition.get("alignmentWeight", 0.25)
    w = np.zeros(3 * len(BONES) + len(ANGLES))
    w[:3 * len(BONES)] = math.sqrt(base)
    for m in definition["measures"]:
        if m["measure"] in BONES:
            w[columns(m["measure"])] = math.sqrt(max(m["weight"], base))
    return w


def stretched(x, n=64):
    t = np.linspace(0, len(x) - 1, n)
    i = np.floor(t).astype(int)
    j = np.minimum(i + 1, len(x) - 1)
    f = (t - i)[:, None]
    return x[i] * (1 - f) + x[j] * f


def aligned(x, reference, w):
    m = len(reference)
    radius = max(4, m // 4) + abs(len(x) - m)
    path = dtw_ndim.warping_path(x * w, reference * w, window=radius + 1, use_c=True)
    total = np.zeros((m, x.shape[1]))
    count = np.zeros(m)
    for i, j in path:
        total[j] += x[i]
        count[j] += 1
    return total / np.maximum(count, 1)[:, None]


def measure_error(a, template, name):
    c = columns(name)
    if len(c) == 3:
        u = a[:, c] / np.linalg.norm(a[:, c], axis=1, keepdims=True)
        v = template[:, c] / np.linalg.norm(template[:, c], axis=1, keepdims=True)
        return np.arccos(np.clip((u * v).sum(1), -1, 1))
    return a[:, c[0]] - template[:, c[0]]


def excursion(x, name):
    c = columns(name)
    if len(c) == 3:
        u = x[:, c] / np.linalg.norm(x[:, c], axis=1, keepdims=True)
        return np.max(np.arccos(np.clip(u @ u[0], -1, 1)))
    v = x[:, c[0]] - x[0, c[0]]
    return v[np.argmax(np.abs(v))]


def template_variant(data, movement, average=True, per_frame=False, smooth=0):
    definition = data.definitions[movement]
    reps = data.features(movement)
    if smooth:
        reps = [dict(r, x=uniform_filter1d(r["x"], smooth, axis=0, mode="nearest")) for r in reps]
    w = alignment_weights(definition)
    names = [m["measure"] for m in definition["measures"]]
    weights = np.array([m["weight"] for m in definition["measures"]])
    stills = [k["measure"] for k in definition["keepStill"]]
    positives, negatives = [], []
    for fold in range(1, 11):
        train = [r for r in reps if r["subject"] != fold and r["correct"]]
        stack = np.array([stretched(r["x"] * w).ravel() for r in train])
        reference = train[int(np.argmin(((stack - stack.mean(0)) ** 2).sum(1)))]["x"]
        m = len(reference)
        train_aligned = np.array([aligned(r["x"], reference, w) for r in train])
        template = train_aligned.mean(0) if average else reference
        if per_frame:
            spread = [np.sqrt(np.mean([measure_error(a, template, n) ** 2
                                       for a in train_aligned], 0)) + 0.02 for n in names]
        reference_range = {n: excursion(template, n) for n in names + stills}

        def vector(x):
            a = aligned(x, reference, w)
            if per_frame:
                errors = [np.sqrt(np.mean((measure_error(a, template, n) / s) ** 2))
                          for n, s in zip(names, spread)]
            else:
                errors = [np.mean(np.abs(measure_error(a, template, n))) for n in names]
            deficits = [max(0, abs(reference_range[n]) - abs(excursion(x, n))) for n in names]
            excess = [max(0, abs(excursion(x, n)) - abs(reference_range[n])) for n in stills]
            return np.array(errors), np.array(deficits), np.array(excess), abs(math.log(len(x) / m))

        trained = [vector(r["x"]) for r in train]
        tolerance = [np.maximum(np.mean([t[k] for t in trained], 0)
                                + 3 * np.std([t[k] for t in trained], 0), 0.0524)
                     for k in range(4)]
        for r in reps:
            if r["subject"] != fold:
                continue
            v = vector(r["x"])
            badness = ((weights * ((v[0] / tolerance[0]) ** 2 + (v[1] / tolerance[1]) ** 2)).sum()
                       / weights.sum() + ((v[2] / tolerance[2]) ** 2).sum()
                       + (v[3] / tolerance[3]) ** 2)
            (positives if r["correct"] else negatives).append(-badness)
    return auc(positives, negatives)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dump", help="folder written by `ontrack eval uiprmd --dump`")
    parser.add_argument("--exercises", default="Assets/exercises")
    arguments = parser.parse_args()
    data = Data(arguments.dump, arguments.exercises)
    variants = [
        ("OnTrack's score (from the dump)", lambda m: swift_score(data, m)),
        ("same measures, tolerance = mean + 3 SD (≈ OnTrack)",
         lambda m: one_class(data, m, tolerance_ratio)),
        ("same measures, Σ w·z² (z from the training correct)", lambda m: one_class(data, m, z_squared)),
        ("same measures, Σ w·z", lambda m: one_class(data, m, z_absolute)),
        ("same measures, max w·z", lambda m: one_class(data, m, z_maximum)),
        (f"all {len(data.names)} measures, Σ z² (novelty)",
         lambda m: one_class(data, m, z_squared, True)),
        ("template: representative repetition", lambda m: template_variant(data, m, average=False)),
        ("template: aligned average of the correct", lambda m: template_variant(data, m)),
        ("template: aligned average, per-frame spread", lambda m: template_variant(data, m, per_frame=True)),
        ("template: aligned average, features smoothed (5 frames)",
         lambda m: template_variant(data, m, smooth=5)),
        ("logistic regression on correct and incorrect (breaks the protocol)",
         lambda m: logistic_upper_bound(data, m)),
        ("within one subject: mean AUC of OnTrack's score", lambda m: within_subject(data, m, np.mean)),
        ("within one subject: lowest AUC of OnTrack's score", lambda m: within_subject(data, m, np.min)),
    ]
    print("| variant | " + " | ".join(f"m{m:02d}" for m in MOVEMENTS) + " | min | mean |")
    print("|---|" + "---:|" * (len(MOVEMENTS) + 2))
    for name, run in variants:
        values = [run(m) for m in MOVEMENTS]
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {min(values):.3f} | {np.mean(values):.3f} |", flush=True)


if __name__ == "__main__":
    main()
