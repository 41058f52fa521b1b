"""Errors the deploy and image commands report as one line."""


class DeployError(Exception):
    """Base class: str(error) is the single line shown to the user."""


class EngineUnavailable(DeployError):
    """Raised when no Docker engine answers and none can be installed here."""


class CommandFailed(DeployError):
    """Raised when docker, debootstrap or pip exits non-zero."""
