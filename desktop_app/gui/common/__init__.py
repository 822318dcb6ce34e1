"""What every area of the window shares: text, tables, background workers, settings,
menus, message dialogs, desktop integration and Qt compatibility checks."""
