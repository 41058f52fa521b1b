"""One error base class; each subclass carries its status and a code, and the tree is documented."""

from __future__ import annotations

import inspect

from lambda_tabular.runtime import errors
from lambda_tabular.runtime.errors import RequestError, ServingError, StartupError

CLASSES = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, ServingError)]


def test_codes_are_unique_except_the_internal_default():
    codes = [c.code for c in CLASSES if c is not ServingError]
    assert len(codes) == len(set(codes))


def test_statuses():
    for cls in CLASSES:
        if issubclass(cls, RequestError):
            assert cls.status == {errors.MethodNotAllowed: 405, errors.AnswerTooLarge: 413}.get(cls, 400), cls
        else:
            assert cls.status == 500, cls


def test_the_docstring_draws_every_class_with_its_status_and_code():
    tree = errors.__doc__
    for cls in CLASSES:
        line = next(line for line in tree.splitlines() if f" {cls.__name__} " in f" {line.strip('│├└─ ')} ")
        assert f"{cls.status} {cls.code}" in line, line


def test_every_subclass_says_when_it_is_raised():
    for cls in CLASSES:
        if cls is not ServingError:
            assert cls.__doc__ and cls.__doc__.strip().startswith(("Raised", "Answered")), cls


def test_the_answer_is_code_and_message():
    err = errors.WrongType('instances[3].tds: expected a number, got string "abc"')
    assert err.to_json() == {
        "error": {"code": "wrong_type", "message": 'instances[3].tds: expected a number, got string "abc"'}
    }


def test_startup_errors_are_not_request_errors():
    assert not issubclass(StartupError, RequestError)
    assert issubclass(errors.ModelError, StartupError) and issubclass(errors.ConfigError, StartupError)
