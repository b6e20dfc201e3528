"""Optical character recognition through the ``tesseract`` and ``pdftoppm`` programs.

A scanned page has no text to extract, only a picture of it. Tesseract (Debian's
``tesseract-ocr`` with a language's data, ``tesseract-ocr-eng`` for English) reads an
image; Poppler's ``pdftoppm`` (``poppler-utils``) first renders a PDF page as one. Both
run as child processes: no shell, arguments as a list, a time limit per page, and one
OpenMP thread (Tesseract's default of one per core only slows a busy server down).

Where a program is missing, :class:`OcrTools` says so and the reader raises
``OCR_UNAVAILABLE`` with what to install, rather than returning nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import TextFileError

RENDER_DPI = 300
"""Resolution pdftoppm renders a page at: Tesseract reads best at about 300 dpi."""

_LANGUAGE = re.compile(r"[A-Za-z_]{2,16}(?:\+[A-Za-z_]{2,16})*")
_MISSING_LANGUAGE = re.compile(r"Failed loading language '([^']+)'")


@dataclass(frozen=True)
class OcrTools:
    """Where ``tesseract`` and ``pdftoppm`` are (None when missing), the language(s) to
    read (``"eng"``, ``"eng+deu"``) and the time allowed per page."""

    tesseract: str | None
    pdftoppm: str | None
    language: str = "eng"
    timeout_s: float = 120.0

    @classmethod
    def find(
        cls, *, language: str = "eng", timeout_s: float = 120.0, search_path: str | None = None
    ) -> OcrTools:
        """The programs found on ``search_path`` (the ``PATH`` by default)."""
        if not _LANGUAGE.fullmatch(language):
            raise TextFileError(
                "OCR_UNAVAILABLE",
                f"{language!r} is not a Tesseract language name such as 'eng' or 'eng+deu'.",
                {"language": language},
            )
        return cls(
            tesseract=shutil.which("tesseract", path=search_path),
            pdftoppm=shutil.which("pdftoppm", path=search_path),
            language=language,
            timeout_s=timeout_s,
        )

    @property
    def available(self) -> bool:
        """Whether both programs are there (images need only ``tesseract``)."""
        return self.tesseract is not None and self.pdftoppm is not None

    def require(self, *programs: str) -> None:
        """Raise ``OCR_UNAVAILABLE`` naming the Debian package of each missing program."""
        packages = {"tesseract": "tesseract-ocr", "pdftoppm": "poppler-utils"}
        missing = [p for p in programs if getattr(self, p) is None]
        if missing:
            names = " and ".join(packages[p] for p in missing)
            raise TextFileError(
                "OCR_UNAVAILABLE",
                f"This file needs OCR, which is not installed on the server: install {names} "
                "(apt-get install tesseract-ocr tesseract-ocr-eng poppler-utils), or upload "
                "the text itself (a PDF with a text layer, or TXT).",
                {"missing": missing},
            )

    def image_text(self, image: Path) -> str:
        """The text Tesseract reads in ``image`` (PNG, JPEG, TIFF); a multi-page TIFF's
        pages are separated by form feeds."""
        self.require("tesseract")
        command = [str(self.tesseract), str(image), "stdout", "-l", self.language]
        out = self._run(command, "Tesseract")
        return out.decode("utf-8", errors="replace")

    def pdf_page_text(self, pdf: Path, page: int) -> str:
        """The text of ``pdf``'s page ``page`` (1-based), rendered and read."""
        self.require("pdftoppm", "tesseract")
        with tempfile.TemporaryDirectory(prefix="augury-ocr-") as folder:
            prefix = Path(folder) / "page"
            self._run(
                [
                    str(self.pdftoppm),
                    "-r",
                    str(RENDER_DPI),
                    "-gray",
                    "-png",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(pdf),
                    str(prefix),
                ],
                "pdftoppm",
            )
            return self.image_text(prefix.with_suffix(".png"))

    def _run(self, command: list[str], program: str) -> bytes:
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=self.timeout_s, check=False, env=env
            )
        except subprocess.TimeoutExpired:
            raise TextFileError(
                "OCR_TIMEOUT",
                f"{program} took more than {self.timeout_s:g} s on one page; upload a smaller "
                "or clearer scan, or the text itself.",
                {"timeout_s": self.timeout_s},
            ) from None
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", errors="replace").strip()
            missing = _MISSING_LANGUAGE.search(error)
            if missing:
                raise TextFileError(
                    "OCR_UNAVAILABLE",
                    f"Tesseract has no data for the language {missing[1]!r}: install "
                    f"tesseract-ocr-{missing[1].lower()}, or read the file as another language.",
                    {"language": missing[1]},
                )
            raise TextFileError(
                "OCR_FAILED",
                f"{program} could not read the file: {error.splitlines()[-1] if error else ''}"
                " Check that it is a valid image or PDF.",
                {"program": program, "exit_status": done.returncode, "stderr": error[-2000:]},
            )
        return done.stdout
