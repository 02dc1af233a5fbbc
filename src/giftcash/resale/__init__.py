"""Resale, the buyer's side (issue 15 items 2 and 3): orders paid by deposit to a virtual
account. So far: the handling of one deposit (deposits.py)."""
