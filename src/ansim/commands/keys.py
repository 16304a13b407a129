"""``ansim keys create|list|revoke``: API keys for the HTTP API (stored hashed; shown once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def register(app: typer.Typer) -> None:
    """Add the ``keys`` group to the CLI."""
    keys = typer.Typer(help="API keys (scopes read, ingest, admin).", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    def _engine() -> Engine:
        from ansim.settings import get_settings
        from ansim.store.db import make_engine

        return make_engine(get_settings().db_url)

    @keys.command("create")
    def create(
        scope: Annotated[str, typer.Option("--scope", help="read, ingest or admin.")],
        label: Annotated[str, typer.Option("--label", help="Who or what the key is for.")] = "",
    ) -> None:
        """Create a key and print it once (only a salted hash is stored)."""
        from ansim.api.keys import create_key

        key, text = create_key(_engine(), scope=scope, label=label)
        typer.echo(text)
        typer.echo(
            f"id {key.id} · scope {key.scope} · store it now: it cannot be shown again", err=True
        )

    @keys.command("list")
    def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """List keys (id, scope, label, created, revoked), never their secrets."""
        import json

        from ansim.api.keys import list_keys

        found = list_keys(_engine())
        if as_json:
            typer.echo(json.dumps([k.to_dict() for k in found], ensure_ascii=False))
            return
        for k in found:
            d = k.to_dict()
            state = f"revoked {d['revoked_at']}" if d["revoked_at"] else "active"
            typer.echo(f"{k.id}  {k.scope:<6}  {d['created_at']}  {state}  {k.label}")

    @keys.command("revoke")
    def revoke(key_id: Annotated[str, typer.Argument(metavar="ID", help="Key id.")]) -> None:
        """Revoke a key: requests with it are refused from the next second on."""
        from ansim.api.keys import revoke_key

        key = revoke_key(_engine(), key_id)
        typer.echo(f"revoked {key.id} ({key.scope})")
