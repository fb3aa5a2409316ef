"""One way to answer with a page: the template, plus what every page shows (language, viewer, flash)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from app.http.auth import Actor
from app.pages import i18n
from app.pages.formatting import shanghai_time, yuan
from app.pages.sessions import take_flash

TEMPLATES = Path(__file__).parent / "templates"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg", "j2"]),
        # A name the handler forgot to pass is an error in tests, never an empty space on a page.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["yuan"] = yuan
    environment.filters["shanghai"] = shanghai_time
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def language(request: Request[Any, Any, Any]) -> str:
    return i18n.language_of(request.cookies.get(i18n.LANGUAGE_COOKIE))


def page(
    request: Request[Any, Any, Any],
    template: str,
    viewer: Actor | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    lang = language(request)
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "lang": lang,
            "t": i18n.translator(lang),
            "state_name": lambda state: i18n.state_name(state, lang),
            "kind_name": lambda kind: i18n.kind_name(kind, lang),
            "deposit_state_name": lambda state: i18n.deposit_state_name(state, lang),
            "waterfall_basis": lambda rule: i18n.waterfall_basis(rule, lang),
            "viewer": viewer,
            "flash": take_flash(request),
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **context,
        },
    )


# What a Location header may carry as it is; anything else is percent-encoded (a Chinese query value,
# a space), so no target can split the header or fail to encode.
_URL_SAFE = "/?=&%#:;,+@!$'()*~.-_"


def safe_next(target: str | None) -> str:
    """A redirect target of our own: a local path, never another site ("//host" or "http://")."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return quote(target, safe=_URL_SAFE)


def to_login(request: Request[Any, Any, Any]) -> Redirect:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/login?next={quote(here, safe='')}", status_code=303)
