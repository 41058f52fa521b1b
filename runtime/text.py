"""Strings an answer can carry."""


def encodable(text: str) -> bool:
    """Whether UTF-8 can carry ``text``: no lone surrogate, which kills the 3.12+ runtime client."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
