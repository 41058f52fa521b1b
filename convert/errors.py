"""Errors the converter reports as one line to the user.

ConvertError
 ├── LoadError         the model file cannot be read or holds no supported model
 ├── UnsupportedModel  an estimator, objective or step the converter cannot turn into ONNX
 ├── InputError        a command-line argument or sample file does not fit the model
 └── ParityError       the ONNX model does not predict what the original predicts
"""


class ConvertError(Exception):
    """Base class: str(error) is the single line shown to the user."""

    exit_code = 1


class LoadError(ConvertError):
    """Raised when the model file cannot be read or holds nothing we convert."""

    exit_code = 2


class UnsupportedModel(ConvertError):
    """Raised when a step, estimator or objective has no faithful ONNX conversion."""

    exit_code = 3


class InputError(ConvertError):
    """Raised when --features, --sample or another argument does not fit the model."""

    exit_code = 4


class ParityError(ConvertError):
    """Raised when onnxruntime's answers differ from the original model beyond tolerance."""

    exit_code = 5
