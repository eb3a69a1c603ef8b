from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Create a partner account (not staff) in the 'partners' group, which may submit calls through "
        "the API as drafts, and print its API token. Staff can also manage tokens in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        user = User.objects.create_user(username=username, email=email)  # no password: API only
        user.groups.add(Group.objects.get(name="partners"))
        token = Token.objects.create(user=user)
        self.stdout.write(f"Partner {username} created. API token: {token.key}")
        self.stdout.write("Send it as:  Authorization: Token <key>")
