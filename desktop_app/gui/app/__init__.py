"""The application shell: QApplication, settings, the main window, menus and shared widgets."""
