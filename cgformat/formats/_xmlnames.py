"""XML element names: which labels are names as they are, and the names given to those that are not."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from lxml import etree

from ..model import Issue, IssueCode, Severity

__all__ = ["NAME_CHAR", "NAME_RE", "NAME_START", "is_xml_name", "xml_names"]

# XML 1.0 (fifth edition) names, without ":" (no namespaces here).
NAME_START = ("A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
              "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
NAME_CHAR = NAME_START + "\\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"
NAME_RE = re.compile(f"[{NAME_START}][{NAME_CHAR}]*")


@functools.lru_cache(maxsize=4096)
def _lxml_accepts(name: str) -> bool:
    try:
        etree.Element(name)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _is_name_char(char: str, *, start: bool) -> bool:
    cls = NAME_START if start else NAME_CHAR
    return re.fullmatch(f"[{cls}]", char) is not None and _lxml_accepts(char if start else "a" + char)


def is_xml_name(name: str) -> bool:
    """Whether ``name`` can be an element name as written: an XML name, no colon, not starting ``xml``."""
    return (NAME_RE.fullmatch(name) is not None and name[:3].lower() != "xml"
            and _lxml_accepts(name))


def _mangle(label: str) -> str:
    name = "".join(c if _is_name_char(c, start=False) else "_" for c in label)
    if not name or not _is_name_char(name[0], start=True) or name[:3].lower() == "xml":
        name = "_" + name
    return name


def xml_names(labels: Sequence[str]) -> tuple[tuple[str, ...], list[Issue]]:
    """Element names for these labels, and a ``renamed-label`` warning for each label that had to change.

    A valid label is kept as it is. Otherwise every character that cannot be in an XML name (space,
    colon, punctuation ...) becomes ``_``; a name that is empty, starts with a character that cannot
    start a name (a digit, ``-``, ``.``) or starts with ``xml`` (any case; reserved) gets a leading ``_``.
    A name already taken gets ``_2``, ``_3`` ... appended. So ``"Order Date"`` -> ``Order_Date``,
    ``"1st"`` -> ``_1st``, ``""`` -> ``_``, ``"xmlId"`` -> ``_xmlId``, ``"a:b"`` -> ``a_b``.
    """
    taken = {label for label in labels if is_xml_name(label)}
    used: set[str] = set()
    names: list[str] = []
    issues: list[Issue] = []
    for position, label in enumerate(labels, start=1):
        name = label if is_xml_name(label) else _mangle(label)
        if name in used or (name != label and name in taken):
            n = 1
            while True:
                n += 1
                candidate = f"{name}_{n}"
                if candidate not in used and candidate not in taken:
                    break
            name = candidate
        used.add(name)
        names.append(name)
        if name != label:
            issues.append(Issue(code=IssueCode.RENAMED_LABEL, severity=Severity.WARNING, field=label,
                                value=name, message=f"column {position} label {label!r} is no valid XML "
                                                    f"element name; it is written as <{name}>"))
    return tuple(names), issues
