"""Head office ("office"): server-rendered pages under /office for admins, regional users and viewers.

`plugin.Office` is a Litestar plugin that the app factory adds: it brings the office's routes (behind
its session, CSRF and sign-in middleware, in that order), its static files under /office/static
(never under /static, which every phone precaches), the sessions store, the template engine over
the site's one jinja2 environment, and the office's own error page. The modules beside this one:

    access.py    who is signed in (middleware), roles (guards), the way back to the sign-in page
    accounts.py  passwords (argon2id), adding and disabling people, checking a sign-in
    sessions.py  Litestar's server-side sessions in a SQLite file beside the database
    render.py    strings (strings.toml), the office's clock, content titles, the page renderer
    forms.py     what forms and URLs carry, as msgspec Structs
    signin.py, home.py, incidents.py, records.py, register.py, devices.py, people.py, photos.py
                 the routes, thin: parse, authorise, call queries/writes, render
    exports.py   CSV, XLSX and ZIP, streamed
    plugin.py    the plugin: routes, middleware, stores, templates, the error page
    cli.py       `posaid users …`, `posaid terminals …`, `posaid staff …`
"""
