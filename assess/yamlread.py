"""YAML documents as plain data plus the line of every key and item, so evidence can cite them.

Documents are composed with PyYAML's safe loader, never constructed: custom tags (`!reference` in
GitLab CI, `!Ref` in CloudFormation) are read as plain values instead of failing. Comments are not
part of the node tree, so a commented-out `schedule:` can never be cited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[Any, ...]


@dataclass
class YamlDoc:
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)  # path of keys/indexes -> 1-based line

    def line(self, *path: Any) -> int:
        """The line of the deepest known prefix of path (1 if none)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def get(self, *path: Any, default: Any = None) -> Any:
        node = self.data
        for key in path:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return default
        return node


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if key is True:  # YAML 1.1 reads GitHub's bare `on:` key as the boolean true
                key = "on"
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), lines) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """The scalar typed by the tag the composer resolved (bool, int, float, null), else the text."""
    value = node.value
    tag = node.tag.rsplit(":", 1)[-1] if isinstance(node.tag, str) else ""
    if tag == "bool":
        return value.lower() in ("true", "yes", "on", "y")
    if tag == "null":
        return None
    if tag in ("int", "float"):
        try:
            return int(value) if tag == "int" else float(value)
        except ValueError:
            return value
    return value


class YamlProblem(ValueError):
    """Not YAML: the parser's problem and the line it stopped on, for the list of files not read."""


def load_yaml(text: str) -> list[YamlDoc]:
    """Every document of a YAML stream; YamlProblem when it is not YAML."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise YamlProblem(f"{where}{getattr(error, 'problem', None) or 'cannot parse'}") from None
    documents = []
    for node in nodes:
        if node is not None:
            lines: dict[Path_, int] = {}
            documents.append(YamlDoc(_convert(node, (), lines), lines))
    return documents
