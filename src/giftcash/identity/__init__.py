"""Identity: customers (sign-up, SMS codes, tokens: ``customers``), signing out
(``sessions``), operators (``operators``), short secrets and their hashes (``secrets``),
own-name bank accounts proven by a 1-won deposit (``bank_accounts``), and customers as
the operators look them up (``customer_lookup``).

Storage: ``adapters/db/repositories_customers.py``, ``repositories_customer_lookup.py``."""
