"""`costplan limits`: the rate limits an organisation really has, as a table or as a workload's `limits:`."""

from __future__ import annotations

import click

from costplan.render import FORMATS, render, to_json

GROUP_TYPES = ("model_group", "batch", "token_count", "files", "skills", "web_search")


@click.command(
    "limits",
    epilog="""\b
Examples:
  costplan limits                                  the organisation's limits (ANTHROPIC_ADMIN_KEY)
  costplan limits --format yaml > limits.yaml      as a workload's limits: section
  costplan limits -m claude-sonnet-4-6             the group one model draws on
  costplan limits --from-headers response.txt -m claude-sonnet-4-6
  costplan limits --from-headers session.har       a browser's HAR file; the model is read from it

Exit codes: 0 fine, 2 bad input (no or wrong key, a refused request, an unreadable file), 3 the Admin API
could not answer (network, 429, 5xx, a malformed answer).""",
)
@click.option(
    "--from-headers",
    "headers_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Read the anthropic-ratelimit-* headers of saved responses (curl -i output, a headers dump or a HAR "
    "file) instead of asking the Rate Limits API: no key, no network.",
)
@click.option(
    "-m",
    "--model",
    metavar="MODEL",
    help="With the API: only the group holding this model. With --from-headers: the model the responses "
    "answered, where the file does not say.",
)
@click.option("--group-type", type=click.Choice(GROUP_TYPES), help="With the API: only groups of this type.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, "yaml"]),
    default="table",
    show_default=True,
    help="table, markdown or csv: every group; json or yaml: a workload's limits: and batch_queue_limit, "
    "ready to paste.",
)
def limits(headers_file: str | None, model: str | None, group_type: str | None, fmt: str) -> None:
    """The rate limits the organisation has: from the Rate Limits API (GET /v1/organizations/rate_limits,
    an Admin API key in ANTHROPIC_ADMIN_KEY, ANTHROPIC_BASE_URL honoured) or from the anthropic-ratelimit-*
    headers of saved responses.

    The json and yaml formats write them as a workload takes them, so `costplan estimate` and `costplan
    check` compute headroom against the real numbers; a workload may instead say `limits: {from: api}`.
    """
    from costplan.org.limits import workload_limits

    if headers_file is not None:
        from costplan.errors import InputError
        from costplan.org.headers import read_headers_file

        if group_type:
            raise InputError("--group-type filters the API's answer", fix="drop it with --from-headers")
        org = read_headers_file(headers_file, model=model)
    else:
        from costplan.org.limits_api import fetch_org_limits

        org = fetch_org_limits(model=model, group_type=group_type)
    section = workload_limits(org)
    if fmt == "json":
        click.echo(to_json(section.to_dict()))
    elif fmt == "yaml":
        from costplan.render.limits import limits_yaml

        click.echo(limits_yaml(org, section), nl=False)
    else:
        from costplan.render.limits import limits_document

        click.echo(render(limits_document(org, section), fmt))  # type: ignore[arg-type]
    for note in section.notes if fmt in ("json", "yaml") else ():
        click.echo(f"costplan: note: {note}", err=True)
