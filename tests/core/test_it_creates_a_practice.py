"""`kithkin createpractice` makes a practice and its first admin, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import Membership, Practice, Role, User
from kithkin.audit.models import AuditEvent
from kithkin.cli import main
from tests.conftest import World

PASSWORD = "a sturdy practice passphrase"


@pytest.mark.django_db
def test_it_creates_a_practice_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    code = main([
        "createpractice", "--name", "Riverside Clinic", "--admin-email", "Lead@Riverside.test",
        "--admin-name", "Rosa Lead", "--time-zone", "Europe/London",
        "--password-file", str(password_file), "--no-input",
    ])  # fmt: skip
    assert code == 0
    output = capsys.readouterr().out
    assert "Created Riverside Clinic with admin lead@riverside.test" in output
    assert "Next steps" in output and "/accounts/login/" in output

    user = User.objects.get(email="lead@riverside.test")
    assert user.check_password(PASSWORD)
    assert user.membership.role == Role.ADMIN
    assert user.membership.practice.name == "Riverside Clinic"
    assert user.membership.practice.time_zone == "Europe/London"
    assert AuditEvent.objects.filter(action="practice.create").count() == 1


@pytest.mark.django_db
def test_it_refuses_a_taken_email_and_creates_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    practices = Practice.objects.count()
    # The stranger's address is taken: a new practice cannot be built around that account.
    code = main([
        "createpractice", "--name", "Copycat", "--admin-email", world.stranger.email,
        "--admin-name", "Copy Cat", "--no-input",
    ])  # fmt: skip
    assert code == 1  # the password file is missing in --no-input mode
    assert "--password-file is required" in capsys.readouterr().err
    with pytest.raises(CommandError, match=r"already exists\. Nothing was created\."):
        call_command(
            "createpractice",
            name="Copycat",
            admin_email=world.stranger.email.upper(),
            admin_name="Copy Cat",
            password=PASSWORD,
        )
    assert Practice.objects.count() == practices
    assert clients_for(world.stranger, Purpose.MANAGE).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": " "}, "The practice needs a name."),
        ({"admin_email": "not-an-email"}, "is not a valid email address"),
        ({"password": "short"}, "The password is not strong enough"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone name"),
    ],
)
def test_it_names_the_problem_with_bad_input(options: dict[str, str], message: str) -> None:
    values = {
        "name": "Good Practice", "admin_email": "admin@good.test", "admin_name": "Ada Good",
        "password": PASSWORD, "time_zone": "UTC", **options,
    }  # fmt: skip
    with pytest.raises(CommandError, match=message):
        call_command("createpractice", **values)
    assert not Practice.objects.exists()
    assert not Membership.objects.exists()
    assert not User.objects.exists()
