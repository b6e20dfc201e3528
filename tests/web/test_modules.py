"""The UI's ES modules hang together without a build step, and are served as scripts.

Each page loads ``static/js/pages/<page>.js`` as a module, which imports the shared
modules by relative URL. Nothing bundles or checks them before a browser does, so this
checks what a broken link would otherwise show only as a blank page: every page has its
module, every import names a file that exists and a name that file exports, and the
server answers the modules with a JavaScript type (a module script with any other type
is refused, ``nosniff`` or not).
"""

from __future__ import annotations

import re
from pathlib import Path

from augury.web import router as web

JS = web.STATIC / "js"
PAGES = JS / "pages"

IMPORT = re.compile(r'^import \{([^}]*)\} from "([^"]+)";', re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function|const|let|class) ([\w$]+)", re.M)
PAGE = re.compile(r'_page\(\s*request,\s*[^,]+,\s*f?"([\w{}-]+)"')


def _modules() -> list[Path]:
    return sorted(JS.rglob("*.js"))


def _page_names() -> set[str]:
    """Every ``data-page`` the router renders (the settings tabs are made in a loop)."""
    source = Path(web.__file__).read_text()
    names = {n for n in PAGE.findall(source) if "{" not in n}
    names |= {f"settings-{tab}" for tab, _ in web.SETTINGS_TABS}
    return names | {"not-found"}


def test_every_page_has_its_module_and_every_page_module_a_page():
    pages = _page_names()
    assert {"home", "login", "alerts", "settings-members"} <= pages
    modules = {p.stem for p in PAGES.glob("*.js")}
    assert pages == modules


def test_every_import_names_a_module_that_exports_it():
    exports = {path: set(EXPORT.findall(path.read_text())) for path in _modules()}
    imported: set[tuple[Path, str]] = set()
    for path in _modules():
        for names, target in IMPORT.findall(path.read_text()):
            assert target.startswith("."), (path, target)
            source = (path.parent / target).resolve()
            assert source in exports, f"{path.name} imports a missing {target}"
            for name in (n.strip() for n in names.split(",")):
                assert name in exports[source], f"{path.name}: {target} exports no {name}"
                imported.add((source, name))
    # An export nobody imports is dead code (pages export nothing: they start themselves).
    unused = {(p.name, n) for p, ns in exports.items() for n in ns if (p, n) not in imported}
    assert not unused


def test_modules_import_only_each_other_by_name():
    """No bare specifier (it would need a bundler or an import map), no default or
    namespace import (the check above reads named imports only), no CommonJS."""
    for path in _modules():
        text = path.read_text()
        for line in re.findall(r"^import\b.*$", text, re.M):
            assert IMPORT.match(line) and ('"./' in line or '"../' in line), (path.name, line)
        assert "require(" not in text and "module.exports" not in text, path


def test_pages_load_their_module_from_this_versions_path(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert f'<script type="module" src="{web.MODULES_URL}/js/pages/login.js">' in r.text
    assert web.MODULES_URL.endswith(web.__version__)


def test_modules_are_served_as_javascript_with_the_security_headers(client):
    for path in _modules():
        url = web.MODULES_URL + "/" + path.relative_to(web.STATIC).as_posix()
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].split(";")[0] in (
            "text/javascript",
            "application/javascript",
        )
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get(web.MODULES_URL + "/js/nowhere.js").status_code == 404
