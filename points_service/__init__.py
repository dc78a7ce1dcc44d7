"""Red Points core: settings, database, ledger, auth, org tree and members, the member API, the CLI."""
