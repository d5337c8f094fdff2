"""churn_trainer: a CSV and a declared schema in, a validated, self-contained ONNX model out."""

__version__ = "0.1.0"
