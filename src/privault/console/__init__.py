"""Web pages people read: the one home of server-rendered pages and their templates.

* ``preferences`` -- the customers' preference centre (``/preferences/{token}``);
* ``report``      -- the employees' incident report form (``/incidents/report``);
* ``pages``       -- one layout, one set of security headers, rendered in the reader's
  language with right-to-left for Urdu (templates under ``templates/``);
* ``csrf``        -- the one CSRF protection of every form;
* ``services``    -- what the pages are given (``PageServices`` on ``app.state.pages``);
* ``routes``      -- ``mount_pages(app, services)``.
"""
