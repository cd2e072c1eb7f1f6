"""Reads CloudFormation/SAM YAML templates, keeping intrinsic functions (`!Ref`, `!Sub`, ...) as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_template", "parse_template"]


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Tag value` into `{"Fn::Tag": value}`; `!Ref` and `!Condition` keep their short keys."""


def _construct(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct)


def parse_template(text: str, where: str = "template") -> dict[str, Any]:
    """A template's text as plain data; intrinsic functions appear in their long (JSON) form."""
    doc = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: not a CloudFormation template (expected a mapping)")
    return doc


def load_template(path: str | Path) -> dict[str, Any]:
    """A template file as plain data; intrinsic functions appear in their long (JSON) form."""
    return parse_template(Path(path).read_text(encoding="utf-8"), str(path))
