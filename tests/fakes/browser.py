"""A person's browser, as far as linking a Quay account needs one: a cookie jar per host and port,
redirects followed one by one, the URL fragment kept in the browser (never sent), forms submitted,
and the callback page's one script run as a browser would (read the fragment, post the form).

It is signed in to Quay as `quay_user` (Quay's session cookie, sent only to Quay's address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

from tests.fakes.quay_oauth import SESSION_COOKIE


@dataclass
class Page:
    url: str  # without the fragment: what the server saw
    fragment: str
    status: int
    text: str
    headers: httpx.Headers


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"id": found.get("id"), "action": found.get("action"), "fields": {}})
        elif tag == "input" and self.forms and found.get("name"):
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[str(found["name"])] = found.get("value") or ""


@dataclass
class Browser:
    quay_url: str
    quay_user: str | None = None
    jars: dict[str, dict[str, str]] = field(default_factory=dict)  # origin -> cookies (a browser keys by site)
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(trust_env=False, timeout=15, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def cookies_for(self, url: str) -> dict[str, str]:
        cookies = dict(self.jars.get(self._origin(url), {}))
        if self.quay_user and self._origin(url) == self._origin(self.quay_url):
            cookies[SESSION_COOKIE] = self.quay_user
        return cookies

    def request(self, method: str, url: str, data: dict[str, str] | None = None, *, follow: bool = True) -> Page:
        for _ in range(10):
            address, _, fragment = url.partition("#")
            self.history.append(url)
            cookies = self.cookies_for(address)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
            response = self.http.request(method, address, data=data, headers=headers)
            self._keep(address, response)
            location = response.headers.get("location")
            if not follow or response.status_code not in (301, 302, 303, 307, 308) or location is None:
                return Page(address, fragment, response.status_code, response.text, response.headers)
            url, method, data = urljoin(address, location), "GET", None
        raise AssertionError("too many redirects")

    def _keep(self, url: str, response: httpx.Response) -> None:
        jar = self.jars.setdefault(self._origin(url), {})
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            expired = "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower()
            if expired or value in ('""', ""):
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value

    def get(self, url: str, *, follow: bool = True) -> Page:
        return self.request("GET", url, follow=follow)

    def submit(self, page: Page, form_id: str | None = None, **values: str) -> Page:
        """Submit the page's form (the first, or the one with `form_id`), as a person pressing its button."""
        parser = _Forms()
        parser.feed(page.text)
        form = next(f for f in parser.forms if form_id is None or f["id"] == form_id)
        fields = dict(form["fields"])  # type: ignore[call-overload]
        fields.update(values)
        return self.request("POST", urljoin(page.url, str(form["action"])), {k: str(v) for k, v in fields.items()})

    def run_callback_script(self, page: Page) -> Page:
        """What the callback page's inline script does: read `access_token` from the fragment and post
        it with the page's form. Only a script carrying the CSP nonce would run."""
        policy = page.headers.get("content-security-policy", "")
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None and f'<script nonce="{nonce.group(1)}">' in page.text, "no script may run"
        assert "location.hash" in page.text and "history.replaceState" in page.text
        token = dict(parse_qsl(page.fragment)).get("access_token")
        if token is None:
            return page  # the script only says that nothing came back
        return self.submit(page, "f", access_token=token)
