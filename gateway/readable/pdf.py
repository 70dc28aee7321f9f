"""Readable pages as PDF, through WeasyPrint (a well-kept HTML/CSS to PDF library).

The page is laid out with no access to anything outside it: the URL fetcher refuses every
fetch (no network, no local files), so a document cannot make the renderer read or call
anything. Chinese text needs a CJK font installed on the machine (Debian:
``fonts-wqy-microhei`` or ``fonts-noto-cjk``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from gateway.errors import UnsafeInputError


class PdfUnavailable(RuntimeError):
    """WeasyPrint is not installed (``pip install 'lingang-gateway[pdf]'``)."""


def render_pdf(html: str) -> bytes:
    """The PDF of a readable page."""
    try:
        import weasyprint  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise PdfUnavailable(
            "PDF output needs WeasyPrint: pip install 'lingang-gateway[pdf]'"
        ) from exc
    document = weasyprint.HTML(string=html, url_fetcher=_refusing_fetcher(weasyprint))
    data: bytes = document.write_pdf()
    return data


def _refusing_fetcher(weasyprint: Any) -> Any:
    """A fetcher that refuses every URL: WeasyPrint's ``URLFetcher`` class where it has one
    (newer releases), else a plain function (older ones)."""
    base = getattr(getattr(weasyprint, "urls", None), "URLFetcher", None)
    if base is None:
        return _refuse_fetch

    class RefusingFetcher(base):  # type: ignore[misc,valid-type]
        def fetch(self, url: str, headers: Any = None) -> NoReturn:
            _refuse_fetch(url)

    return RefusingFetcher()


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise UnsafeInputError(f"a readable page fetches nothing ({url[:80]!r} refused)")
