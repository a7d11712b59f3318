"""The setup page's HTML: plain forms, no script, every value escaped, secrets never written back."""

from __future__ import annotations

import json
from html import escape

from bot.setup.flow import STEPS, Setup
from bot.setup.plan import ROLES
from bot.setup.probe import NamespaceFinding, Problem
from bot.slack.manifest import create_app_link, manifest

TITLES = {"quay": "1. Quay", "access": "2. Access", "slack": "3. Slack", "write": "4. Write and start"}
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
nav a,nav span{margin-right:1rem} nav .here{font-weight:700} .done{color:#1a7f37}
.problem{border-left:4px solid #cf222e;background:#fff5f5;padding:.5rem 1rem}
.ok{border-left:4px solid #1a7f37;background:#f4fbf6;padding:.5rem 1rem}
pre{background:#f6f8fa;padding:1rem;overflow:auto} table{border-collapse:collapse}
td,th{padding:.25rem .5rem;text-align:left;border-bottom:1px solid #ddd}
label{display:block;margin:.5rem 0} input[type=text],input[type=password],input[type=url]{width:28rem}
button{font-size:1rem;padding:.4rem 1rem;margin-top:.5rem}
"""


def page(setup: Setup, step: str, body: str, problem: Problem | None = None) -> str:
    reached = STEPS.index(setup.reached())
    links = []
    for index, name in enumerate(STEPS):
        title = escape(TITLES[name])
        if name == step:
            links.append(f'<span class="here">{title}</span>')
        elif index <= reached:
            links.append(f'<a href="/{name}" class="{"done" if index < reached else ""}">{title}</a>')
        else:
            links.append(f"<span>{title}</span>")
    said = ""
    if problem is not None:
        said = (
            f'<div class="problem" role="alert" id="problem"><p><strong>{escape(problem.what)}</strong></p>'
            f"<p>{escape(problem.fix)}</p></div>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>quaybot setup</title>'
        f"<style>{STYLE}</style></head><body><h1>quaybot setup</h1><nav>{''.join(links)}</nav>"
        f"<h2>{escape(TITLES[step])}</h2>{said}{body}</body></html>"
    )


def quay_said(setup: Setup) -> str:
    """What the Quay step found, said again where the next steps build on it."""
    if setup.quay is None:
        return ""
    q = setup.quay
    return (
        f'<div class="ok" id="quay-ok"><p>Quay {escape(q.url)} answers (API {escape(q.version or "?")}); the token '
        f"is <code>{escape(q.username)}</code>, and may: {escape(', '.join(q.scopes) or 'read only')}.</p></div>"
    )


def quay_step(setup: Setup, url: str = "") -> str:
    url = url or setup.plan.quay_url
    known = quay_said(setup)
    return (
        f"{known}<p>The Quay the bot manages, and the token it acts with (an OAuth application's token, "
        "with repo:read, repo:write, repo:admin, repo:create, user:read and, for the watch's usage logs, "
        "org:admin).</p>"
        '<form method="post" action="/quay">'
        f'<label>Quay URL <input type="text" inputmode="url" name="url" id="quay-url" value="{escape(url)}" required '
        'placeholder="https://quay.example.com"></label>'
        '<label>Token <input type="password" name="token" id="quay-token" autocomplete="off" required></label>'
        '<button type="submit" id="check-quay">Check Quay</button></form>'
    )


def _can(value: bool | None, yes: str, no: str, unknown: str) -> str:
    return escape(yes if value else unknown if value is None else no)


def _namespace_row(index: int, n: NamespaceFinding, setup: Setup) -> str:
    mapped = next((m for m in setup.plan.mappings if n.name in m.namespaces), None)
    channel = mapped.channel if mapped else ""
    role = mapped.role if mapped else "read"
    roles = "".join(f'<option value="{r}"{" selected" if r == role else ""}>{r}</option>' for r in ROLES)
    facts = "; ".join(
        [
            _can(n.can_create, "can create repositories", "cannot create repositories", "?"),
            _can(
                n.notifications, "can read notifications", "cannot read notifications: no alerts", "no repository yet"
            ),
        ]
        + ([_can(n.logs, "reads usage logs", "no usage logs: the watch lists instead", "?")] if n.is_org else [])
    )
    return (
        f'<tr><td><input type="checkbox" name="use-{index}" id="use-{escape(n.name)}"'
        f"{' checked' if mapped else ''}> <code>{escape(n.name)}</code>"
        f'<input type="hidden" name="namespace-{index}" value="{escape(n.name)}"></td>'
        f'<td><input type="text" name="channel-{index}" id="channel-{escape(n.name)}" value="{escape(channel)}" '
        'placeholder="C0123ABCD or #team-a" style="width:12rem"></td>'
        f'<td><select name="role-{index}" id="role-{escape(n.name)}">{roles}</select></td>'
        f'<td><input type="checkbox" name="alerts-{index}" id="alerts-{escape(n.name)}"'
        f"{' checked' if (mapped.alerts if mapped else bool(n.notifications)) else ''}></td>"
        f"<td>{facts}</td></tr>"
    )


def access_step(setup: Setup) -> str:
    assert setup.quay is not None
    rows = "".join(_namespace_row(i, n, setup) for i, n in enumerate(setup.quay.namespaces))
    preview = ""
    if setup.plan.mappings:
        note = ""
        if any(m.channel.startswith("#") for m in setup.plan.mappings):
            note = "<p>Channel names are turned into IDs at the Slack step.</p>"
        preview = (
            '<div class="ok"><p>The access file setup will write:</p>'
            f'<pre id="access-preview">{escape(setup.plan.access_yaml())}</pre>{note}'
            '<p><a href="/slack" id="to-slack">Continue to Slack</a></p></div>'
        )
    return (
        f"{quay_said(setup)}"
        "<p>Which Slack channel may do what in which namespace. A channel not listed can do nothing.</p>"
        '<form method="post" action="/access"><table><tr><th>Namespace</th><th>Channel</th><th>Role</th>'
        f"<th>Alerts</th><th>The token</th></tr>{rows}</table>"
        '<button type="submit" id="save-access">Show the access file</button></form>'
        f"{preview}"
    )


def slack_step(setup: Setup) -> str:
    plan = setup.plan
    socket = plan.mode == "socket"
    mode_form = (
        '<form method="post" action="/slack/mode">'
        f'<label><input type="radio" name="mode" value="socket" id="mode-socket"{" checked" if socket else ""}> '
        "Socket Mode: no public URL needed (one replica)</label>"
        f'<label><input type="radio" name="mode" value="http" id="mode-http"{"" if socket else " checked"}> '
        "HTTP: Slack calls a public HTTPS address (several replicas, subscriptions)</label>"
        f'<label>Public URL (HTTP only) <input type="text" inputmode="url" name="public_url" id="public-url" '
        f'value="{escape(plan.public_url or "")}" placeholder="https://quaybot.example.com"></label>'
        '<button type="submit" id="choose-mode">Show the manifest</button></form>'
    )
    shown = manifest(plan.public_url if not socket else None)
    link = create_app_link(plan.public_url if not socket else None)
    second = (
        '<label>App-level token <input type="password" name="app_token" id="app-token" autocomplete="off"></label>'
        if socket
        else '<label>Signing secret <input type="password" name="signing_secret" id="signing-secret" '
        'autocomplete="off"></label>'
    )
    ok = ""
    if setup.slack is not None:
        ok = (
            f'<div class="ok" id="slack-ok"><p>Slack accepts the bot token (user {escape(setup.slack.bot_user)} in '
            f"{escape(setup.slack.team)}){'; Socket Mode connected' if setup.slack.socket_mode else ''}.</p>"
            '<p><a href="/write" id="to-write">Continue</a></p></div>'
        )
    return (
        f"{ok}{mode_form}<h3>The app's manifest</h3>"
        f'<p><a href="{escape(link)}" id="create-app" target="_blank" rel="noopener noreferrer">'
        "Create the app in Slack</a> (opens Slack's create-from-manifest page with it filled in; pick the "
        "workspace, create, then <em>Install App</em>).</p>"
        f'<pre id="manifest">{escape(json.dumps(shown, indent=2))}</pre>'
        '<form method="post" action="/slack"><p>From the app\'s pages: the <em>Bot User OAuth Token</em> '
        "(OAuth &amp; Permissions) and "
        + ("an app-level token with connections:write (Basic Information)." if socket else "the Signing Secret.")
        + "</p>"
        '<label>Bot token <input type="password" name="bot_token" id="bot-token" autocomplete="off" required></label>'
        f'{second}<button type="submit" id="check-slack">Check with Slack</button></form>'
    )


def write_step(setup: Setup) -> str:
    written = setup.written
    if written is not None:
        verdict = "ok" if written.check_problems == 0 else "problem"
        backups = "".join(f"<li>kept the old one as {escape(b.name)}</li>" for b in written.backups)
        return (
            f'<div class="ok" id="written"><p>Wrote {escape(written.env.name)} and {escape(written.access.name)} '
            f"(readable by you only).</p><ul>{backups}</ul></div>"
            f'<h3>quaybot check</h3><pre id="check" class="{verdict}">{escape(written.check_output)}</pre>'
            '<form method="post" action="/serve"><button type="submit" id="serve">Start serving</button></form>'
            "<p>Or stop here (Ctrl-C in the terminal) and run <code>make run</code> later.</p>"
        )
    existing = setup.existing()
    replace = ""
    if existing:
        names = ", ".join(p.name for p in existing)
        replace = (
            f'<p class="problem">{escape(names)} already here.</p><label><input type="checkbox" name="replace" '
            'id="replace"> replace (the old ones are kept as .bak)</label>'
        )
    env_shown = setup.plan.env_text(masked=True)
    return (
        f'<h3>{escape(setup.env_path.name)}</h3><pre id="env-preview">{escape(env_shown)}</pre>'
        f"<h3>{escape(setup.access_path.name)}</h3><pre>{escape(setup.plan.access_yaml())}</pre>"
        f'<form method="post" action="/write">{replace}<button type="submit" id="write">Write the files</button></form>'
    )


def refused(reason: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>quaybot setup</title></head>'
        f"<body><h1>quaybot setup</h1><p>{escape(reason)}</p></body></html>"
    )


def serving() -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>quaybot setup</title></head>'
        '<body><h1>quaybot setup</h1><p id="serving">Setup is done: quaybot is starting in the terminal. '
        "In a mapped channel, type <code>/quay help</code>.</p></body></html>"
    )
