"""Link a key contact to the account made when they accept their invitation."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from kithkin.accounts.models import Invitation, NetworkMember
from kithkin.accounts.signals import member_joined
from kithkin.care.models import KeyContact


@receiver(member_joined)
def link_key_contact(
    sender: Any, *, member: NetworkMember, invitation: Invitation, **kwargs: Any
) -> None:
    KeyContact.objects.current().filter(invitation=invitation, network_member__isnull=True).update(
        network_member=member
    )
