from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from calls import services


class Command(BaseCommand):
    help = (
        "Create a partner account (not staff) in the 'partners' group, which may submit calls through "
        "the API as drafts, and print its API token. Staff can do the same in the admin (Users: the action "
        "'Make them partners')."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        user = User.objects.create_user(username=username, email=email)  # no password: API only
        token, _created = services.make_partner(user=user)
        self.stdout.write(f"Partner {username} created. API token: {token.key}")
        self.stdout.write("Send it as:  Authorization: Token <key>")
