import os
import sys
from getpass import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

PASSWORD_VARIABLE = "CURATOR_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a curator: a staff account in the 'curators' group, who can edit calls, funders, "
        "programmes and themes but nothing about users. The password is read from the "
        f"{PASSWORD_VARIABLE} environment variable when it is set (scripts, containers: no terminal "
        "needed); otherwise it is asked for twice on the terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = self.password()
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name="curators"))
        self.stdout.write(self.style.SUCCESS(f"Curator {username} created: log in at /admin/."))

    def password(self) -> str:
        """From the environment, else asked twice on a terminal; never read from a pipe."""
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not sys.stdin.isatty():
            raise CommandError(
                f"No terminal to ask for the password: set the {PASSWORD_VARIABLE} environment variable."
            )
        password = getpass("Password: ")
        if not password:
            raise CommandError("An empty password is not a password.")
        if getpass("Password (again): ") != password:
            raise CommandError("The two passwords differ: nothing was created.")
        return password
