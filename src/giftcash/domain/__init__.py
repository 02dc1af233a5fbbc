"""The pure core of giftcash: standard library only (a test checks it)."""
