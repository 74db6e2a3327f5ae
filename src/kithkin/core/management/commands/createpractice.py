"""``createpractice``: a new practice and its first practice admin."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from kithkin.core import services


class Command(BaseCommand):
    help = "Create a practice and its first practice admin, then print the next steps."
    # The password never goes on a command line (it would show in `ps` and shell history):
    # it comes from --password-file, a prompt, or call_command(password=...).
    stealth_options = ("password",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="the practice's name")
        parser.add_argument("--admin-email", help="the practice admin's email address (login)")
        parser.add_argument("--admin-name", help="the practice admin's name")
        parser.add_argument("--time-zone", default="UTC", help="the practice's time zone")
        parser.add_argument(
            "--password-file",
            type=Path,
            help="read the admin's password from this file instead of prompting",
        )

    def _ask(self, options: dict[str, Any], key: str, prompt: str) -> str:
        value: str | None = options.get(key)
        if value:
            return value
        if not options.get("interactive", True):
            raise CommandError(f"--{key.replace('_', '-')} is required.")
        return input(f"{prompt}: ").strip()

    def _password(self, options: dict[str, Any]) -> str:
        if options.get("password"):
            return str(options["password"])
        path: Path | None = options.get("password_file")
        if path is not None:
            if not path.is_file():
                raise CommandError(f"The password file {path} does not exist.")
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        if not options.get("interactive", True):
            raise CommandError("--password-file is required when not run interactively.")
        first = getpass.getpass("Admin's password (12 characters or more): ")
        if first != getpass.getpass("The same password again: "):
            raise CommandError("The two passwords did not match; nothing was created.")
        return first

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="never prompt; fail if something is missing",
        )
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        name = self._ask(options, "name", "Practice name")
        email = self._ask(options, "admin_email", "Practice admin's email address")
        admin_name = self._ask(options, "admin_name", "Practice admin's name")
        password = self._password(options)
        try:
            practice, user = services.create_practice(
                name=name,
                admin_email=email,
                admin_name=admin_name,
                password=password,
                time_zone=options["time_zone"],
            )
        except services.PracticeSetupError as error:
            raise CommandError(f"{error} Nothing was created.") from None
        login = settings.SITE_URL + reverse("login")
        self.stdout.write(self.style.SUCCESS(f"Created {practice.name} with admin {user.email}."))
        self.stdout.write(
            "Next steps:\n"
            f"  1. Sign in at {login} as {user.email}.\n"
            "  2. On the practice page, invite your clinicians and add clients.\n"
            "  3. Put clinicians on each client's care team; admins see clinical content only\n"
            "     when they are on the care team themselves."
        )
