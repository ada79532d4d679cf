"""``enarx user``: the user record a registry keeps for an OIDC subject (Drawbridge users)."""

from __future__ import annotations

import argparse

from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.registry_common import (
    add_client_options,
    default_host,
    make_client,
    print_json,
    token_subject,
)
from enarx.cli.status import ExitStatus
from enarx.registry.errors import RegistryError
from enarx.registry.names import parse_user_spec

DESCRIPTION = """\
A registry user is a name owned by one identity: the `sub` of an OIDC token, or the subject a
local token was made for (`enarx registry token`). Register once, then create repositories.

  enarx user register localhost:8080/alice --token $TOKEN --subject alice
  enarx user info localhost:8080/alice --token $TOKEN
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser("user", help="register a registry user", description=DESCRIPTION,
                            formatter_class=RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="user_command", metavar="COMMAND")
    commands.required = True
    reg = commands.add_parser("register", help="create the user record for your token's subject",
                              description="Create [SCHEME://][HOST/]USER, owned by the token's subject.")
    reg.add_argument("user", metavar="[HOST/]USER")
    reg.add_argument("--subject", default=env.getenv("ENARX_SUBJECT"),
                     help="the identity that owns USER; default: the `sub` of an OIDC token (env ENARX_SUBJECT)")
    add_client_options(reg, env)
    reg.set_defaults(handler=handle_register)
    info = commands.add_parser("info", help="show a user record (your own)")
    info.add_argument("user", metavar="[HOST/]USER")
    add_client_options(info, env)
    info.set_defaults(handler=handle_info)


def handle_register(args: argparse.Namespace, env: Environment) -> ExitStatus:
    scheme, host, user = parse_user_spec(args.user, default_host=default_host(env))
    subject = args.subject or token_subject(args.token)
    if not subject:
        raise RegistryError("--subject is required with a local token (an OIDC token carries it)", status=0)
    with make_client(args, scheme, host) as client:
        client.register_user(user, subject)
    print(f"registered user {user} on {host} for subject {subject}", file=env.stderr)
    return ExitStatus.OK


def handle_info(args: argparse.Namespace, env: Environment) -> ExitStatus:
    scheme, host, user = parse_user_spec(args.user, default_host=default_host(env))
    with make_client(args, scheme, host) as client:
        print_json(env, client.user_info(user))
    return ExitStatus.OK
