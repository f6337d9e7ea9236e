"""Web pages people read (preference centre, incident form): one layout, one set of
security headers, rendered in the reader's language with right-to-left for Urdu."""
