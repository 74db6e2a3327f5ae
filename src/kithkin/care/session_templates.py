"""Session templates: a purpose and prompts for each agenda step, for the settings where social
network therapy is used (concepts.md, section 3). The words are Kithkin's own, kept plain: the
client reads them too. Prompts are questions to the whole group, never about a diagnosis."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The agenda, in order. Steps review, problem and solution hold contributions; "action" holds
# the actions agreed, and "plan" the plan for the next session.
STEPS: tuple[str, ...] = ("review", "problem", "solution", "action", "plan")


@dataclass(frozen=True)
class SessionTemplate:
    key: str
    title: Promise
    purpose: Promise
    prompts: dict[str, tuple[Promise, ...]]

    def prompts_for(self, step: str) -> tuple[Promise, ...]:
        return self.prompts.get(step, ())


RELAPSE_PREVENTION = SessionTemplate(
    key="relapse_prevention",
    title=_("Substance use: preventing relapse"),
    purpose=_(
        "For someone cutting down or staying off alcohol or drugs. The people around them help "
        "to notice early warning signs, plan for the risky times, and agree beforehand what each "
        "of them will do if a slip happens, so that a slip stays a slip. The network is part of "
        "the plan, not an audience for it."
    ),
    prompts={
        "review": (
            _("What has gone well since last time, however small?"),
            _("Were there risky moments? What helped to get through them?"),
            _("Which of the agreed actions happened, and what got in the way of the others?"),
        ),
        "problem": (
            _("Which places, people, times or feelings make using more likely at the moment?"),
            _("Has anyone noticed early warning signs?"),
            _("Is anyone finding it hard to help without arguing, checking up or rescuing?"),
        ),
        "solution": (
            _("What could each person do at a risky time: a call, a visit, something to do?"),
            _("If a slip happens, what will everyone do, so that it does not become a relapse?"),
            _("What enjoyable things, with no drink or drugs involved, could be planned?"),
        ),
        "action": (
            _("Give each action one person and a date."),
            _("Agree who can be called at a risky time, and when they can be reached."),
        ),
        "plan": (
            _("What should the next session look at first?"),
            _("Is there someone else who would help if they joined?"),
        ),
    },
)

TRAUMA_RECOVERY = SessionTemplate(
    key="trauma_recovery",
    title=_("Recovering after trauma"),
    purpose=_(
        "For someone recovering after a frightening or overwhelming experience. The aim is to "
        "make everyday life feel safer and more predictable, to help the people close to them "
        "understand what helps and what makes things harder, and to rebuild steady contact at "
        "a pace they choose. Nobody is asked to talk about what happened unless they want to."
    ),
    prompts={
        "review": (
            _("When have you felt safe and settled since last time?"),
            _("How have sleep, daily routines and time with others been going?"),
            _("Which of the agreed actions happened?"),
        ),
        "problem": (
            _("Which situations or reminders have been hard lately?"),
            _("When has help from others felt like too much, or too little?"),
            _("Is anything making home or daily life feel less safe?"),
        ),
        "solution": (
            _("What helps to calm things down when a reminder comes up, and who can help?"),
            _("How can people check in without asking for details?"),
            _("Which routines or regular contact could bring back a sense of steadiness?"),
        ),
        "action": (
            _("Keep actions small and specific: the person at the centre decides the pace."),
            _("Agree how to say “not now” without anyone feeling turned away."),
        ),
        "plan": (
            _("What would you like to focus on next time?"),
            _("Does the pace feel right?"),
        ),
    },
)

CHRONIC_ILLNESS = SessionTemplate(
    key="chronic_illness",
    title=_("Living with a long-term illness"),
    purpose=_(
        "For someone living with a long-term illness. The network shares out the practical "
        "load (appointments, medicines, meals, lifts, company) so that no one person carries "
        "all of it, and the person at the centre keeps as much say over their own care as they "
        "want."
    ),
    prompts={
        "review": (
            _("How have energy and mood been since last time?"),
            _("Which practical tasks were covered, and which were missed?"),
            _("Is anyone who helps getting tired?"),
        ),
        "problem": (
            _("Which practical tasks are hard to manage at the moment?"),
            _("Are there appointments, treatments or changes coming up?"),
            _("Where do people's efforts overlap, or leave a gap?"),
        ),
        "solution": (
            _("Who could take on which task, and how often?"),
            _("What is the back-up plan if the usual helper cannot make it?"),
            _("What would you like to keep doing yourself?"),
        ),
        "action": (
            _("Share the tasks out so that nobody carries too much."),
            _("Put dates on anything tied to an appointment or treatment."),
        ),
        "plan": (
            _("What is coming up before the next session?"),
            _("Should anyone else be involved?"),
        ),
    },
)

FAMILY_CONFLICT = SessionTemplate(
    key="family_conflict",
    title=_("Family conflict"),
    purpose=_(
        "For families where arguments or distance are making things harder for everyone. Each "
        "person gets a turn to say what matters to them without being interrupted, and the "
        "family agrees on small, concrete changes to try before meeting again."
    ),
    prompts={
        "review": (
            _("What has been better between you since last time?"),
            _("Did the changes agreed last time happen? How did they feel?"),
        ),
        "problem": (
            _("What tends to start arguments, or lead to silence?"),
            _("What does each person need from the others? Take turns."),
            _("Describe what happens, rather than what kind of person someone is."),
        ),
        "solution": (
            _("What could each person do differently in those moments?"),
            _("How can anyone take a break when things get heated, and come back to it later?"),
            _("Is there something enjoyable you could do together?"),
        ),
        "action": (
            _("Everyone present takes on something, not only the person at the centre."),
            _("Keep each change small enough to try this week."),
        ),
        "plan": (
            _("What should we check on next time?"),
            _("Is there a topic to come back to when things are calmer?"),
        ),
    },
)

CRISIS = SessionTemplate(
    key="crisis",
    title=_("Crisis support"),
    purpose=_(
        "For a time of crisis. The session looks at the next few days only: what keeps the "
        "person at the centre safe, who will be with them and when, and whom to call if things "
        "get worse. Longer-term goals wait until things are steadier."
    ),
    prompts={
        "review": (
            _("What has happened since last time, and how are things right now?"),
            _("Whom have you been able to reach, and who was there?"),
        ),
        "problem": (
            _("What are the most pressing worries for the next few days?"),
            _("Which times of day are hardest, or spent alone?"),
            _("Is the crisis plan still right?"),
        ),
        "solution": (
            _("Who can be there, or check in, at those times?"),
            _("Which signs mean it is time to call the crisis line or emergency services?"),
            _("What can be taken off your plate for now?"),
        ),
        "action": (
            _("Keep actions to the next few days, with clear times."),
            _("Make sure everyone has the crisis numbers."),
        ),
        "plan": (
            _("When should you all meet again? In a crisis, sooner is usually better."),
            _("Who will check in before then?"),
        ),
    },
)

# Sessions recorded without a template (imported, or from before templates) get plain prompts.
GENERAL = SessionTemplate(
    key="",
    title=_("Network session"),
    purpose=_(
        "The client, the people supporting them and the clinician look back at what happened "
        "since last time, raise what is hard, think of solutions together and agree who does "
        "what by when."
    ),
    prompts={
        "review": (_("What has changed since last time? Which actions happened?"),),
        "problem": (_("What is hard at the moment? Everyone may raise something."),),
        "solution": (_("What could help? Every idea counts at this stage."),),
        "action": (_("Give each action one person, a date and the goal it supports."),),
        "plan": (_("What should the next session look at?"),),
    },
)

TEMPLATES: tuple[SessionTemplate, ...] = (
    RELAPSE_PREVENTION,
    TRAUMA_RECOVERY,
    CHRONIC_ILLNESS,
    FAMILY_CONFLICT,
    CRISIS,
)
_BY_KEY = {template.key: template for template in TEMPLATES}


def template_for(key: str) -> SessionTemplate:
    """The template with this key, or the general prompts for an unknown or empty key."""
    return _BY_KEY.get(key, GENERAL)


def choices() -> list[tuple[str, Promise]]:
    return [(template.key, template.title) for template in TEMPLATES]
