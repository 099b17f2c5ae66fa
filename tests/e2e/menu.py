"""Under 700 px the main navigation folds behind "Menu" (static/js/menu.js): a test that uses
a navigation link or "Sign out" on a phone opens it first, as a person would."""


def open_menu(page) -> None:
    """Open the main navigation's "Menu" if it is shown and closed; otherwise do nothing."""
    button = page.get_by_role("navigation", name="Main").get_by_role("button", name="Menu")
    if button.count() and button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
