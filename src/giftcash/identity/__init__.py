"""Identity: customers (sign-up, SMS codes, tokens), sessions, operators, short secrets
and own-name bank accounts proven by a 1-won deposit.

Storage: ``adapters/db/repositories_customers.py``."""
