"""churn_trainer: from a CSV and a declared schema to a validated, self-contained ONNX churn model."""

__version__ = "0.1.0"
