"""Rate limits of alert requests, counted in the cache per mailbox (`registry.throttling` counts
per client address). Keys hold a hash of the address, never the address itself."""


def mailbox(email: str) -> str:
    """The mailbox an address reaches, for counting: lower case, without its `+tag`
    (`ana+1@example.org` and `Ana+2@Example.org` are one mailbox)."""
    local, _at, domain = email.strip().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}".lower()
