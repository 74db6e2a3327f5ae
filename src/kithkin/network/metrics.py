"""What a client's map says: the measures egor and EgoWeb compute, each explained in plain words,
and a "gaps" panel that names what is thin ("Only Sam helps you feel safe.").

Use ``analyse(client)`` for a live map (five queries, whatever its size) or
``analyse_data(data)`` for an in-memory ``MapData`` (a snapshot, a test).

Choices, so the numbers can be checked by hand:

- Structure (density, components, isolates) is read among the client's people WITHOUT the client;
  effective size and Burt constraint are the client's own, in the graph WITH the client tied to
  everyone (see ``graph``). Ties are unweighted. Effective size uses Borgatti's formula for
  unweighted graphs, n - 2t/n (n people, t ties among them), as networkx does.
- Diversity is the Shannon entropy of the categories, natural log: -sum(p * ln p).
- A person marked "not safe for me" is on the map, so counts in size, composition and structure,
  but never as providing one of the five S's or a kind of support, and is never named in a gap
  or counted in contact rhythms (the product never nudges about them).
- "Relationships under strain" are people with some or a lot of strain (strain >= 2), as a
  share of everyone on the map.
- A "single point of failure" is a function (one of the five S's or a support kind) that exactly
  one person provides; a person who alone provides three or more of them carries a lot.
- Contact regularity: among people with a wished rhythm (not marked "not safe"), the share whose
  last contact is within that many days of ``now``; a person never contacted is not within it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import networkx as nx
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kithkin.accounts.models import Client
from kithkin.network.graph import (
    EGO,
    FIVE_S_KEYS,
    SUPPORT_KEYS,
    GroupData,
    MapData,
    PersonData,
    TieData,
    alters_graph,
    burt_constraint,
    ego_graph,
    load_map_data,
)
from kithkin.network.models import Category

__all__ = [
    "Analysis",
    "GroupData",
    "MapData",
    "Metric",
    "PersonData",
    "TieData",
    "analyse",
    "analyse_data",
    "load_map_data",
]

AUDIENCES = ("client", "clinician")
STRAINED = 2  # strain level from which a relationship counts as "under strain"
CARRIES_A_LOT = 3  # functions one person alone provides before we say it's a lot on them
RECENT_DAYS = 30

# The feeling each of the five S's names, and the support each kind gives, for use in sentences.
FEELINGS: dict[str, Promise] = {
    "seen": gettext_lazy("seen"),
    "safe": gettext_lazy("safe"),
    "soothed": gettext_lazy("soothed"),
    "secure": gettext_lazy("secure"),
    "stable": gettext_lazy("stable"),
}
SUPPORTS: dict[str, Promise] = {
    "emotional": gettext_lazy("emotional support"),
    "practical": gettext_lazy("practical help"),
    "informational": gettext_lazy("information and advice"),
    "companionship": gettext_lazy("company"),
    "crisis": gettext_lazy("help in a crisis"),
}

# Gaps are ordered by what matters most: feeling safe, then help in a crisis, then the rest.
PRIORITY: tuple[str, ...] = (
    "five_s.safe",
    "support.crisis",
    "five_s.seen",
    "five_s.soothed",
    "five_s.secure",
    "five_s.stable",
    "support.emotional",
    "support.practical",
    "support.companionship",
    "support.informational",
)
FUNCTIONS: tuple[str, ...] = tuple(f"five_s.{k}" for k in FIVE_S_KEYS) + tuple(
    f"support.{k}" for k in SUPPORT_KEYS
)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: str
    raw: float | int | None
    explanation: str


@dataclass(frozen=True)
class Analysis:
    metrics: list[Metric]
    gaps: list[str]


def analyse(client: Client, *, audience: str = "client", now: datetime | None = None) -> Analysis:
    """Analyse one client's current map (a constant number of queries)."""
    now = now or timezone.now()
    return analyse_data(load_map_data(client, now=now), audience=audience, now=now)


def analyse_data(
    data: MapData, *, audience: str = "client", now: datetime | None = None
) -> Analysis:
    """Analyse an in-memory map. ``audience`` is "client" (second person) or "clinician"
    (third person: "the client")."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    now = now or timezone.now()
    you = audience == "client"
    ctx = _Context(data, you, now)
    metrics = [
        *_size_and_composition(ctx),
        *_structure(ctx),
        *_functions(ctx),
        *_single_points(ctx),
        _strain(ctx),
        _groups(ctx),
        *_contact(ctx),
    ]
    return Analysis(metrics=metrics, gaps=_gaps(ctx))


class _Context:
    """What several metrics and gaps share, computed once."""

    def __init__(self, data: MapData, you: bool, now: datetime) -> None:
        self.data = data
        self.you = you
        self.now = now
        self.people = data.people
        self.size = len(data.people)
        # Who can be leaned on for each function: never someone marked "not safe".
        self.providers: dict[str, list[PersonData]] = {f: [] for f in FUNCTIONS}
        for person in data.people:
            if person.not_safe:
                continue
            for key in person.five_s:
                if f"five_s.{key}" in self.providers:
                    self.providers[f"five_s.{key}"].append(person)
            for key in person.support:
                if f"support.{key}" in self.providers:
                    self.providers[f"support.{key}"].append(person)
        # Functions resting on exactly one person, grouped by that person.
        self.alone: dict[str, list[str]] = {}
        self.alone_person: dict[str, PersonData] = {}
        for function in FUNCTIONS:
            if len(self.providers[function]) == 1:
                person = self.providers[function][0]
                self.alone.setdefault(person.id, []).append(function)
                self.alone_person[person.id] = person
        self.rhythm_people = [
            p for p in data.people if p.wished_rhythm_days is not None and not p.not_safe
        ]
        self.overdue = [p for p in self.rhythm_people if not _within_rhythm(p, now)]

    def say(self, client_text: str, clinician_text: str) -> str:
        return client_text if self.you else clinician_text


def _within_rhythm(person: PersonData, now: datetime) -> bool:
    if person.last_contact_at is None or person.wished_rhythm_days is None:
        return False
    return now - person.last_contact_at <= timedelta(days=person.wished_rhythm_days)


# --- numbers --------------------------------------------------------------------------------


def shannon_entropy(counts: Sequence[int]) -> float:
    """-sum(p ln p) over the non-zero counts; 0 for nothing or a single category."""
    total = sum(counts)
    if total == 0:
        return 0.0
    return -sum((c / total) * math.log(c / total) for c in counts if c > 0) + 0.0


def _percent(share: float) -> str:
    return _("%(percent)s%%") % {"percent": round(share * 100)}


def _of(count: int, total: int) -> str:
    return _("%(count)s of %(total)s") % {"count": count, "total": total}


NOT_YET = gettext_lazy("Not yet")


# --- metrics --------------------------------------------------------------------------------


def _size_and_composition(ctx: _Context) -> list[Metric]:
    counts = Counter(p.category for p in ctx.people)
    labels = dict(Category.choices)
    order = {key: index for index, key in enumerate(labels)}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))
    composition = ", ".join(f"{labels.get(key, key)} {count}" for key, count in ranked)
    entropy = shannon_entropy(list(counts.values()))
    return [
        Metric(
            "size",
            _("People on the map"),
            str(ctx.size),
            ctx.size,
            ctx.say(
                _("How many people you have put on your map, close or further out."),
                _("How many people the client has put on their map, close or further out."),
            ),
        ),
        Metric(
            "composition",
            _("Parts of life"),
            composition or str(NOT_YET),
            len(counts),
            ctx.say(
                _(
                    "How many of your people come from each part of your life: family, "
                    "friends, work and so on."
                ),
                _(
                    "How many of the client's people come from each part of their life: "
                    "family, friends, work and so on."
                ),
            ),
        ),
        Metric(
            "diversity",
            ctx.say(_("Variety"), _("Diversity (Shannon entropy)")),
            number_format(entropy, 2) if ctx.size else str(NOT_YET),
            entropy if ctx.size else None,
            " ".join(
                s
                for s in (
                    _diversity_reading(ctx, entropy),
                    ctx.say(
                        _(
                            "The number is 0 when everyone comes from one part of life and "
                            "grows as your people spread across more parts."
                        ),
                        _(
                            "Natural-log entropy over relationship categories: 0 when all "
                            "come from one category, ln(k) when spread evenly over k."
                        ),
                    ),
                )
                if s
            ),
        ),
    ]


def _diversity_reading(ctx: _Context, entropy: float) -> str:
    if ctx.size == 0:
        return ""
    if entropy == 0:
        return ctx.say(
            _("Your people all come from one part of life."),
            _("The client's people all come from one part of life."),
        )
    if entropy < 0.6:
        return ctx.say(
            _("Your people come mostly from one part of life."),
            _("The client's people come mostly from one part of life."),
        )
    if entropy < 1.0:
        return ctx.say(
            _("Your people come from a few parts of life."),
            _("The client's people come from a few parts of life."),
        )
    return ctx.say(
        _("Your people come from many parts of life."),
        _("The client's people come from many parts of life."),
    )


def _structure(ctx: _Context) -> list[Metric]:
    alters = alters_graph(ctx.data)
    n = alters.number_of_nodes()
    density = nx.density(alters) if n >= 2 else None
    components = nx.number_connected_components(alters) if n else 0
    isolates = nx.number_of_isolates(alters)
    if n:
        # Borgatti's effective size n - 2t/n, which is what networkx.effective_size computes for
        # unweighted graphs (the tests check that), without it copying the graph.
        effective: float | None = n - 2 * alters.number_of_edges() / n
        constraint = burt_constraint(ego_graph(ctx.data), EGO)
    else:
        effective = constraint = None
    return [
        Metric(
            "density",
            ctx.say(_("How many of your people know each other"), _("Density among alters")),
            _percent(density) if density is not None else str(NOT_YET),
            density,
            ctx.say(
                _(
                    "Of every pair of people on your map, the share who know each other. High "
                    "means a close-knit circle; low means people from separate parts of your "
                    "life."
                ),
                _(
                    "Ties among the client's people as a share of all possible pairs (the "
                    "client not counted). High means a close-knit network; low, separate "
                    "circles."
                ),
            ),
        ),
        Metric(
            "components",
            ctx.say(_("Separate circles"), _("Components")),
            str(components),
            components,
            ctx.say(
                _(
                    "Groups of your people who are linked through people they know. Several "
                    "circles bring support from different directions, though news and help "
                    "may not travel between them."
                ),
                _(
                    "Connected components among the client's people, not counting the client: "
                    "circles linked only through the client."
                ),
            ),
        ),
        Metric(
            "isolates",
            ctx.say(_("People who know none of the others"), _("Isolates")),
            str(isolates),
            isolates,
            ctx.say(
                _(
                    "People on your map who don't know anyone else on it. They may bring "
                    "something different, and the link to them runs only through you."
                ),
                _(
                    "People on the map tied to no one else on it; the link to them runs only "
                    "through the client."
                ),
            ),
        ),
        Metric(
            "effective_size",
            ctx.say(_("Connections that don't overlap"), _("Effective size")),
            number_format(effective, 1) if effective is not None else str(NOT_YET),
            effective,
            ctx.say(
                _(
                    "Roughly how many of your connections reach different people rather than "
                    "overlapping. It equals the number of people when none of them know each "
                    "other and falls towards 1 when everyone knows everyone."
                ),
                _(
                    "Burt's effective size of the client's network (Borgatti's formula n - 2t/n "
                    "for unweighted ties): the non-redundant part of the client's contacts."
                ),
            ),
        ),
        Metric(
            "constraint",
            ctx.say(_("How much your circle overlaps"), _("Burt constraint")),
            number_format(constraint, 2) if constraint is not None else str(NOT_YET),
            constraint,
            ctx.say(
                _(
                    "Usually between 0 and 1: higher when your people all know each other and "
                    "so much rests on the same few ties; lower when they come from separate "
                    "circles. Neither is good or bad on its own."
                ),
                _(
                    "Burt's constraint of the client (unweighted ties): high when contacts are "
                    "few and interconnected, low when they span structural holes."
                ),
            ),
        ),
    ]


def _functions(ctx: _Context) -> list[Metric]:
    metrics: list[Metric] = []
    for key in FIVE_S_KEYS:
        count = len(ctx.providers[f"five_s.{key}"])
        feeling = FEELINGS[key]
        metrics.append(
            Metric(
                f"five_s.{key}",
                ctx.say(
                    _("Help you feel %(feeling)s") % {"feeling": feeling},
                    _("Help the client feel %(feeling)s") % {"feeling": feeling},
                ),
                str(count),
                count,
                ctx.say(
                    _(
                        "How many people on your map help you feel %(feeling)s. More than one "
                        "means someone is there when another isn't. People you've marked as not "
                        "safe never count here."
                    )
                    % {"feeling": feeling},
                    _(
                        "How many people on the map help the client feel %(feeling)s. People "
                        "marked as not safe never count."
                    )
                    % {"feeling": feeling},
                ),
            )
        )
    for key in SUPPORT_KEYS:
        count = len(ctx.providers[f"support.{key}"])
        support = SUPPORTS[key]
        metrics.append(
            Metric(
                f"support.{key}",
                ctx.say(
                    _("Give you %(support)s") % {"support": support},
                    _("Give the client %(support)s") % {"support": support},
                ),
                str(count),
                count,
                ctx.say(
                    _(
                        "How many people on your map give you %(support)s. People you've marked "
                        "as not safe never count here."
                    )
                    % {"support": support},
                    _(
                        "How many people on the map give the client %(support)s. People marked "
                        "as not safe never count."
                    )
                    % {"support": support},
                ),
            )
        )
    return metrics


def _single_points(ctx: _Context) -> list[Metric]:
    functions = sum(len(fs) for fs in ctx.alone.values())
    heavy = sum(1 for fs in ctx.alone.values() if len(fs) >= CARRIES_A_LOT)
    return [
        Metric(
            "single_points.functions",
            ctx.say(_("Kinds of support resting on one person"), _("Single points of failure")),
            str(functions),
            functions,
            ctx.say(
                _(
                    "Of the five S's and the kinds of support, how many only one person on your "
                    "map gives you. If that person is away, nobody else is there for it yet."
                ),
                _("Five S's and support kinds provided by exactly one person on the map."),
            ),
        ),
        Metric(
            "single_points.people",
            ctx.say(_("People carrying a lot alone"), _("People carrying three or more alone")),
            str(heavy),
            heavy,
            ctx.say(
                _("People who are the only one giving you three or more kinds of support."),
                _("People who are the sole provider of three or more functions."),
            ),
        ),
    ]


def _strain(ctx: _Context) -> Metric:
    strained = sum(1 for p in ctx.people if p.strain >= STRAINED)
    share = strained / ctx.size if ctx.size else None
    return Metric(
        "strain",
        _("Relationships under strain"),
        _of(strained, ctx.size) if ctx.size else str(NOT_YET),
        share,
        ctx.say(
            _(
                "The share of people on your map with whom there is some or a lot of strain "
                "right now. Strain is part of many close relationships; it helps to know where "
                "it is."
            ),
            _(
                "People on the map with some or a lot of strain (level 2 or 3), as a share of "
                "everyone on the map."
            ),
        ),
    )


def _groups(ctx: _Context) -> Metric:
    count = len(ctx.data.groups)
    return Metric(
        "groups",
        ctx.say(_("Groups you belong to"), _("Groups")),
        str(count),
        count,
        ctx.say(
            _(
                "Teams, congregations, clubs and online communities you are part of. Belonging "
                "to a group with a shared purpose helps when people are apart."
            ),
            _("Groups the client belongs to (team, congregation, club, online community)."),
        ),
    )


def _contact(ctx: _Context) -> list[Metric]:
    total = len(ctx.rhythm_people)
    kept = total - len(ctx.overdue)
    since = ctx.now - timedelta(days=RECENT_DAYS)
    recent = sum(1 for p in ctx.people for t in p.recent_contacts if since <= t <= ctx.now)
    return [
        Metric(
            "rhythm",
            ctx.say(_("In touch as often as you'd like"), _("Contact within wished rhythm")),
            _of(kept, total) if total else str(NOT_YET),
            kept / total if total else None,
            ctx.say(
                _(
                    "Of the people you'd like to be in touch with every so many days, how many "
                    "you have been in touch with within that time."
                ),
                _(
                    "Of the people with a wished contact rhythm, the share whose last logged "
                    "contact falls within it."
                ),
            ),
        ),
        Metric(
            "contacts_30_days",
            _("Contacts in the last 30 days"),
            str(recent),
            recent,
            ctx.say(
                _(
                    "How many times you logged being in touch with someone on your map in the "
                    "last 30 days."
                ),
                _("Contacts logged with people on the map in the last 30 days."),
            ),
        ),
    ]


# --- gaps -----------------------------------------------------------------------------------


def _join(items: Sequence[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c" (or "or"), translatable."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    rest, last = ", ".join(items[:-1]), items[-1]
    if conjunction == "or":
        return _("%(rest)s or %(last)s") % {"rest": rest, "last": last}
    return _("%(rest)s and %(last)s") % {"rest": rest, "last": last}


def _feelings(functions: Sequence[str]) -> list[str]:
    keys = [f.split(".", 1)[1] for f in functions if f.startswith("five_s.")]
    return [str(FEELINGS[k]) for k in FIVE_S_KEYS if k in keys]


def _supports(functions: Sequence[str]) -> list[str]:
    keys = [f.split(".", 1)[1] for f in functions if f.startswith("support.")]
    return [str(SUPPORTS[k]) for k in SUPPORT_KEYS if k in keys]


def _rank(functions: Sequence[str]) -> int:
    return min(PRIORITY.index(f) for f in functions)


def _gaps(ctx: _Context) -> list[str]:
    if ctx.size == 0:
        return [
            ctx.say(
                _(
                    "Your map is empty; add the people around you to see what is strong and "
                    "what is thin."
                ),
                _(
                    "The client's map is empty; add the people around them to see what is "
                    "strong and what is thin."
                ),
            )
        ]
    # (importance, tie-break, sentence): lower comes first.
    found: list[tuple[int, int, str]] = []
    later = len(PRIORITY)

    resources = [p for p in ctx.people if not p.not_safe]
    described = any(p.five_s or p.support for p in resources)
    if resources and not described:
        found.append(
            (
                0,
                0,
                ctx.say(
                    _(
                        "You haven't marked yet who helps you feel seen, safe, soothed, secure "
                        "or stable, or what support each person gives you."
                    ),
                    _(
                        "The map doesn't yet show who helps the client feel seen, safe, "
                        "soothed, secure or stable, or what support each person gives."
                    ),
                ),
            )
        )
    else:
        missing = [f for f in FUNCTIONS if not ctx.providers[f]]
        missing_s = [f for f in missing if f.startswith("five_s.")]
        missing_k = [f for f in missing if f.startswith("support.")]
        if missing_s:
            feelings = _join(_feelings(missing_s), "or")
            found.append(
                (
                    _rank(missing_s),
                    0,
                    ctx.say(
                        _("Nobody on your map helps you feel %(feelings)s yet.")
                        % {"feelings": feelings},
                        _("Nobody on the client's map helps them feel %(feelings)s yet.")
                        % {"feelings": feelings},
                    ),
                )
            )
        if missing_k:
            supports = _join(_supports(missing_k), "or")
            found.append(
                (
                    _rank(missing_k),
                    0,
                    ctx.say(
                        _("Nobody on your map gives you %(supports)s yet.")
                        % {"supports": supports},
                        _("Nobody on the client's map gives them %(supports)s yet.")
                        % {"supports": supports},
                    ),
                )
            )

    for person_id, functions in ctx.alone.items():
        found.extend(_alone_sentences(ctx, ctx.alone_person[person_id], functions))

    strained = sum(1 for p in ctx.people if p.strain >= STRAINED)
    if strained >= 2 and strained * 2 >= ctx.size:
        found.append(
            (
                later,
                0,
                ctx.say(
                    _(
                        "There is some strain with %(count)s of the %(total)s people on your "
                        "map right now."
                    )
                    % {"count": strained, "total": ctx.size},
                    _(
                        "There is some strain with %(count)s of the %(total)s people on the "
                        "client's map right now."
                    )
                    % {"count": strained, "total": ctx.size},
                ),
            )
        )

    one_part = _one_part_of_life(ctx)
    if one_part:
        found.append((later + 1, 0, one_part))

    if not ctx.data.groups:
        found.append(
            (
                later + 2,
                0,
                ctx.say(
                    _(
                        "Your map doesn't show any group you belong to yet, such as a team, "
                        "club, congregation or online community."
                    ),
                    _(
                        "The client's map doesn't show any group they belong to yet, such as a "
                        "team, club, congregation or online community."
                    ),
                ),
            )
        )

    overdue = len(ctx.overdue)
    if overdue:
        found.append(
            (
                later + 3,
                0,
                ctx.say(
                    ngettext(
                        "You haven't been in touch with %(count)d person as often as you'd like.",
                        "You haven't been in touch with %(count)d people as often as you'd like.",
                        overdue,
                    )
                    % {"count": overdue},
                    ngettext(
                        "The client hasn't been in touch with %(count)d person as often as "
                        "they'd like.",
                        "The client hasn't been in touch with %(count)d people as often as "
                        "they'd like.",
                        overdue,
                    )
                    % {"count": overdue},
                ),
            )
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return [sentence for _rank_, _tie, sentence in found]


def _alone_sentences(
    ctx: _Context, person: PersonData, functions: list[str]
) -> list[tuple[int, int, str]]:
    name = person.name
    feelings = _join(_feelings(functions))
    supports = _join(_supports(functions))
    if len(functions) >= CARRIES_A_LOT:
        values = {"name": name, "feelings": feelings, "supports": supports}
        if feelings and supports:
            sentence = ctx.say(
                _(
                    "%(name)s is the only person who helps you feel %(feelings)s and gives you "
                    "%(supports)s — that's a lot resting on one person."
                )
                % values,
                _(
                    "%(name)s is the only person who helps the client feel %(feelings)s and "
                    "gives them %(supports)s — a lot rests on one person."
                )
                % values,
            )
        elif feelings:
            sentence = ctx.say(
                _(
                    "%(name)s is the only person who helps you feel %(feelings)s — that's a lot "
                    "resting on one person."
                )
                % values,
                _(
                    "%(name)s is the only person who helps the client feel %(feelings)s — a lot "
                    "rests on one person."
                )
                % values,
            )
        else:
            sentence = ctx.say(
                _(
                    "%(name)s is the only person who gives you %(supports)s — that's a lot "
                    "resting on one person."
                )
                % values,
                _(
                    "%(name)s is the only person who gives the client %(supports)s — a lot "
                    "rests on one person."
                )
                % values,
            )
        return [(_rank(functions), 1, sentence)]
    sentences: list[tuple[int, int, str]] = []
    five_s = [f for f in functions if f.startswith("five_s.")]
    support = [f for f in functions if f.startswith("support.")]
    if five_s:
        values = {"name": name, "feelings": feelings}
        sentences.append(
            (
                _rank(five_s),
                2,
                ctx.say(
                    _("Only %(name)s helps you feel %(feelings)s.") % values,
                    _("Only %(name)s helps the client feel %(feelings)s.") % values,
                ),
            )
        )
    if support:
        values = {"name": name, "supports": supports}
        sentences.append(
            (
                _rank(support),
                2,
                ctx.say(
                    _("Only %(name)s gives you %(supports)s.") % values,
                    _("Only %(name)s gives the client %(supports)s.") % values,
                ),
            )
        )
    return sentences


def _one_part_of_life(ctx: _Context) -> str:
    """ "Everyone you listed is from work." when two or more people share one category."""
    categories = {p.category for p in ctx.people}
    if ctx.size < 2 or len(categories) != 1:
        return ""
    category = categories.pop()
    client_text: dict[str, str] = {
        Category.PARTNER: _("Everyone you listed is a partner."),
        Category.FAMILY: _("Everyone you listed is family."),
        Category.FRIEND: _("Everyone you listed is a friend."),
        Category.WORK: _("Everyone you listed is from work."),
        Category.COMMUNITY: _("Everyone you listed is from your neighbourhood or community."),
        Category.FAITH: _("Everyone you listed is from your faith community."),
        Category.PROFESSIONAL: _("Everyone you listed is a professional."),
        Category.PEER_SUPPORT: _("Everyone you listed is from peer support."),
    }
    clinician_text: dict[str, str] = {
        Category.PARTNER: _("Everyone the client listed is a partner."),
        Category.FAMILY: _("Everyone the client listed is family."),
        Category.FRIEND: _("Everyone the client listed is a friend."),
        Category.WORK: _("Everyone the client listed is from work."),
        Category.COMMUNITY: _(
            "Everyone the client listed is from their neighbourhood or community."
        ),
        Category.FAITH: _("Everyone the client listed is from their faith community."),
        Category.PROFESSIONAL: _("Everyone the client listed is a professional."),
        Category.PEER_SUPPORT: _("Everyone the client listed is from peer support."),
    }
    texts = client_text if ctx.you else clinician_text
    return texts.get(category, "")
