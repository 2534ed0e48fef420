"""`posaid users`, `posaid terminals`, `posaid staff`: head office's people and register from a shell.

The same rules as the office's pages (server/office/accounts.py, the writes), the same audit log
(the actor is "cli:<login>"). Refusals become one line on stderr through the `Posaid` group.
"""

import getpass
import sys

import click

from sync.errors import BadRequest, NotFound

DATA_OPTION = click.option("--data", help="Folder for the database and blobs [POSAID_DATA; ./var].")


def _store(data: str | None):
    from server.cli import _store as open_store

    return open_store(data)


def actor() -> str:
    """Who the audit log names for a command: the login that ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _shop(db, shop: int):
    from server import queries

    found = queries.shop(db, shop)
    if found is None:
        raise NotFound(f"SHOP {shop}: no such shop (see `posaid shops list`)")
    return found


@click.group()
def users() -> None:
    """Head-office users: who may sign in at /office, in what role."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "regional", "viewer"]), required=True,
              help="admin: everything; regional: only their regions' shops; viewer: read only.")
@click.option("--region", "regions", multiple=True, help="A region a regional user sees (repeat for more).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@DATA_OPTION
def users_add(name: str, role: str, regions: tuple[str, ...], password_stdin: bool, data: str | None) -> None:
    """Add a user called NAME; the password is asked for (or read with --password-stdin)."""
    from server.office import accounts
    from server.store import now

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.new_user(name, role, password, regions)
    with _store(data).write() as db:
        accounts.add_user(db, user, actor(), now())
    click.echo(f"added {user.role} {user.name}" + (f" ({', '.join(user.regions)})" if user.regions else ""))


@users.command("list")
@DATA_OPTION
def users_list(data: str | None) -> None:
    """Every user: name, role, regions, and whether disabled."""
    from server import queries

    with _store(data).read() as db:
        listed = queries.users(db)
    for user in listed:
        state = f"disabled {user.disabled_at}" if user.disabled_at else "enabled"
        click.echo(f"{user.name}\t{user.role}\t{','.join(user.regions)}\t{state}")


@users.command("disable")
@click.argument("name")
@DATA_OPTION
def users_disable(name: str, data: str | None) -> None:
    """Disable NAME: they cannot sign in, and their sessions end at their next request."""
    from server.office import accounts
    from server.store import now

    with _store(data).write() as db:
        accounts.disable_user(db, name, actor(), now())
    click.echo(f"disabled {name}")


@click.group()
def terminals() -> None:
    """A shop's terminals, as the register (and the phones' support card) knows them."""


@terminals.command("add")
@click.argument("shop", type=int)
@click.argument("name")
@click.option("--model")
@click.option("--serial", help="The serial number on the terminal's label.")
@click.option("--tid", help="The terminal id the acquirer knows it by.")
@click.option("--mid", help="The merchant id.")
@click.option("--acquirer")
@click.option("--software-version")
@DATA_OPTION
def terminals_add(shop: int, name: str, data: str | None, **fields: str | None) -> None:
    """Add a terminal called NAME to SHOP (its id); prints the terminal's id."""
    from server import writes
    from server.store import now
    from sync.pan import mask_pans

    fields = {key: mask_pans(value.strip()) if value else None for key, value in fields.items()}
    name = mask_pans(name.strip())
    if not name:
        raise BadRequest("NAME: give the terminal a name")
    with _store(data).write() as db:
        found = _shop(db, shop)
        terminal_id = writes.add_terminal(db, shop, {"name": name, **fields})
        writes.audit(db, now(), actor(), "terminal.added", f"{shop} {name}", fields.get("tid") or "")
    click.echo(f"{terminal_id}\t{found.name}\t{name}")


@terminals.command("list")
@click.argument("shop", type=int)
@DATA_OPTION
def terminals_list(shop: int, data: str | None) -> None:
    """SHOP's terminals: id, name, model, serial, TID, MID, acquirer, software version."""
    from server import queries

    with _store(data).read() as db:
        _shop(db, shop)
        listed = queries.terminals(db, shop)
    for t in listed:
        click.echo("\t".join(str(v or "") for v in (t.id, t.name, t.model, t.serial, t.tid, t.mid, t.acquirer,
                                                     t.software_version)))


@click.group()
def staff() -> None:
    """A shop's staff names (the phones offer them for "recorded by")."""


@staff.command("add")
@click.argument("shop", type=int)
@click.argument("name")
@DATA_OPTION
def staff_add(shop: int, name: str, data: str | None) -> None:
    """Add NAME to SHOP's staff."""
    from server import writes
    from server.store import now
    from sync.pan import mask_pans

    name = mask_pans(name.strip())
    if not name:
        raise BadRequest("NAME: give a name")
    with _store(data).write() as db:
        _shop(db, shop)
        writes.add_staff(db, shop, name)
        writes.audit(db, now(), actor(), "staff.added", f"{shop} {name}")
    click.echo(f"added {name} to shop {shop}")


COMMANDS = (users, terminals, staff)
