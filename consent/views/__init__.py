"""Views of the consent app: the creator's preferences, grants, mandates and history
(``preferences``), and the machine-readable signals (``signals``)."""
