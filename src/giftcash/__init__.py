"""giftcash: a gift-certificate cash-out exchange."""

__version__ = "0.1.0"
