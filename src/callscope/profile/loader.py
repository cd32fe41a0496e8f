"""The YAML loader profiles use: :mod:`callscope.yamlfile` (one loader for every file)."""

from callscope.yamlfile import YamlError, load_yaml_mapping

__all__ = ["YamlError", "load_yaml_mapping"]
