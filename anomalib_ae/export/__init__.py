"""Export fitted detectors to other runtimes (ONNX)."""

from anomalib_ae.export.onnx import MAX_NEIGHBOR_ROWS, to_onnx

__all__ = ["MAX_NEIGHBOR_ROWS", "to_onnx"]
