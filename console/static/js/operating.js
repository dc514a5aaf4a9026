// Operating points computed in the browser from the per-image test scores: the same rules as the service
// (service/domain/thresholds.py and service/engine/metrics), so a slider move needs no request.

export function confusion(images, threshold) {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const image of images) {
    const predicted = image.Score >= threshold;
    const anomalous = image.Label === "anomaly";
    if (predicted && anomalous) tp += 1;
    else if (predicted) fp += 1;
    else if (anomalous) fn += 1;
    else tn += 1;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  const fpr = fp + tn ? fp / (fp + tn) : 0;
  return { threshold, tp, fp, tn, fn, precision, recall, f1, fpr };
}

// Distinct scores, highest first, with the anomalous (tps) and normal (fps) images at or above each.
function counts(images) {
  const sorted = [...images].sort((a, b) => b.Score - a.Score);
  const points = [];
  let tps = 0, fps = 0;
  sorted.forEach((image, i) => {
    if (image.Label === "anomaly") tps += 1; else fps += 1;
    if (i === sorted.length - 1 || sorted[i + 1].Score !== image.Score) points.push({ threshold: image.Score, tps, fps });
  });
  return { points, positives: tps, negatives: fps };
}

// Halfway down to the next lower score (or to 0): the same decisions on the test set, away from any score.
function withMargin(threshold, images) {
  const lower = images.map((image) => image.Score).filter((score) => score < threshold);
  return (threshold + (lower.length ? Math.max(...lower) : 0)) / 2;
}

const EPS = 1e-12;

// The threshold a target asks for, or an Error saying why no threshold reaches it.
export function thresholdFor(policy, target, images) {
  const { points, positives, negatives } = counts(images);
  if (!points.length) throw new Error("There are no test scores.");
  if (policy === "TARGET_RECALL") {
    if (!positives) throw new Error("The test set has no anomalous images.");
    if (!(target > 0 && target <= 1)) throw new Error("A target recall is between 0 and 1.");
    const point = points.find((p) => p.tps / positives >= target - EPS);
    return withMargin(point.threshold, images);
  }
  if (policy === "TARGET_PRECISION") {
    if (!positives) throw new Error("The test set has no anomalous images.");
    if (!(target > 0 && target <= 1)) throw new Error("A target precision is between 0 and 1.");
    const reaching = points.filter((p) => p.tps / (p.tps + p.fps) >= target - EPS);
    if (!reaching.length) throw new Error(`No threshold reaches precision ${target} on the test set.`);
    return withMargin(reaching[reaching.length - 1].threshold, images);
  }
  if (policy === "TARGET_FPR") {
    if (!negatives) throw new Error("The test set has no normal images.");
    if (!(target >= 0 && target <= 1)) throw new Error("A target false-positive rate is between 0 and 1.");
    const within = points.filter((p) => p.fps / negatives <= target + EPS);
    const threshold = within.length ? within[within.length - 1].threshold : points[0].threshold * (1 + 1e-9) + 1e-12;
    return withMargin(threshold, images);
  }
  throw new Error(`Unknown policy ${policy}.`);
}

// How far on the wrong side of the threshold an image is (positive: misclassified), for sorting worst-first.
export function wrongness(image, threshold) {
  return image.Label === "anomaly" ? threshold - image.Score : image.Score - threshold;
}
