"""File names inside a saved model folder, shared by the writer (`service.engine.artifacts`) and the inferencers."""

CHECKPOINT_FILE = "model.pt"
METADATA_FILE = "metadata.json"
ONNX_FILE = "model.onnx"
OPENVINO_DIR = "openvino"
OPENVINO_FILE = "model.xml"
OPENVINO_INT8_DIR = "openvino-int8"
