"""Reading the YAML documents people write (taxonomy extensions, field catalogs, policy
test cases, notices): one clear error naming the file, the entry and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from privault.errors import N_, ConfigError, PrivaultError

Model = TypeVar("Model", bound=BaseModel)


def read_yaml(path: Path, *, error: type[PrivaultError] = ConfigError) -> Any:
    """The parsed document (``{}`` for an empty file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(
            N_("Cannot read %(path)s: %(reason)s"), path=str(path), reason=str(exc.strerror)
        ) from None
    except UnicodeDecodeError:
        raise error(N_("%(path)s is not UTF-8 text."), path=str(path)) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise error(
            N_("%(path)s is not valid YAML: %(reason)s"), path=str(path), reason=str(exc)
        ) from None


def validate(
    model: type[Model], raw: Any, path: Path, *, error: type[PrivaultError] = ConfigError
) -> Model:
    """``raw`` as ``model``; the first problem, with where it is, as one error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise error(
            N_("%(path)s, entry %(entry)s: %(reason)s"),
            path=str(path),
            entry=".".join(str(p) for p in first["loc"]) or "-",
            reason=first["msg"],
        ) from None


def load_yaml_model(
    path: Path, model: type[Model], *, error: type[PrivaultError] = ConfigError
) -> Model:
    return validate(model, read_yaml(path, error=error), path, error=error)
