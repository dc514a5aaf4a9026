"""Defect classes: the named, coloured kinds of anomaly that segmentation masks carry (SageMaker Ground Truth's
`internal-color-map`), a per-pixel class head trained on them, and the palette answers are painted with.

`learn_classes` runs after a model is fitted: it reads the class masks of the labelled anomalous images, and when
they name two or more classes trains a `ClassHead` that the export pipeline runs beside the model, so ONNX Runtime,
OpenVINO, the hosting units and edge bundles classify alike. One named class needs no head (every defect is of that
class); masks without a colour map, or whose only class is the generic `anomaly`, give a model without classes.
"""

from service.engine.classes.head import ClassHead
from service.engine.classes.learning import learn_classes
from service.engine.palette import BACKGROUND_NAME, GENERIC_CLASS, ClassPalette, DefectClass

__all__ = ["BACKGROUND_NAME", "GENERIC_CLASS", "ClassHead", "ClassPalette", "DefectClass", "learn_classes"]
