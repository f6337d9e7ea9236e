"""The access gate: the only way to plaintext customer data, decided, viewed and audited."""
