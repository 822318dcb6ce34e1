"""The application shell: QApplication start-up and the main window that composes the areas."""
