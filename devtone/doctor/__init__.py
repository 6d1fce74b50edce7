"""The doctor: what a browser (or `flask --app devtone doctor URL`) saw of devtone through
the proxy in front of it, and what that says is broken and how to fix it.

`observations` reads what was seen, `checks` judges it, `fixes` says what to change in
nginx, Apache, a CDN or devtone; `probe` sees it from the command line. The rules live
here only: the admin's page gathers timings in the browser and asks the server to judge.
"""
