"""The Rasa side: pipeline components and launchers. The only package that imports ``rasa``,
and only the Rasa environment imports it (``config.yml`` names its classes)."""
