"""``giftcash selftest``: harnesses that try to make the exchange pay twice or lose a won
(workers killed with SIGKILL, simulators that fail, a demo killed mid-batch) and count,
from both sides, whether it did. See ``registry`` to add a scenario."""
