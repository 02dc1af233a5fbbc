"""Privacy duties (issue 14, item 4): the retention schedule applied (``purge``), the
customer's own data and withdrawal (``own_data``, ``withdrawal``), and the log of console
views of personal data (``access_log``)."""
