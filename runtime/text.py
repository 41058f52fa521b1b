"""Strings an answer or a log line can carry."""

MAX_LINE = 300  # the most characters of a failure's message a refusal or a log line quotes


def encodable(text: str) -> bool:
    """Whether UTF-8 can carry ``text``: no lone surrogate, which kills the 3.12+ runtime client."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def first_line(err: BaseException, named: bool = False) -> str:
    """The first line of ``err``'s message (its type's name when it has none), cut to MAX_LINE
    characters; ``named``: after its type's name, as in "KeyError: 'x'"."""
    lines = str(err).strip().splitlines()
    line = lines[0] if lines else ""
    if named:
        line = f"{type(err).__name__}: {line}"
    return (line or type(err).__name__)[:MAX_LINE]
