#!/usr/bin/env python3
"""Trial (not kept, models/README.md "A head classifier on the served boxes"): a helmet / bare classifier on
head crops, re-scoring the served riders path's head boxes.

    .venv/bin/python scripts/head_classifier_trial.py --backbone small --epochs 30 --size 48
    .venv/bin/python scripts/head_classifier_trial.py --backbone coco --epochs 25 --size 64

Trains on the labelled heads of gate-camera, gate-camera-id and bike-helmet train (crops of 3 head sides,
jittered to 1.7-2.3, degraded to 10-40 px heads, JPEG, flips), then on each val split prints the AUC of
bare-vs-helmeted on the labelled heads (classifier, the detector's share sb / (sw + sb), their mean) and
AP50 with the served head boxes grouped one per head (score max(sw, sb), bare share w x classifier + (1 - w)
x detector). Needs the [train] extra (torch) and, for --backbone coco, build/coco/yolo11n-coco.pt.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from vision.config import Detection
from vision.detectors import Detections, build_detector, load_spec
from vision.detectors.boxes import box_iou, nms
from vision.evaluation.metrics import evaluate
from vision.evaluation.runner import AP_SCORE_FLOOR, predict_images
from vision.evaluation.voc import load_voc

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SETS = ("gate-camera", "gate-camera-id", "bike-helmet")
CLASSES = ("with_helmet", "without_helmet")
CONTEXT = 2.0  # crop side / head side at inference
STORE = 96  # stored training crop: 3 head sides
rng = np.random.default_rng(0)


def square_crop(image: np.ndarray, box: np.ndarray, factor: float, out: int) -> np.ndarray:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * factor
    scale = out / side
    matrix = np.array([[scale, 0, -(cx - side / 2) * scale], [0, scale, -(cy - side / 2) * scale]], np.float32)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (out, out), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def gather(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    crops, labels, sides = [], [], []
    for name in SETS:
        for item in load_voc(DATA / name, split):
            image = cv2.imread(str(item.image_path))
            for box, label in zip(item.xyxy, item.labels, strict=True):
                if label in CLASSES:
                    crops.append(square_crop(image, box, 3.0, STORE))
                    labels.append(CLASSES.index(label))
                    sides.append(float(np.sqrt((box[2] - box[0]) * (box[3] - box[1]))))
    return np.stack(crops), np.array(labels), np.array(sides)


def augment(crop: np.ndarray, side: float, size: int) -> np.ndarray:
    reach = rng.uniform(1.7, 2.3) / 3.0 * STORE
    centre = STORE / 2 + rng.uniform(-0.12, 0.12, 2) * STORE / 3
    out = square_crop(crop, np.array([*(centre - reach / 2), *(centre + reach / 2)]), 1.0, size)
    head_px = min(side, rng.uniform(10, 40)) if rng.random() < 0.8 else side
    low = int(np.clip(round(size * head_px / (size / CONTEXT)), 8, size))
    if low < size:
        out = cv2.resize(cv2.resize(out, (low, low), interpolation=cv2.INTER_AREA), (size, size))
    if rng.random() < 0.5:
        out = out[:, ::-1]
    out = np.clip(out.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        quality = int(rng.integers(30, 90))
        out = cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    return out


def small_net() -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(3, 16), *block(16, 16), nn.MaxPool2d(2), *block(16, 32), *block(32, 32), nn.MaxPool2d(2),
        *block(32, 64), *block(64, 64), nn.MaxPool2d(2), *block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.2), nn.Linear(128, 2),
    )  # fmt: skip


def coco_net() -> nn.Module:
    """COCO YOLO11n's layers 0-6 (stride 16, 128 channels), pooled, and a linear head."""
    model = torch.load("build/coco/yolo11n-coco.pt", weights_only=False)["model"].float()
    body = nn.Sequential(*[copy.deepcopy(layer) for layer in model.model[:7]])
    for parameter in body.parameters():
        parameter.requires_grad_(True)
    return nn.Sequential(body, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(128, 2))


def tensor(batch: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.stack(batch)[..., ::-1])).permute(0, 3, 1, 2).float() / 255.0


def train(backbone: str, epochs: int, size: int) -> nn.Module:
    crops, labels, sides = gather("train.txt")
    model = coco_net() if backbone == "coco" else small_net()
    rates = [5e-4, 3e-3] if backbone == "coco" else [3e-3]
    groups = [{"params": list(model[0].parameters())}, {"params": list(model[1:].parameters())}]
    optimiser = torch.optim.AdamW(groups if backbone == "coco" else model.parameters(), 2e-3, weight_decay=1e-4)
    steps = epochs * (len(crops) // 64 + 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, rates if len(rates) > 1 else rates[0], total_steps=steps)
    counts = np.bincount(labels)
    loss_of = nn.CrossEntropyLoss(weight=torch.tensor([1.0, counts[0] / counts[1]]).float() ** 0.5, label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        started, total, order = time.time(), 0.0, rng.permutation(len(crops))
        for start in range(0, len(order), 64):
            index = order[start : start + 64]
            images = tensor([augment(crops[j], sides[j], size) for j in index])
            loss = loss_of(model(images), torch.from_numpy(labels[index]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(index)
        print(f"epoch {epoch}: loss {total / len(crops):.3f}, {time.time() - started:.0f} s", flush=True)
    return model.eval()


def bare_share(model: nn.Module, image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    with torch.no_grad():
        crops = tensor([square_crop(image, box, CONTEXT, size) for box in boxes])
        return torch.softmax(model(crops), 1)[:, 1].numpy()


def auc(truth: np.ndarray, score: np.ndarray) -> float:
    positive, negative = score[truth == 1], score[truth == 0]
    wins = (positive[:, None] > negative[None]).sum() + 0.5 * (positive[:, None] == negative[None]).sum()
    return float(wins / (len(positive) * len(negative)))


def regroup(found: Detections, image: np.ndarray, model: nn.Module, size: int, weight: float) -> Detections:
    names = found.class_names
    helmeted, bare = names.index("with_helmet"), names.index("without_helmet")
    is_head = np.isin(found.class_ids, [helmeted, bare])
    if not is_head.any():
        return found
    boxes, scores, classes = found.xyxy[is_head], found.scores[is_head], found.class_ids[is_head]
    keep = nms(boxes, scores, None, 0.6)
    same = box_iou(boxes[keep], boxes) > 0.6
    with_score = np.array([scores[row & (classes == helmeted)].max(initial=0.0) for row in same])
    bare_score = np.array([scores[row & (classes == bare)].max(initial=0.0) for row in same])
    head = np.maximum(with_score, bare_score)
    share = bare_score / np.maximum(with_score + bare_score, 1e-9)
    if weight > 0:
        share = weight * bare_share(model, image, boxes[keep], size) + (1 - weight) * share
    return Detections(
        np.concatenate([found.xyxy[~is_head], boxes[keep], boxes[keep]]),
        np.concatenate([found.scores[~is_head], head * (1 - share), head * share]).astype(np.float32),
        np.concatenate([found.class_ids[~is_head], np.full(len(keep), helmeted), np.full(len(keep), bare)]),
        names,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", choices=("small", "coco"), default="small")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=48)
    args = parser.parse_args()
    model = train(args.backbone, args.epochs, args.size)
    spec = load_spec("models/helmet.yaml")
    detector = build_detector(spec.model_copy(update={"conf": AP_SCORE_FLOOR}))
    for name in SETS:
        images = load_voc(DATA / name, "val.txt")
        found = predict_images(detector, images, False, Detection(mode="riders"), vehicle_conf=spec.conf).detections
        frames = [cv2.imread(str(item.image_path)) for item in images]
        truth, by_model, by_detector = [], [], []
        for item, frame, dets in zip(images, frames, found, strict=True):
            heads = [i for i, label in enumerate(item.labels) if label in CLASSES]
            if not heads:
                continue
            labelled = item.xyxy[heads]
            by_model += list(bare_share(model, frame, labelled, args.size))
            ious = box_iou(labelled, dets.xyxy) if len(dets.xyxy) else np.zeros((len(heads), 0))
            kinds = np.array(dets.labels)
            for row, i in enumerate(heads):
                near = ious[row] > 0.5
                sw = dets.scores[near & (kinds == "with_helmet")].max(initial=0.0)
                sb = dets.scores[near & (kinds == "without_helmet")].max(initial=0.0)
                truth.append(CLASSES.index(item.labels[i]))
                by_detector.append(sb / (sw + sb) if sw + sb else 0.5)
        t, m, d = np.array(truth), np.array(by_model), np.array(by_detector)
        print(f"{name}: AUC classifier {auc(t, m):.3f}, detector {auc(t, d):.3f}, mean {auc(t, (m + d) / 2):.3f}")
        for weight in (0.0, 0.3, 0.5, 0.7):
            regrouped = [regroup(x, f, model, args.size, weight) for x, f in zip(found, frames, strict=True)]
            report = evaluate(images, regrouped, detector.info.class_names, spec.conf)
            print(f"  w={weight}: AP50 " + " / ".join(f"{report.classes[c].AP50:.3f}" for c in CLASSES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
