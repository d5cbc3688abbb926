"""The staff web app: sign-in, roles and CSRF (``auth``) and the pages built on it."""
