"""The demo on the terminal: a progress bar while it seeds, then where to go and who to be."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.demo.orchestrator import SeedReport
from app.demo.participants import DEMO_PARTICIPANTS
from app.settings import Settings


class RichProgress:
    """The seed's steps as a bar (rich draws it only on a terminal; a log gets the summary)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def begin(self, total: int) -> None:
        if total == 0:
            return
        self._bar = Progress(
            TextColumn("[bold]demo market[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
        )
        self._bar.start()
        self._task = self._bar.add_task("", total=total)

    def advance(self, label: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=label)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def base_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port}"


def summary_lines(report: SeedReport, settings: Settings) -> list[tuple[str, str]]:
    """(what, URL) in the order a newcomer wants them."""
    base = base_url(settings)
    lines = [("catalogue", f"{base}/")]
    if report.room_auction_id is not None:
        lines.append(("a live room", f"{base}/auctions/{report.room_auction_id}"))
    if report.session_id is not None:
        lines.append(("the session (JSON)", f"{base}/api/v1/sessions/{report.session_id}"))
    lines += [
        ("bank desk", f"{base}/desk/bank"),
        ("agency desk", f"{base}/desk/agency"),
        ("clearing desk", f"{base}/desk/clearing"),
        ("log in", f"{base}/login"),
        ("API docs", f"{base}/schema"),
    ]
    return lines


def print_summary(report: SeedReport, settings: Settings, console: Console | None = None) -> None:
    out = console or Console()
    urls = Table(title="ipx demo market", show_header=False, box=None)
    for what, url in summary_lines(report, settings):
        urls.add_row(what, url)
    out.print(urls)
    logins = Table(title="demo logins (paste the key at /login, or send it as a Bearer key)")
    logins.add_column("name")
    logins.add_column("roles")
    logins.add_column("key")
    for participant in DEMO_PARTICIPANTS:
        logins.add_row(participant.name, ", ".join(participant.roles), participant.api_key)
    out.print(logins)
    if settings.demo_quiet:
        out.print("simulated bidders: off (--demo-quiet)")
    else:
        out.print(
            "simulated bidders: on (Gamma, Delta and Beta bid by themselves; --demo-quiet turns them off)"
        )
