"""Readers of uploads that are pages: PDFs (text layer, else OCR) and scanned images.

Each is ONE document: the pages' texts joined by :data:`~._table.PAGE_SEPARATOR`, with
each page's span kept so a person can mark a page done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pypdf

from ._ocr import OcrTools
from ._table import PAGE_SEPARATOR, DocumentTable, clean
from .errors import TextFileError


def read_pdf(
    path: Path, tools: OcrTools, progress: Callable[[int, int], None] | None
) -> DocumentTable:
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise TextFileError(
                "PDF_ENCRYPTED",
                "The PDF is protected by a password: upload it without the protection.",
            )
        pages = reader.pages
        count = len(pages)
    except TextFileError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError ... on a bad file
        raise TextFileError(
            "INVALID_PDF", f"The file is not a PDF we can read ({exc}): export it again."
        ) from None
    texts = []
    warnings = []
    for i in range(count):
        try:
            texts.append(clean(pages[i].extract_text() or "").strip())
        except Exception:  # one broken page (a bad font or stream) must not lose the others
            texts.append("")
            warnings.append(f"Page {i + 1}'s text layer could not be read.")
    scanned = [i for i, text in enumerate(texts) if not text]
    if scanned and tools.available:
        for done, i in enumerate(scanned, start=1):
            texts[i] = clean(tools.pdf_page_text(path, i + 1)).strip()
            if progress:
                progress(done, len(scanned))
    elif scanned and len(scanned) == count:
        tools.require("pdftoppm", "tesseract")
    elif scanned:
        warnings.append(
            f"{len(scanned)} of {count} pages have no text layer and were left empty: OCR "
            "(tesseract-ocr, poppler-utils) is not installed."
        )
    return _one_document("pdf", texts, ocr=bool(scanned) and tools.available, warnings=warnings)


def read_image(
    path: Path, tools: OcrTools, progress: Callable[[int, int], None] | None
) -> DocumentTable:
    # Tesseract ends each page with a form feed.
    text = clean(tools.image_text(path)).rstrip().removesuffix("\f")
    if progress:
        progress(1, 1)
    return _one_document("image", [page.strip() for page in text.split("\f")], ocr=True)


def _one_document(
    format: str, pages: list[str], *, ocr: bool, warnings: list[str] | None = None
) -> DocumentTable:
    """One row whose text is the pages joined by blank lines, with their spans."""
    if not any(_has_words(page) for page in pages):
        how = "even after OCR" if ocr else "in its text layer"
        raise TextFileError(
            "NO_TEXT",
            f"No text was found in the {format.upper() if format == 'pdf' else format} "
            f"{how}: upload a clearer scan or the text itself.",
        )
    spans = []
    start = 0
    for page in pages:
        spans.append((start, start + len(page)))
        start += len(page) + len(PAGE_SEPARATOR)
    return DocumentTable(
        format,
        ["text"],
        [[PAGE_SEPARATOR.join(pages)]],
        pages=spans,
        ocr=ocr,
        warnings=warnings or [],
    )


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)
