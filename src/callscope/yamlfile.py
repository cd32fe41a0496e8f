"""One YAML loader for every file callscope reads (config, sinks, profiles, eval specs).

A mapping, or a :class:`YamlError` whose ``str()`` is one line naming the file; callers wrap
it in their own error type (``ConfigError``, ``ProfileError``...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlError(Exception):
    """``str()`` is one line: the file and what is wrong with it."""


def load_yaml_mapping(path: Path, *, empty_ok: bool = False) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise YamlError(f"{path}: not valid YAML: {first}") from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise YamlError(f"{path}: expected a YAML mapping at the top level")
    return data
