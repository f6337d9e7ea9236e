"""Customers: sealed records, blind-index lookup, import.  Plaintext reads are internal
to the library; outside it, data leaves only through the access gate."""
