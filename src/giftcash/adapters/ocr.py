"""Printed text by Tesseract (Debian's ``tesseract-ocr``, with ``tesseract-ocr-kor`` where
installed), for the expiry date a coupon prints. Optional: where the binary is missing,
``TesseractOcr.if_installed()`` answers None and scans read no expiry (the issuer's
answer wins anyway).

The picture goes to the child process through a pipe and its text comes back the same
way: nothing is written to a disk. One thread per run (OMP_THREAD_LIMIT) and a timeout, so
a scan's OCR neither takes every core nor waits without end.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess

from PIL import Image

TIMEOUT_S = 10.0
MAX_SIDE_PX = 1600  # a phone screenshot's print reads well at this size; bigger is slower
LANGS = ("kor", "eng")


class TesseractOcr:
    def __init__(self, binary: str, langs: str, timeout_s: float = TIMEOUT_S) -> None:
        self.binary, self.langs, self.timeout_s = binary, langs, timeout_s

    @classmethod
    def if_installed(cls) -> TesseractOcr | None:
        binary = shutil.which("tesseract")
        if binary is None:
            return None
        try:
            listed = subprocess.run(  # noqa: S603 - the binary found on PATH, no shell
                [binary, "--list-langs"], capture_output=True, text=True, timeout=TIMEOUT_S
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            return None
        langs = "+".join(lang for lang in LANGS if lang in listed)
        return cls(binary, langs) if langs else None

    def text(self, grey: Image.Image) -> str | None:
        """The image's printed text, or None when Tesseract fails or takes too long."""
        picture = grey
        if max(grey.size) > MAX_SIDE_PX:
            picture = grey.copy()
            picture.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
        buf = io.BytesIO()
        picture.save(buf, "PNG")
        if picture is not grey:
            picture.close()
        command = [self.binary, "stdin", "stdout", "-l", self.langs, "--psm", "11"]
        try:
            done = subprocess.run(  # noqa: S603 - a fixed command line, no shell
                command,
                input=buf.getvalue(),
                capture_output=True,
                timeout=self.timeout_s,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None
