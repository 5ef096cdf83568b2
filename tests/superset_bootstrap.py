"""Initialise a fresh Superset metadata database in one Python process (run by the Superset venv's python).

Why one process: `superset db upgrade`, `superset fab create-admin` and `superset init` as three CLI calls
pay Superset's 6–9 s of imports three times (STACK_NOTES.md). This script does the same three steps
after one import. It never imports project code: it runs under Superset's own interpreter.

Environment: SUPERSET_CONFIG_PATH (the config module), SPRX_SUPERSET_ADMIN_USERNAME and
SPRX_SUPERSET_ADMIN_PASSWORD (the admin to create; the password is read from the environment so it
never appears on a command line).
"""

from __future__ import annotations

import os
from pathlib import Path


def main() -> None:
    import superset
    from flask_migrate import upgrade
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import appbuilder, security_manager
        from superset.extensions import db

        upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        username = os.environ["SPRX_SUPERSET_ADMIN_USERNAME"]
        if security_manager.find_user(username=username) is None:
            user = security_manager.add_user(
                username,
                "Test",
                "Admin",
                f"{username}@example.invalid",
                security_manager.find_role("Admin"),
                password=os.environ["SPRX_SUPERSET_ADMIN_PASSWORD"],
            )
            if not user:
                raise SystemExit(f"could not create the Superset admin user {username!r}")
        db.session.commit()


if __name__ == "__main__":
    main()
