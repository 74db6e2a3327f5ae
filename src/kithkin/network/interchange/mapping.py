"""What a file's variables are, what they probably mean for Kithkin, and how to turn each row into
a person's fields once the user has confirmed the mapping.

Network Canvas writes a categorical variable as one true/false column per option
(``closeness_inner``, ``closeness_outer``) and a layout as ``<var>_x`` / ``<var>_y``; this module
puts those columns back together so the mapping screen shows one line per variable."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kithkin.network.interchange.formats import (
    ImportFileError,
    ParsedEdge,
    ParsedNetwork,
    ParsedNode,
    is_boolean_word,
    is_true,
)
from kithkin.network.models import FIVE_S, SUPPORT_KINDS, Category, Channel, Ring, Strain, Tie

MAX_MAPPED_VALUES = 30
MAX_NAME_CHARS = 200
MAX_RHYTHM_DAYS = 3650

TEXT, NUMBER, BOOLEAN, CATEGORICAL, LAYOUT = "text", "number", "boolean", "categorical", "layout"


@dataclass
class Variable:
    key: str  # as the file names it: "closeness", "layout", "name"
    kind: str
    columns: list[str]  # the file's columns (one per option for categorical; x and y for layout)
    options: list[str] = field(default_factory=list)  # the values one can map, in order
    too_many_values: bool = False


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    mode: str  # "ignore", "text", "single", "multi", "flag", "number", "layout"
    choices: tuple[tuple[str, str], ...] = ()


def _targets() -> list[Target]:
    def pairs(items: Sequence[tuple[Any, Any]]) -> tuple[tuple[str, str], ...]:
        return tuple((key, str(label)) for key, label in items)

    targets = [
        Target("ignore", _("Leave out"), "ignore"),
        Target("name", _("Name or initials"), "text"),
        Target("category", _("Relationship"), "single", pairs(Category.choices)),
        Target("ring", _("Closeness"), "single", tuple((str(k), str(v)) for k, v in Ring.choices)),
        Target("helps", _("Which of the five S's they help with"), "multi", pairs(FIVE_S)),
    ]
    targets += [
        Target(f"helps_{key}", _("Helps feel %(s)s") % {"s": label}, "flag")
        for key, label in FIVE_S
    ]
    targets.append(
        Target("gives", _("Which kinds of support they give"), "multi", pairs(SUPPORT_KINDS))
    )
    targets += [
        Target(f"gives_{key}", _("Gives %(kind)s") % {"kind": label}, "flag")
        for key, label in SUPPORT_KINDS
    ]
    targets += [
        Target("strain", _("Strain"), "single", tuple((str(k), str(v)) for k, v in Strain.choices)),
        Target("not_safe", _("Not safe for me"), "flag"),
        Target("wished_rhythm_days", _("Wished contact rhythm (days)"), "number"),
        Target(
            "preferred_channel", _("Preferred way to be in touch"), "single", pairs(Channel.choices)
        ),
        Target("notes", _("Notes"), "text"),
        Target("layout", _("Position on the map"), "layout"),
    ]
    return targets


def targets() -> dict[str, Target]:
    return {target.key: target for target in _targets()}


def targets_for(variable: Variable) -> list[Target]:
    """The targets that make sense for a variable of this kind."""
    result = []
    for target in _targets():
        if target.mode == "ignore":
            result.append(target)
        elif variable.kind == LAYOUT:
            if target.mode == "layout":
                result.append(target)
        elif (
            target.mode == "layout"
            or (target.mode == "number" and variable.kind != NUMBER)
            or (target.mode == "text" and variable.kind not in (TEXT, NUMBER))
            or (target.mode in ("single", "multi") and variable.too_many_values)
        ):
            continue
        else:
            result.append(target)
    return result


# ------------------------------------------------------------------ reading the variables


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def nodes_of_type(network: ParsedNetwork, node_type: str) -> list[ParsedNode]:
    return [node for node in network.nodes if node.node_type == node_type]


def _categorical_prefixes(booleans: list[str]) -> dict[str, str]:
    """Which true/false columns are options of one categorical variable, and its name.

    Each column takes the longest prefix (cut at an underscore) that another column shares:
    ``support_type_emotional`` and ``support_type_advice`` give ``support_type``. A prefix that
    extends another (``closeness_very`` beside ``closeness``) is folded into the shorter one."""
    prefix_of: dict[str, str] = {}
    for column in booleans:
        parts = column.split("_")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = "_".join(parts[:cut])
            if any(other != column and other.startswith(prefix + "_") for other in booleans):
                prefix_of[column] = prefix
                break
    prefixes = set(prefix_of.values())
    for column, prefix in prefix_of.items():
        shorter = [p for p in prefixes if prefix.startswith(p + "_")]
        if shorter:
            prefix_of[column] = min(shorter, key=len)
    return prefix_of


def variables(network: ParsedNetwork, node_type: str) -> list[Variable]:
    nodes = nodes_of_type(network, node_type)
    present = {column for node in nodes for column in node.attrs}
    columns = [column for column in network.attribute_order if column in present]
    values: dict[str, list[str]] = {
        column: [node.attrs.get(column, "").strip() for node in nodes] for column in columns
    }

    def all_numeric(column: str) -> bool:
        return all(not v or _is_number(v) for v in values[column])

    used: set[str] = set()
    layouts: dict[str, Variable] = {}
    lowered = {column.lower(): column for column in columns}
    for column in columns:
        if column.lower().endswith("_x"):
            partner = lowered.get(column.lower()[:-2] + "_y")
            if partner and all_numeric(column) and all_numeric(partner):
                layouts[column] = Variable(column[:-2], LAYOUT, [column, partner])
                used.update((column, partner))

    def is_boolean_column(column: str) -> bool:
        found = [v for v in values[column] if v]
        if column in used or not found or not all(is_boolean_word(v) for v in found):
            return False
        # A column of only 0s and 1s is read as a number (a count, an ordinal scale).
        return not all(v in ("0", "1") for v in found)

    booleans = [column for column in columns if is_boolean_column(column)]
    prefix_of = _categorical_prefixes(booleans)
    groups: dict[str, Variable] = {}
    result: list[Variable] = []
    for column in columns:
        if column in layouts:
            result.append(layouts[column])
            continue
        if column in used:
            continue
        if column in prefix_of:
            prefix = prefix_of[column]
            if prefix not in groups:
                groups[prefix] = Variable(prefix, CATEGORICAL, [], [])
                result.append(groups[prefix])
            groups[prefix].columns.append(column)
            groups[prefix].options.append(column[len(prefix) + 1 :])
            continue
        if column in booleans:
            result.append(Variable(column, BOOLEAN, [column], ["true"]))
            continue
        distinct = sorted({v for v in values[column] if v})
        kind = NUMBER if distinct and all_numeric(column) else TEXT
        if kind == NUMBER:
            distinct.sort(key=float)
        result.append(
            Variable(
                column,
                kind,
                [column],
                distinct[:MAX_MAPPED_VALUES],
                too_many_values=len(distinct) > MAX_MAPPED_VALUES,
            )
        )
    return result


# ------------------------------------------------------------------ guesses


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


_TARGET_NAMES: dict[str, set[str]] = {
    "name": {
        "name",
        "label",
        "nickname",
        "first_name",
        "firstname",
        "initials",
        "person_name",
        "alter_name",
        "display_name",
    },
    "category": {
        "category",
        "relationship",
        "relation",
        "rel",
        "relationship_type",
        "type",
        "role",
        "relationship_category",
    },
    "ring": {
        "ring",
        "closeness",
        "close",
        "closeness_ring",
        "circle",
        "proximity",
        "closeness_level",
    },
    "helps": {"helps", "five_s", "fives", "helps_feel", "feel", "feels"},
    "gives": {"gives", "support", "support_kinds", "support_kind", "support_type", "support_types"},
    "strain": {"strain", "conflict", "tension", "strain_level", "conflict_level"},
    "not_safe": {"not_safe", "unsafe", "not_safe_for_me", "dangerous"},
    "wished_rhythm_days": {
        "wished_rhythm_days",
        "rhythm",
        "rhythm_days",
        "contact_every_days",
        "contact_days",
        "contact_frequency_days",
    },
    "preferred_channel": {"channel", "preferred_channel", "contact_channel", "contact_mode"},
    "notes": {"notes", "note", "comment", "comments", "remarks"},
}
for _key, _label in FIVE_S:
    _TARGET_NAMES[f"helps_{_key}"] = {f"helps_{_key}", _key, f"feel_{_key}", f"feels_{_key}"}
for _key, _label in SUPPORT_KINDS:
    _TARGET_NAMES[f"gives_{_key}"] = {f"gives_{_key}", f"{_key}_support", _key}

_VALUE_WORDS: dict[str, dict[str, str]] = {
    "category": {
        **{value: value for value in Category.values},
        "spouse": "partner",
        "husband": "partner",
        "wife": "partner",
        "girlfriend": "partner",
        "boyfriend": "partner",
        "romantic_partner": "partner",
        "relative": "family",
        "parent": "family",
        "mother": "family",
        "father": "family",
        "sibling": "family",
        "sister": "family",
        "brother": "family",
        "child": "family",
        "son": "family",
        "daughter": "family",
        "grandparent": "family",
        "kin": "family",
        "friends": "friend",
        "close_friend": "friend",
        "best_friend": "friend",
        "colleague": "work",
        "coworker": "work",
        "co_worker": "work",
        "workmate": "work",
        "neighbour": "community",
        "neighbor": "community",
        "community_member": "community",
        "church": "faith",
        "religious": "faith",
        "congregation": "faith",
        "doctor": "professional",
        "therapist": "professional",
        "counsellor": "professional",
        "counselor": "professional",
        "social_worker": "professional",
        "peer": "peer_support",
        "peer_supporter": "peer_support",
        "support_group": "peer_support",
    },
    "ring": {
        "1": "1",
        "inner": "1",
        "inner_circle": "1",
        "very_close": "1",
        "closest": "1",
        "2": "2",
        "middle": "2",
        "middle_circle": "2",
        "close": "2",
        "somewhat_close": "2",
        "3": "3",
        "outer": "3",
        "outer_circle": "3",
        "not_close": "3",
        "not_very_close": "3",
        "distant": "3",
        "acquaintance": "3",
    },
    "strain": {
        "0": "0",
        "none": "0",
        "no": "0",
        "no_strain": "0",
        "1": "1",
        "little": "1",
        "a_little": "1",
        "low": "1",
        "2": "2",
        "some": "2",
        "medium": "2",
        "moderate": "2",
        "3": "3",
        "lot": "3",
        "a_lot": "3",
        "high": "3",
        "severe": "3",
    },
    "preferred_channel": {
        **{value: value for value in Channel.values},
        "face_to_face": "in_person",
        "inperson": "in_person",
        "call": "phone",
        "telephone": "phone",
        "video_call": "video",
        "text": "message",
        "sms": "message",
        "texting": "message",
        "messaging": "message",
        "e_mail": "email",
        "mail": "letter",
        "card": "letter",
    },
    "helps": {
        **{key: key for key, _label in FIVE_S},
        **{f"feel_{key}": key for key, _label in FIVE_S},
        **{f"helps_{key}": key for key, _label in FIVE_S},
    },
    "gives": {
        **{key: key for key, _label in SUPPORT_KINDS},
        "company": "companionship",
        "info": "informational",
        "information": "informational",
        "advice": "informational",
        "crisis_help": "crisis",
        "emergency": "crisis",
        "emotion": "emotional",
        "practical_help": "practical",
    },
}


def guess_target(variable: Variable) -> str:
    if variable.kind == LAYOUT:
        return "layout"
    allowed = {target.key for target in targets_for(variable)}
    name = _norm(variable.key)
    for key, names in _TARGET_NAMES.items():
        if name in names and key in allowed:
            return key
    return "ignore"


def guess_targets(found: list[Variable]) -> dict[str, str]:
    """One guess per variable; a single-valued field is filled by the best guess only (a
    variable called "name" wins over "label", the first layout over later ones)."""
    guesses = {variable.key: guess_target(variable) for variable in found}
    by_target: dict[str, list[str]] = {}
    for key, target in guesses.items():
        if target not in ("ignore", "helps", "gives"):
            by_target.setdefault(target, []).append(key)
    for target, keys in by_target.items():
        if len(keys) > 1:
            keys.sort(key=lambda key: (_norm(key) != target, _norm(key) == "label"))
            for key in keys[1:]:
                guesses[key] = "ignore"
    return guesses


def guess_value(target: str, value: str) -> str:
    words = _VALUE_WORDS.get(target, {})
    name = _norm(value)
    if name in words:
        return words[name]
    if target == "ring":
        if "not" in name or "outer" in name or "distant" in name:
            return "3"
        if "very" in name or "inner" in name:
            return "1"
        if "middle" in name or "somewhat" in name or "close" in name:
            return "2"
    if target == "category":
        for label_value, label in Category.choices:
            if _norm(str(label)) == name:
                return str(label_value)
    return ""


# ------------------------------------------------------------------ applying a mapping


@dataclass
class Mapping:
    node_type: str
    edge_type: str  # "" imports no ties
    targets: dict[str, str]  # variable key → target key
    values: dict[str, dict[str, str]]  # variable key → {option: choice}


def _selected(variable: Variable, node: ParsedNode) -> list[str]:
    """The options a node has for a variable, as the value mapping names them."""
    if variable.kind == CATEGORICAL:
        return [
            option
            for option, column in zip(variable.options, variable.columns, strict=True)
            if is_true(node.attrs.get(column, ""))
        ]
    value = node.attrs.get(variable.columns[0], "").strip()
    if variable.kind == BOOLEAN:
        return ["true"] if is_true(value) else []
    return [value] if value else []


def _layout(variable: Variable, node: ParsedNode) -> tuple[float | None, float | None]:
    raw_x = node.attrs.get(variable.columns[0], "").strip()
    raw_y = node.attrs.get(variable.columns[1], "").strip()
    if not raw_x and not raw_y:
        return None, None
    try:
        x, y = float(raw_x), float(raw_y)
    except ValueError:
        raise ImportFileError(
            _("%(where)s: the position “%(var)s” needs both an x and a y between 0 and 1.")
            % {"where": node.where, "var": variable.key}
        ) from None
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise ImportFileError(
            _("%(where)s: the position “%(var)s” is outside 0 to 1 (x %(x)s, y %(y)s).")
            % {"where": node.where, "var": variable.key, "x": raw_x, "y": raw_y}
        )
    return x, y


def _days(variable: Variable, node: ParsedNode) -> int | None:
    raw = node.attrs.get(variable.columns[0], "").strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        number = -1.0
    if not number.is_integer() or not 1 <= number <= MAX_RHYTHM_DAYS:
        raise ImportFileError(
            _("%(where)s: “%(var)s” should be a whole number of days from 1 to %(max)s.")
            % {"where": node.where, "var": variable.key, "max": MAX_RHYTHM_DAYS}
        )
    return int(number)


def _fill_choices(
    target: Target,
    variable: Variable,
    node: ParsedNode,
    chosen: dict[str, str],
    fields: dict[str, object],
) -> None:
    """A single-valued field takes the first option that maps to something; a set of
    booleans (the five S's, support kinds) is replaced by the options the node has."""
    if target.mode == "multi":
        for key, _label in target.choices:
            fields.setdefault(f"{target.key}_{key}", False)
    for option in _selected(variable, node):
        choice = chosen.get(option, "")
        if not choice:
            continue
        if target.mode == "multi":
            fields[f"{target.key}_{choice}"] = True
        else:
            fields[target.key] = int(choice) if target.key in ("ring", "strain") else choice
            return


def _check_name(fields: dict[str, object], node: ParsedNode) -> None:
    if "name" not in fields:
        return
    name = str(fields["name"])
    if not name:
        raise ImportFileError(_("%(where)s: the name is empty.") % {"where": node.where})
    if len(name) > MAX_NAME_CHARS:
        raise ImportFileError(
            _("%(where)s: the name is longer than %(max)s characters.")
            % {"where": node.where, "max": MAX_NAME_CHARS}
        )


def person_fields(found: list[Variable], mapping: Mapping, node: ParsedNode) -> dict[str, object]:
    """The Person fields one node fills. Fields no variable maps to are left out, so a re-import
    changes only what the file says."""
    all_targets = targets()
    fields: dict[str, object] = {}
    for variable in found:
        target = all_targets[mapping.targets.get(variable.key, "ignore")]
        if target.mode == "text":
            fields[target.key] = node.attrs.get(variable.columns[0], "").strip()
        elif target.mode == "layout":
            fields["layout_x"], fields["layout_y"] = _layout(variable, node)
        elif target.mode == "flag":
            # For a text or number column, _selected gives the value itself: read it as yes/no.
            selected = _selected(variable, node)
            fields[target.key] = bool(selected) and (
                variable.kind in (BOOLEAN, CATEGORICAL) or is_true(selected[0])
            )
        elif target.mode == "number":
            fields[target.key] = _days(variable, node)
        elif target.mode in ("single", "multi"):
            _fill_choices(target, variable, node, mapping.values.get(variable.key, {}), fields)
    _check_name(fields, node)
    return fields


def tie_strength(edge: ParsedEdge) -> int:
    raw = _norm(edge.attrs.get("strength", "") or edge.attrs.get("weight", ""))
    if raw in ("2", "close", "strong", "close_to_each_other"):
        return int(Tie.Strength.CLOSE)
    return int(Tie.Strength.KNOW)


NOT_MAPPED = gettext_lazy("(not mapped)")
