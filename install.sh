#!/usr/bin/env bash
# Sets giftcash up on a fresh machine: a virtual environment in .venv with the pinned
# dependencies (constraints.txt), and Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed; the browser tests will be skipped" >&2
  fi
fi
# Korean glyphs for the browser tests' screenshots (without them Hangul renders as boxes).
if command -v chromium >/dev/null 2>&1 && ! fc-list 2>/dev/null | grep "Noto Sans CJK KR" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's fonts-noto-cjk for Korean pages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "note: fonts-noto-cjk is not installed; Korean text in screenshots shows as boxes" >&2
  fi
fi
# Korean OCR of a coupon's printed expiry on the scan pages (optional: without it the
# expiry is left to the issuer's answer, which wins anyway).
if ! command -v tesseract >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's tesseract-ocr and tesseract-ocr-kor for printed expiry dates"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-kor >/dev/null
  else
    echo "note: tesseract is not installed; scans will not read printed expiry dates" >&2
  fi
fi
echo "giftcash is installed: .venv/bin/giftcash --help"
