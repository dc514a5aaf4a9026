"""One batch of same-sized requests through a predictor: the step every inference unit (a thread, a Serve replica)
runs."""

import time
from collections.abc import Sequence

import numpy as np

from service.hosting.backend import InferenceRequest, Prediction
from service.hosting.predictor import BatchPredictor
from service.hosting.verdict import judge


def predict_batch(predictor: BatchPredictor, requests: Sequence[InferenceRequest]) -> list[Prediction]:
    """Predictions for `requests`, whose images all have one shape, in their order; each carries its inference,
    post-processing and mask seconds in `stages`."""
    started = time.perf_counter()
    images = np.stack([request.image for request in requests]) if len(requests) > 1 else requests[0].image[None]
    result = predictor.predict(images)
    inference = time.perf_counter() - started
    predictions = []
    for index, request in enumerate(requests):
        height, width = request.image.shape[:2]
        score, anomaly_map = float(result.pred_score[index]), result.anomaly_map[index]
        verdict = judge(
            score,
            anomaly_map,
            image_threshold=request.image_threshold,
            size=(height, width),
            class_scores=None if result.class_scores is None else result.class_scores[index],
            palette=predictor.palette,
        )
        predictions.append(
            Prediction(
                score=score,
                is_anomalous=verdict.is_anomalous,
                confidence=verdict.confidence,
                anomaly_fraction=verdict.anomaly_fraction,
                mask_png=verdict.mask_png,
                anomaly_map=np.asarray(anomaly_map, dtype=np.float32),
                anomalies=verdict.anomalies,
                background_color=verdict.background_color,
                stages={"inference": inference, **verdict.stages},
            )
        )
    return predictions
