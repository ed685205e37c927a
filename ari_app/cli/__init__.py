"""The `secretary` command and its subcommands."""
